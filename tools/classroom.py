"""Write nbgrader assignments and Otter-Grader master notebooks from the chapter notebooks (``make classroom``).

For every chapter with exercises it writes, under ``_build/classroom/nbgrader``:

* ``source/<chapter>/<chapter>.ipynb``: the chapter with nbgrader's cell metadata. Each
  exercise that ends with a checker gets an *answer* cell (``nbgrader.solution``) holding the
  chapter's solution code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and after
  it a locked *grade* cell (``nbgrader.grade``, one point) with the solution's checker call
  (:mod:`gaedu.exercises`): a wrong answer raises, which nbgrader scores 0. The solution
  cells are left out; exercises without a checker keep their starting code. An exercise
  with a written part (no checker, or a question why: :data:`_WRITTEN`) ends with a
  *manually graded answer* (a markdown cell of one point, listed by formgrader) that holds
  the chapter's solution text for the teacher.
* ``release/<chapter>/<chapter>.ipynb``: the student version, made by nbgrader's own
  ``generate_assignment`` (solutions replaced by ``raise NotImplementedError()``).
* ``nbgrader_config.py``: the course folder's configuration.

and under ``_build/classroom/otter``:

* ``<chapter>.ipynb``: a master notebook in Otter-Grader's format (an ``# ASSIGNMENT
  CONFIG`` cell; for each graded exercise a ``# BEGIN QUESTION`` … ``# END QUESTION``
  block with the solution and, as its test, a function of the notebook's names that calls
  the checker). ``otter assign <chapter>.ipynb <chapter>`` turns it into ``student/`` and
  ``autograder/`` versions, after checking that the solutions pass their tests.
* ``gaedu-<version>-py3-none-any.whl``: the package, built by its own build; each
  master's configuration puts it in the autograder zip, whose environment installs it
  with gaedu's dependencies at the book's versions (:func:`autograder_requirements`).

Everything comes from the chapters' ``solution`` tags and checker calls, so there is one
source of truth. ``--check`` then runs ``nbgrader validate`` on every source notebook
(each must pass) and every released one (each must fail), and ``otter assign`` on every
master (each must succeed), two at a time.

Usage: .venv/bin/python -m tools.classroom [--out _build/classroom] [--check]
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import io
import os
import re
import shutil
import signal
import subprocess
import symtable
import sys
import tempfile
import tokenize
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import tomllib

from tools.exercise_counts import _LABEL, _SOLUTION
from tools.student_edition import ROOT, chapter_notebooks, is_solution

SCHEMA = 3  # nbgrader's cell-metadata schema
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks that have exercises, in the order of ``_toc.yml``."""
    return [path for path in chapter_notebooks(root) if "{exercise-start}" in path.read_text(encoding="utf-8")]


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _is_check(statement: ast.stmt) -> bool:
    """Whether a statement is a checker call standing alone, ``check_…(…)`` (a grade cell's kind of statement)."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("check_")


def is_grade_code(code: str) -> bool:
    """Whether ``code`` is what a grade cell holds: checker calls (:func:`_is_check`) and nothing else."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    return bool(body) and all(_is_check(statement) for statement in body)


