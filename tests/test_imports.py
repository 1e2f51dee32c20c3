"""Importing any gaedu module does no work: no output, no data, no heavy imports, nothing of the book's build."""

import pkgutil
import subprocess
import sys

import gaedu

MODULES = sorted(f"gaedu.{m.name}" for m in pkgutil.iter_modules(gaedu.__path__) if m.name != "__main__")


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
