"""Importing any gaedu module does no work: no output, no data, no heavy imports, nothing of the book's build."""

import pkgutil
import subprocess
import sys

import gaedu

MOVED = {"gaedu.operators": "gaedu.restoration", "gaedu.denoiser": "gaedu.restoration.denoiser", "gaedu.dip": "gaedu.restoration.dip"}
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(gaedu.__path__, "gaedu.") if m.name != "gaedu.__main__" and m.name not in MOVED
)


def test_every_module_imports_silently_and_lazily():
    code = (
        "import sys, importlib\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "print('sklearn' in sys.modules, 'sphinx' in sys.modules)\n"
        "import gaedu.data\n"
        "print(gaedu.data._digits_arrays.cache_info().currsize)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    # scikit-learn is imported, and the digits loaded, only when a function asks for them;
    # Sphinx (the book's build, not a dependency of the package) never is
    assert result.stdout.split() == ["False", "False", "0"]


def _lint_imports(root, cwd) -> subprocess.CompletedProcess:
    """import-linter's layers contract (pyproject.toml), on the package found first in ``root``."""
    import os
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", str(Path(cwd) / "pyproject.toml")]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)


def test_the_layers_hold_and_an_upward_import_breaks_them(tmp_path):
    import shutil
    from pathlib import Path

    repo = Path(gaedu.__file__).resolve().parents[1]
    assert _lint_imports(repo, repo).returncode == 0
    copy = tmp_path / "gaedu"
    shutil.copytree(repo / "gaedu", copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo / "pyproject.toml", tmp_path)
    with open(copy / "device.py", "a", encoding="utf-8") as file:  # the bottom layer reaching for the top
        file.write("\n\ndef _upward():\n    import gaedu.zoo  # noqa: F401\n")
    result = _lint_imports(tmp_path, tmp_path)
    assert result.returncode == 1 and "gaedu.device is not allowed to import gaedu.zoo" in result.stdout, result.stdout


def test_a_moved_module_still_imports_warns_once_and_forwards_every_name():
    import importlib
    import warnings

    for old, new in MOVED.items():
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            alias = importlib.import_module(old)
        assert [str(w.message).split(";")[0] for w in caught] == [f"{old} moved to {new}"]
        assert caught[0].category is DeprecationWarning
        target = importlib.import_module(new)
        assert all(getattr(alias, name) is getattr(target, name) for name in dir(target) if not name.startswith("__"))


def _cycles(graph, modules) -> list[list[str]]:
    """Every import cycle among ``modules`` (depth-first search), each as the chain that closes it."""
    state, found = {}, []

    def visit(module, chain):
        state[module] = "open"
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if state.get(imported) == "open":
                found.append(chain[chain.index(imported) :] + [imported])
            elif imported not in state:
                visit(imported, chain + [imported])
        state[module] = "done"

    for module in sorted(modules):
        if module not in state:
            visit(module, [module])
    return found


def test_the_import_graph_has_no_cycle():
    import grimp

    graph = grimp.build_graph("gaedu")
    # a package's __init__ re-exports its modules (gaedu.restoration -> gaedu.restoration.tv): not a dependency of theirs
    packages = {m for m in graph.modules if graph.find_children(m)}
    modules = graph.modules - packages
    assert _cycles(graph, modules) == []


def test_the_cycle_search_finds_a_cycle():
    class Graph:  # a -> b -> c -> a, and c -> d
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert _cycles(Graph(), {"a", "b", "c", "d"}) == [["a", "b", "c", "a"]]


def test_gaedu_imports_gaedu_at_the_top_of_its_modules():
    """A function-level import hides the real graph: only the command line keeps them (its comment says why), and
    an import whose line gives its reason in a comment."""
    import ast
    from pathlib import Path

    root = Path(gaedu.__file__).parent
    hidden = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if "#" in lines[getattr(inner, "lineno", 1) - 1]:
                        continue  # the reason is given
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("gaedu"):
                        hidden.append(f"{path.relative_to(root)}:{inner.lineno}")
                    elif isinstance(inner, ast.Import) and any(a.name.startswith("gaedu") for a in inner.names):
                        hidden.append(f"{path.relative_to(root)}:{inner.lineno}")
    assert hidden == []