def _split_checks(code: str) -> tuple[str, str]:
    """Split solution code into (answer, checker calls): the top-level ``check_…(…)`` statements go to the second.

    The statements are found by parsing the code (:mod:`ast`), so a call over several lines, or one
    whose arguments hold brackets in strings, moves as a whole; code that does not parse is all answer.
    """
    lines = code.splitlines()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code.strip("\n"), ""
    checked: set[int] = set()
    for node in tree.body:
        if _is_check(node):
            checked.update(range(node.lineno - 1, node.end_lineno))
    answer = [line for i, line in enumerate(lines) if i not in checked]
    checks = [line for i, line in enumerate(lines) if i in checked]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(answer)).strip("\n"), "\n".join(checks)


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _starting_point(stub: str) -> str:
    """The exercise's starting code, without its commented-out checker call: it names the answer
    (``best_lr = None  # your code here``), outside the solution region, so that a blank
    submission resets the name rather than leave the chapter's own value of it to be graded.

    The call is a comment, which :mod:`ast` does not keep: the comments are found by Python's own
    tokenizer (:mod:`tokenize`), so a line of a string that starts with ``# check_`` stays.
    """
    tokens = tokenize.generate_tokens(io.StringIO(stub).readline)
    commented = {token.start[0] for token in tokens if token.type == tokenize.COMMENT
                 and token.string.startswith("# check_") and not token.line[: token.start[1]].strip()}  # fmt: skip
    kept = [line for number, line in enumerate(stub.splitlines(), start=1) if number not in commented]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def _defined(code: str) -> set[str]:
    """The names a piece of code binds at its top level (assignments, functions, classes)."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def answer_names(checks: str) -> list[str]:
    """The names a grade cell's checker calls read: each argument must be a plain name (or a tuple of them)."""
    names = []
    for node in ast.parse(checks).body:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            raise ValueError(f"a grade cell holds only checker calls, not {ast.unparse(node)!r}")
        for arg in [*node.value.args, *(k.value for k in node.value.keywords)]:
            parts = arg.elts if isinstance(arg, ast.Tuple) else [arg]
            if not all(isinstance(part, ast.Name) for part in parts):
                raise ValueError(f"the checker call {ast.unparse(node)!r} reads {ast.unparse(arg)!r}, which is not a "
                                 "name: pass the answer under the name the starting code defines")  # fmt: skip
            names += [part.id for part in parts if part.id not in names]
    return names


def _check_question(path: Path, label: str, stub: str, checks: str) -> None:
    """Refuse a graded exercise whose grade cell reads anything but names its starting code defines."""
    try:
        names = answer_names(checks)
    except ValueError as error:
        raise ValueError(f"{path.name}, exercise {label}: {error}") from None
    missing = [name for name in names if name not in _defined(stub)]
    if missing:
        raise ValueError(f"{path.name}, exercise {label}: the grade cell reads {', '.join(missing)}, which the "
                         f"starting code does not define: start it with `{missing[0]} = None  # your code here`")  # fmt: skip


#: An exercise asks for writing when it has no checker, or when its text asks why, to explain, argue,
#: describe or compare, or what a result says or means: the teacher reads that part.
_WRITTEN = re.compile(r"\b(why|explain|argue|describe|compare|what does (this|that) (say|mean))\b", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^```\{solution-(start|end)\}[^`]*```\s*", re.S)


def _questions(path: Path):
    """Walk a chapter: yield ``("cell", cell)`` for every cell kept as it is,
    ``("question", label, stub, answer, checks)`` where an exercise with a checker
    starts (its starting code, its solution's answer code and its checker calls), and
    ``("written", label, model)`` before the end of an exercise with a written part
    (:data:`_WRITTEN`; ``model``: the text of the chapter's solution, for the teacher)."""
    notebook = nbformat.read(path, as_version=4)
    solutions: dict[str, list[str]] = {}
    explanations: dict[str, list[str]] = {}
    label = solution = None
    for cell in notebook.cells:  # first pass: every solution's code and text, by label
        text = _text(cell)
        if found := _SOLUTION.search(text):
            solution = found.group(1)
        if solution and cell.cell_type == "code":
            solutions.setdefault(solution, []).append(text)
        elif solution and (prose := _DIRECTIVE.sub("", text).strip()):
            explanations.setdefault(solution, []).append(prose)
        if "{solution-end}" in text:
            solution = None
    graded, asked = [], ""
    for cell in notebook.cells:
        text = _text(cell)
        if is_solution(cell):
            continue
        if found := _LABEL.search(text):
            label, asked = found.group(1), ""
        if label and cell.cell_type == "markdown":
            asked += text + "\n"
        answer, checks = _split_checks("\n\n".join(solutions.get(label or "", [])))
        if label and "{exercise-end}" in text and (not checks or _WRITTEN.search(asked)):
            yield "written", label, "\n\n".join(explanations.get(label, []))
        if label and cell.cell_type == "code" and checks and label not in graded:
            _check_question(path, label, text, checks)
            graded.append(label)
            yield "question", label, text, answer, checks
        else:
            cell = copy.deepcopy(cell)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            yield "cell", cell
        if "{exercise-end}" in text:
            label = None


def _assignment(path: Path, question, first: list | None = None, written=None) -> tuple[nbformat.NotebookNode, list[str]]:
    """The chapter with each graded exercise's cells made by ``question(label, stub, answer, checks)``
    (a list of cells) and each written part's by ``written(label, model)`` (none if ``None``),
    after the cells ``first``; and the labels of the exercises graded automatically."""
    notebook, graded = nbformat.read(path, as_version=4), []
    notebook.cells = list(first or [])
    for kind, *rest in _questions(path):
        if kind == "cell":
            notebook.cells.append(rest[0])
        elif kind == "question":
            graded.append(rest[0])
            notebook.cells.extend(question(*rest))
        elif written is not None:
            notebook.cells.extend(written(*rest))
    return notebook, graded


def _nbgrader_cells(label: str, stub: str, answer: str, checks: str) -> list:
    body = f"{_starting_point(stub)}\n{BEGIN}\n{answer}\n{END}" if answer else f"{BEGIN}\n{END}"
    answer_cell = nbformat.v4.new_code_cell(body)
    answer_cell.metadata["nbgrader"] = _meta(f"{label}-answer", solution=True, grade=False, locked=False)
    grade_cell = nbformat.v4.new_code_cell(checks)
    grade_cell.metadata["nbgrader"] = _meta(f"{label}-check", solution=False, grade=True, locked=True, points=1)
    return [answer_cell, grade_cell]


#: The written answer cell's text in the source when the chapter's solution has no text to show.
NO_MODEL = "(The chapter's solution is code only: read the answer against its output.)"


def _nbgrader_written(label: str, model: str) -> list:
    """A written part: a prompt, then a manually graded answer cell of one point (the teacher scores it in
    formgrader), which holds the chapter's solution text in the source and ``YOUR ANSWER HERE`` in the release."""
    prompt = nbformat.v4.new_markdown_cell(f"**Written answer to `{label}`** (read by the teacher): "
                                           "answer the exercise's questions in your own words in the next cell.")  # fmt: skip
    answer = nbformat.v4.new_markdown_cell(model or NO_MODEL)
    answer.metadata["nbgrader"] = _meta(f"{label}-written", solution=True, grade=True, locked=False, points=1)
    return [prompt, answer]


def written_labels(path: Path) -> list[str]:
    """The labels of the exercises of a chapter with a written part (a manually graded cell in nbgrader)."""
    return [rest[0] for kind, *rest in _questions(path) if kind == "written"]


def source_notebook(path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """Return the chapter as an nbgrader source notebook, and the labels of its exercises graded automatically."""
    return _assignment(path, _nbgrader_cells, written=_nbgrader_written)


def _free_names(code: str) -> list[str]:
    """The global names that ``code`` reads (builtins left out, lambdas and comprehensions looked into), in order of first use.

    :mod:`symtable` says which names are global; their first use is where :mod:`ast` first finds each.
    """

    def globals_of(table: symtable.SymbolTable) -> set[str]:
        found = {name for name in table.get_identifiers() if table.lookup(name).is_global()}
        return found.union(*(globals_of(child) for child in table.get_children()))

    body = "def _test():\n" + "\n".join(f"    {line}" for line in code.splitlines())
    names = globals_of(symtable.symtable(body, "<checks>", "exec").get_children()[0]) - set(dir(builtins))
    first: dict[str, tuple[int, int]] = {}
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and node.id in names:
            first[node.id] = min(first.get(node.id, (node.lineno, node.col_offset)), (node.lineno, node.col_offset))
    return sorted(names, key=lambda name: (first.get(name, (len(code) + 1, 0)), name))


def otter_test(label: str, checks: str) -> str:
    """An Otter exception-based test: a function of the names the checker calls read, calling them."""
    name = "test_" + re.sub(r"\W", "_", label)
    params = ", ".join(_free_names(checks))
    body = "\n".join(f"    {line}" for line in checks.splitlines())
    return f"def {name}({params}):\n{body}"


#: Where Gradescope and ``otter grade``'s Docker image unpack an autograder zip (its ``files/`` go below it).
AUTOGRADER_SOURCE = "/autograder/source"


def wheel_name(root: Path = ROOT) -> str:
    """The file name of the ``gaedu`` wheel that :func:`build_wheel` writes."""
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return f"gaedu-{version}-py3-none-any.whl"


def build_wheel(folder: Path, root: Path = ROOT) -> Path:
    """Build the ``gaedu`` wheel with the package's own build (setuptools, ``pyproject.toml``) into ``folder``.

    It is built from a copy of the package's files, so that no ``build/`` folder is left in the repository.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(root / name, Path(tmp) / name)
        shutil.copytree(root / "gaedu", Path(tmp) / "gaedu", ignore=shutil.ignore_patterns("__pycache__"))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                               "--disable-pip-version-check", "--wheel-dir", str(folder), tmp],
                              capture_output=True, text=True)  # fmt: skip
    wheel = folder / wheel_name(root)
    if done.returncode or not wheel.is_file():
        raise RuntimeError(f"building the gaedu wheel failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return wheel


def autograder_requirements(root: Path = ROOT) -> list[str]:
    """What Otter's autograder environment installs besides Otter: the ``gaedu`` wheel shipped in the zip,
    and gaedu's dependencies at the versions the book is tested with (``requirements.txt``)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]}
    pins = [line.split("#")[0].strip() for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    pinned = [pin for pin in pins if "==" in pin and pin.split("==")[0].strip().lower() in needed]
    return [f"{AUTOGRADER_SOURCE}/files/{wheel_name(root)}", *pinned]


def otter_master(path: Path, root: Path = ROOT) -> tuple[nbformat.NotebookNode, list[str]]:
    """Return the chapter as an Otter-Grader master notebook (Otter's v1 format), and its graded labels.

    Each graded exercise is a question of one point: its answer cell holds the solution
    between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (Otter leaves ``...`` there for the
    student) and its test is a function of the notebook's names that calls the checker.
    The configuration makes Otter's autograder zip carry the ``gaedu`` wheel (which
    :func:`write_otter` builds beside the master) and install it, with gaedu's dependencies
    at the book's versions and the book's Python, wherever the zip is graded.
    """
    requirements = "".join(f"  - {line}\n" for line in autograder_requirements(root))
    config = (
        "# ASSIGNMENT CONFIG\n"
        f"name: {path.stem}\n"
        "export_cell: false\n"
        "check_all_cell: false\n"
        "run_tests: true\n"
        "generate: true\n"
        f"python_version: \"{sys.version_info.major}.{sys.version_info.minor}\"\n"
        f"requirements:\n{requirements}"
        f"autograder_files:\n  - {wheel_name(root)}\n"
        "tests:\n"
        "  files: true\n"
        "  ok_format: false\n"
    )
    return _assignment(path, _otter_cells, first=[nbformat.v4.new_raw_cell(config)])


def _otter_cells(label: str, stub: str, answer: str, checks: str) -> list:
    name = re.sub(r"\W", "_", label)
    return [
        nbformat.v4.new_raw_cell(f"# BEGIN QUESTION\nname: {name}\npoints: 1"),
        nbformat.v4.new_markdown_cell(f"**Question `{name}`.** Write your answer to the exercise above in the next cell."),
        nbformat.v4.new_raw_cell("# BEGIN SOLUTION"),
        nbformat.v4.new_code_cell(f"{_starting_point(stub)}\n# BEGIN SOLUTION\n{answer}\n# END SOLUTION"),
        nbformat.v4.new_raw_cell("# END SOLUTION"),
        nbformat.v4.new_raw_cell("# BEGIN TESTS"),
        nbformat.v4.new_code_cell(otter_test(label, checks)),
        nbformat.v4.new_raw_cell("# END TESTS"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
    ]


def write_sources(out: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Write every chapter's source notebook and the course configuration; return the graded labels by chapter."""
    course = out / "nbgrader"
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        "# nbgrader's configuration for the course folder written by tools/classroom.py\n"
        "c = get_config()  # noqa: F821 (nbgrader defines it)\n"
        "c.CourseDirectory.root = __file__.rsplit('/', 1)[0]\n"
        "c.Execute.timeout = 300  # seconds a cell may take; the chapters' longest take well under a minute\n",
        encoding="utf-8",
    )
    graded = {}
    for path in chapters(root):
        notebook, labels = source_notebook(path)
        target = course / "source" / path.stem / f"{path.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        graded[path.stem] = labels
    return graded


def release(out: Path, names: list[str]) -> None:
    """Run nbgrader's ``generate_assignment`` for every chapter into ``release/``.

    Through nbgrader's own API in this process (what ``nbgrader generate_assignment`` calls):
    one gradebook for all chapters instead of a process and a database migration each.
    """
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    course = (out / "nbgrader").resolve()
    config = Config()
    config.CourseDirectory.root = str(course)
    previous, path = Path.cwd(), os.environ.get("PATH", "")
    os.chdir(course)  # nbgrader writes its gradebook and log beside the course's configuration
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"  # a new gradebook runs alembic
    try:
        api = NbGraderAPI(config=config)
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"] or not (course / "release" / name / f"{name}.ipynb").exists():
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.get('log', '')}"
                                   f"{result.get('error', '')}")  # fmt: skip
    finally:
        os.chdir(previous)
        os.environ["PATH"] = path


def validate(path: str | Path) -> list[str]:
    """Run ``nbgrader validate`` on one notebook; return the sources of the grade cells that failed."""
    from nbgrader.validator import Validator
    from traitlets.config import Config

    os.environ["OMP_NUM_THREADS"] = "1"
    config = Config({"Execute": {"timeout": 300}})
    result = Validator(config=config).validate(str(path))
    return [failure["source"] for failure in result.get("failed", [])] + [
        f"changed: {change['source']}" for change in result.get("changed", [])
    ]


def write_otter(out: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Write every chapter's Otter-Grader master notebook, and the ``gaedu`` wheel their autograder zips carry,
    to ``out/otter``; return the graded labels by chapter."""
    folder = out / "otter"
    build_wheel(folder)  # the package of this repository, whatever root the chapters come from
    graded = {}
    for path in chapters(root):
        notebook, labels = otter_master(path)
        nbformat.write(notebook, folder / f"{path.stem}.ipynb")
        graded[path.stem] = labels
    return graded


#: Seconds one `otter assign` may take (the longest chapter takes about two minutes on one core).
OTTER_TIMEOUT = 600


def _otter_env() -> dict[str, str]:
    """The environment ``otter assign`` runs in: one thread, and this environment's programs first on PATH."""
    bin_dir = Path(sys.executable).parent
    return {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def _assigned(master: Path) -> bool:
    """Whether ``otter assign`` made the student and autograder notebooks of ``master``."""
    target = master.parent / master.stem
    return (target / "student" / master.name).is_file() and (target / "autograder" / master.name).is_file()


def otter_assign(master: str | Path, run_tests: bool = True) -> str:
    """Run ``otter assign`` on one master notebook into the folder beside it named after it.

    Otter writes ``autograder/`` (the solutions, the tests, the autograder zip for
    Gradescope-style graders) and ``student/`` (solutions replaced by ``...``), and
    first runs the tests against the solutions, failing if any does not pass (not with
    ``run_tests=False``: ``make test``'s check run, :mod:`tools.check_run`, runs Otter's
    tests in the chapter's second execution instead). Return "" on success, else the end
    of Otter's report.
    """
    master = Path(master).resolve()
    target = master.parent / master.stem
    bin_dir, env = Path(sys.executable).parent, _otter_env()
    # Otter runs the notebook with no time limit, and a kernel whose reply is lost leaves it
    # waiting for ever (seen once in CI: the kernel idle, Otter waiting on a cell for 25 minutes).
    # So a run that takes longer than OTTER_TIMEOUT is killed with its kernel and run once more;
    # a run that finishes is never repeated, so a failing test still fails.
    for _ in range(2):
        shutil.rmtree(target, ignore_errors=True)
        process = subprocess.Popen(
            [str(bin_dir / "otter"), "assign", master.name, master.stem, *([] if run_tests else ["--no-run-tests"])],
            cwd=master.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, stderr = process.communicate(timeout=OTTER_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # otter and the kernel it started
            process.communicate()
    else:
        return f"otter assign did not finish within {OTTER_TIMEOUT} s, twice"
    if process.returncode == 0 and _assigned(master):
        return ""
    return (stdout + stderr)[-3000:] or f"otter assign exited with {process.returncode}"


#: `otter assign --no-run-tests` on each master named in argv, in this one process: Otter's command line
#: (its import costs about 4 s) is the same code, and no kernel is started, so nothing can hang.
_ASSIGN_EACH = """
import os, shutil, sys, traceback
from pathlib import Path
from otter.assign import main as assign
for master in map(Path, sys.argv[1:]):
    os.chdir(master.parent)
    shutil.rmtree(master.stem, ignore_errors=True)
    try:
        assign(master.name, master.stem, no_run_tests=True)
    except Exception:
        print(f"{master.name}: " + traceback.format_exc()[-2000:], file=sys.stderr)
"""


def otter_assign_without_tests(masters: list[Path]) -> dict[str, str]:
    """Run ``otter assign --no-run-tests`` on every master, in one process; return each one's error, or "" (what
    :func:`otter_assign` returns for one, with ``run_tests=False``)."""
    masters = [Path(m).resolve() for m in masters]
    try:
        done = subprocess.run([sys.executable, "-c", _ASSIGN_EACH, *map(str, masters)], env=_otter_env(), capture_output=True,
                              text=True, timeout=OTTER_TIMEOUT)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {master.stem: f"otter assign did not finish within {OTTER_TIMEOUT} s" for master in masters}
    said = (done.stdout + done.stderr)[-3000:] or f"otter assign exited with {done.returncode}"
    errors = {}
    for master in masters:
        errors[master.stem] = "" if _assigned(master) and done.returncode == 0 and f"{master.name}: " not in done.stderr else said
    return errors


def check_all(out: Path, names: list[str]) -> dict[tuple[str, str], list[str] | str]:
    """Run every check, two at a time: ``nbgrader validate`` on every source and released
    notebook (the grade cells that failed) and ``otter assign`` on every master (its error, or "")."""
    course = out / "nbgrader"
    jobs = {(name, kind): course / kind / name / f"{name}.ipynb" for name in names for kind in ("source", "release")}
    masters = {(name, "otter"): out / "otter" / f"{name}.ipynb" for name in names}
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        checked = dict(zip(jobs, pool.map(validate, jobs.values()), strict=True))
        checked.update(zip(masters, pool.map(otter_assign, masters.values()), strict=True))
    return checked


def report(checked: dict[tuple[str, str], list[str] | str]) -> int:
    """Print what :func:`check_all` found wrong; return the number of problems."""
    bad = 0
    for (name, kind), found in checked.items():
        if kind == "source" and found:
            print(f"  {name}: the source fails {len(found)} grade cell(s): {found[0][:80]!r}")
        elif kind == "release" and not found:
            print(f"  {name}: the released notebook passes without answers")
        elif kind == "otter" and found:
            print(f"  {name}: otter assign failed: {found[-300:]}")
        else:
            continue
        bad += 1
    names = {name for name, _ in checked}
    print(
        f"validated {len(names)} nbgrader sources (all must pass) and releases (all must fail), "
        f"and ran otter assign on {len(names)} masters (the solutions must pass their tests): {bad} problem(s)"
    )
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_build" / "classroom"), help="where to write the course folders")
    parser.add_argument(
        "--check", action="store_true",
        help="also run nbgrader validate on every notebook and otter assign on every master (about 15 minutes)",
    )  # fmt: skip
    parser.add_argument(
        "--prepare", action="store_true",
        help="also write Otter's student and autograder folders without running the tests (what tools.check_run reads)",
    )  # fmt: skip
    parser.add_argument("--chapters", nargs="*", default=None, help="only these chapters (their stems)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    graded = write_sources(out)
    release(out, list(graded))
    points = sum(len(labels) for labels in graded.values())
    print(f"wrote {len(graded)} nbgrader assignments ({points} graded exercises, a point each) to {out / 'nbgrader'}")
    otter = write_otter(out)
    assert otter == graded
    print(f"wrote {len(otter)} Otter-Grader master notebooks ({points} questions, a point each) to {out / 'otter'}")
    names = [name for name in graded if args.chapters is None or name in args.chapters]
    if args.prepare:
        assigned = otter_assign_without_tests([out / "otter" / f"{name}.ipynb" for name in names])
        failed = {name: error for name, error in assigned.items() if error}
        for name, error in failed.items():
            print(f"  {name}: otter assign --no-run-tests failed: {error[-300:]}")
        print(f"otter assign --no-run-tests wrote the student and autograder folders of {len(names) - len(failed)} masters")
        if failed:
            return 1
    return (1 if report(check_all(out, names)) else 0) if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
