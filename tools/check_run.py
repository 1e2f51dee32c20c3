"""The check run: a chapter's second execution, which carries nbval's comparison and the grading verdicts.

``make test`` executes every chapter twice: once for the book (``tools/execute.py``) and
once here, in one fresh kernel of one thread per chapter. This run asks, of that one
execution, every question the test suite used to answer with four more executions:

1. **The body** (the cells before the first exercise) runs as nbval runs it: a cell
   that raises fails (unless tagged ``raises-exception``), and every cell tagged
   ``nbval-check-output`` must repeat the build's output, compared by nbval's own
   ``compare_outputs`` (``--nbval-lax``: images and metadata are not compared).
2. The kernel's state is saved: its namespace and the random states of ``random``,
   NumPy and torch, and of every ``torch.Generator`` and NumPy ``Generator`` it holds.
3. **The nbgrader release**'s exercise cells run with errors allowed, as ``nbgrader
   validate`` runs them, and nbgrader's own ``Validator`` judges the executed release:
   it must pass no grade cell (a blank submission scores 0), fail only grade cells, and
   change no checksum.
4. The state is restored; **the nbgrader source**'s exercise cells run, and nbgrader's
   ``Validator`` must find no failure. After each grade cell, **Otter**'s own
   ``Notebook.check`` runs that question's test (written by ``otter assign --no-run-tests``)
   in the namespace the answer left, as the ``grader.check`` cell after each answer in
   Otter's notebook does: each must pass. (Otter's master holds the same answers as the
   source, checked here.)
   Two more simulated students hand in the source with every answer rewritten
   (:func:`student`), each graded the same way from the restored state: **own words**
   runs each answer in a function's scope, so that only the names the exercise's starting
   code defines reach the grade cell (every grade cell and Otter test must pass), and
   **wrong** makes each of those answers wrong (none may pass), and **retyped** hands in the
   right answers in other types a student may leave them in (a float as a 0-d tensor, an
   int as a NumPy integer, a tensor as an array and back, a list as a tuple and back):
   every grade cell and Otter test must pass.
5. The state is restored; **the chapter's own exercise cells** (starters and solutions)
   run, with the same comparison for a checked solution cell.

The body's code is the same in the chapter, the source and the release (checked), so each
graded part sees the state a fresh ``nbgrader validate`` would. The result, with each
cell's seconds, goes to ``_build/check/<chapter>.json``, which ``tests/test_check_run.py``
reads; one line is appended to ``_build/executions.jsonl`` (the pipeline counts them).

Usage: .venv/bin/python -m tools.check_run book/<part>/<chapter>.ipynb [--classroom _build/classroom] [--out _build/check]
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat

from tools import classroom as course
from tools.execute import record_execution
from tools.student_edition import ROOT

#: What ``--nbval-lax`` leaves out of the comparison (nbval's ``IPyNbFile.skip_compare`` without nbdime).
SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")  # fmt: skip
#: Seconds a cell may take (nbval's ``--nbval-cell-timeout`` and the build's ``timeout``).
TIMEOUT = 300

#: The harness's module in the kernel: saving and restoring the state after the body (its functions'
#: globals are this module's, so clearing the kernel's namespace does not touch them).
_HARNESS = """
import random, sys, types
import numpy as np
import torch


def save(names):
    global saved
    saved = types.SimpleNamespace(
        names=dict(names), random=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state(),
        generators=[(v, v.get_state()) for v in names.values() if isinstance(v, torch.Generator)],
        np_generators=[(v, v.bit_generator.state) for v in names.values() if isinstance(v, np.random.Generator)])


def wrong(value):
    # a wrong version of an answer of any kind: numbers moved well away (x -> 1.5 x + 10, out of any
    # tolerance a checker allows), booleans flipped, functions' float arguments and results moved
    if value is None:
        return 0
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 1.5 + 10
    if isinstance(value, torch.Tensor):
        return value.logical_not() if value.dtype == torch.bool else value * 1.5 + 10
    if isinstance(value, np.ndarray):
        return ~value if value.dtype == bool else value * 1.5 + 10
    if isinstance(value, (list, tuple)):
        return type(value)(wrong(v) for v in value)
    if isinstance(value, dict):
        return {k: wrong(v) for k, v in value.items()}
    if isinstance(value, str):
        return value + " (wrong)"
    if callable(value):  # its float arguments moved (a step's lr), then its result made wrong
        def moved(a):
            return a * 1.5 + 10 if isinstance(a, float) else a

        return lambda *args, **kwargs: wrong(value(*map(moved, args), **{k: moved(v) for k, v in kwargs.items()}))
    return None


def retyped(value):
    # the same answer in another type a student may hand in: a float left as a 0-d float64 tensor (no
    # .item()), an int as a NumPy integer, a tensor as a NumPy array and back, a list as a tuple and back
    if value is None or isinstance(value, (bool, np.bool_, str)) or callable(value):
        return value
    if isinstance(value, (int, np.integer)):
        return np.int64(value) if isinstance(value, int) else int(value)
    if isinstance(value, (float, np.floating)):
        return torch.tensor(float(value), dtype=torch.float64)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy() if value.dtype != torch.bfloat16 else value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy()) if value.dtype != object else value
    if isinstance(value, list):
        return tuple(retyped(v) for v in value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return [retyped(v) for v in value]
    if isinstance(value, dict):
        return {k: retyped(v) for k, v in value.items()}
    return value


def restore(names):
    random.setstate(saved.random)
    np.random.set_state(saved.numpy)
    torch.set_rng_state(saved.torch)
    for generator, state in saved.generators:
        generator.set_state(state)
    for generator, state in saved.np_generators:
        generator.bit_generator.state = state
    names.clear()
    names.update(saved.names)
"""
_SNAPSHOT = f"""
import sys as _gaedu_sys, types as _gaedu_types
_gaedu_sys.modules["_gaedu_check"] = _gaedu_types.ModuleType("_gaedu_check")
exec({_HARNESS!r}, _gaedu_sys.modules["_gaedu_check"].__dict__)
del _gaedu_sys, _gaedu_types
__import__("sys").modules["_gaedu_check"].save(globals())
"""
_RESTORE = """__import__("sys").modules["_gaedu_check"].restore(globals())"""
_OTTER = """
import otter as _gaedu_otter
_gaedu_grader = _gaedu_otter.Notebook(tests_dir={tests!r})
_gaedu_results = {{}}
for _gaedu_q in {questions!r}:
    try:
        _gaedu_r = _gaedu_grader.check(_gaedu_q, globals())
        _gaedu_results[_gaedu_q] = "" if _gaedu_r.passed_all else str(_gaedu_r)[-1500:]
    except Exception as _gaedu_err:
        _gaedu_results[_gaedu_q] = f"{{type(_gaedu_err).__name__}}: {{_gaedu_err}}"
print("GAEDU-OTTER " + __import__("json").dumps(_gaedu_results))
"""


def _text(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def body_length(notebook) -> int:
    """The number of cells before the chapter's first exercise (all of them if it has none)."""
    for index, cell in enumerate(notebook.cells):
        if "{exercise-start}" in _text(cell):
            return index
    return len(notebook.cells)


def nbval_options(cell) -> dict:
    """nbval's options for a cell under ``--nbval-lax`` (from its comment markers and tags)."""
    from nbval.plugin import find_comment_markers, find_metadata_tags

    options = dict(find_metadata_tags(cell.metadata))
    options.update(dict(find_comment_markers(cell.source)))
    options.setdefault("check", False)
    return options


class _NbvalComparison:
    """nbval's own ``IPyNbCell.compare_outputs``, outside pytest (the failure text is formatted here)."""

    from nbval.plugin import IPyNbCell, nocolors

    colors = nocolors
    compare_outputs = IPyNbCell.compare_outputs
    sanitize = IPyNbCell.sanitize

    def __init__(self):
        self.parent = SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns={})
        self.comparison_traceback: list[str] = []

    def format_output_compare(self, key, left, right):
        diff = difflib.unified_diff(str(left).splitlines(), str(right).splitlines(), "the build's output",
                                    "the check run's output", lineterm="", n=2)  # fmt: skip
        self.comparison_traceback.append(f"mismatch {key!r}:\n" + "\n".join(list(diff)[:60]))


def compare(test: list, reference: list) -> str:
    """Compare a cell's outputs with the build's as nbval does; return "" if they agree, else what differs."""
    from nbval.plugin import coalesce_streams

    comparison = _NbvalComparison()
    same = comparison.compare_outputs(coalesce_streams(copy.deepcopy(test)), coalesce_streams(copy.deepcopy(reference)))
    return "" if same else "\n".join(comparison.comparison_traceback) or "the outputs differ"


def _error(outputs: list) -> str:
    for output in outputs:
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return ""


class Kernel:
    """One kernel, cells executed one at a time by nbclient (as nbgrader's ``Execute`` and jupyter-cache do)."""

    def __init__(self, workdir: Path):
        from nbclient import NotebookClient

        self.notebook = nbformat.v4.new_notebook()
        self.notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        self.client = NotebookClient(self.notebook, timeout=TIMEOUT, allow_errors=True, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})  # fmt: skip
        self.count = 0
        self.seconds: list[tuple[str, float]] = []

    def __enter__(self):
        self._context = self.client.setup_kernel()
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def run(self, cell, label: str = "") -> list:
        """Execute ``cell`` (its outputs are replaced); return the outputs."""
        cell.outputs = []
        self.notebook.cells.append(cell)
        start = time.perf_counter()
        self.client.execute_cell(cell, len(self.notebook.cells) - 1, execution_count=self.count + 1)
        self.count += 1
        if label:
            self.seconds.append((label, round(time.perf_counter() - start, 3)))
        return cell.outputs

    def hidden(self, code: str) -> str:
        """Run harness code; return its stdout, and raise if it fails."""
        outputs = self.run(nbformat.v4.new_code_cell(code))
        if error := _error(outputs):
            raise RuntimeError(f"the check run's own code failed: {error}")
        return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


def reference(root: Path, chapter: Path):
    """The build's executed chapter (from the build's jupyter-cache)."""
    from jupyter_cache import get_cache

    cache = get_cache(root / "_build" / ".jupyter_cache")
    try:
        _, executed = cache.merge_match_into_notebook(nbformat.read(chapter, as_version=4))
    except KeyError:
        raise SystemExit(f"{chapter.relative_to(root)} is not in the build's cache: build the book first") from None
    return executed


def _run_checked(kernel: Kernel, cells: list, refs: list, where: str, result: dict) -> None:
    """Run cells as nbval does: errors fail (unless expected), checked outputs are compared with ``refs``."""
    for index, (cell, ref) in enumerate(zip(cells, refs, strict=True)):
        if cell.cell_type != "code":
            continue
        options = nbval_options(cell)
        if options.get("skip"):
            continue
        outputs = kernel.run(copy.deepcopy(cell), f"{where} {index}")
        error = _error(outputs)
        if error and not options.get("check_exception"):
            result["errors"].append({"cell": index, "part": where, "error": error, "source": cell.source[:300]})
        if options.get("check"):
            result["checked"] += 1
            if ref.get("execution_count") is not None and (diff := compare(outputs, ref.outputs)):
                result["differ"].append({"cell": index, "part": where, "diff": diff, "source": cell.source[:300]})


def _graded(kernel: Kernel, notebook, start: int, where: str, after_grade=None) -> dict:
    """Run ``notebook``'s cells from ``start`` with errors allowed; return nbgrader's Validator's verdict on it.

    ``after_grade(grade_id)`` is called after each grade cell, in the state the student's
    answer left (where Otter checks the question: its ``grader.check`` cell follows the answer).
    """
    from nbgrader.validator import Validator

    executed = copy.deepcopy(notebook)
    for index in range(start, len(executed.cells)):
        cell = executed.cells[index]
        if cell.cell_type == "code":
            cell.outputs = kernel.run(cell, f"{where} {index}")
            grading = cell.metadata.get("nbgrader", {})
            if after_grade is not None and grading.get("grade"):
                after_grade(grading["grade_id"])
    validator = Validator()

    def written(cell) -> bool:  # a manually graded answer: the teacher scores it, nbgrader only sees if it is blank
        return cell.metadata.get("nbgrader", {}).get("solution", False)

    return {
        "type_changed": [c.source for c in validator._get_type_changed_cells(executed)],
        "changed": [c.source for c in validator._get_changed_cells(executed)],
        "failed": [c.source for c in validator._get_failed_cells(executed) if not written(c)],
        "passed": [c.source for c in validator._get_passed_cells(executed) if not written(c)],
        "written": [c.source for c in executed.cells if written(c) and c.metadata["nbgrader"].get("grade")],
    }


def _own_words(answer: str, names: list[str], change: str | None = None) -> str:
    """An answer as a student who names everything but the exercise's stated names his own way hands
    it in: run in a function's scope, so that only ``names`` reach the grade cell; ``change``: each
    passed through the harness's function of that name, ``"wrong"`` (a student with a mistake in every
    answer) or ``"retyped"`` (the same answers in other types: a tensor for a float, ...)."""
    import ast

    tree = ast.parse(answer)

    def binds(node) -> set[str]:
        found = set()
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                found.add(n.id)
            elif isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                found.add(n.name)
            elif isinstance(n, ast.Import | ast.ImportFrom):
                found |= {(a.asname or a.name).split(".")[0] for a in n.names}
        return found

    def reads(node) -> set[str]:  # the names a statement reads when it runs (not inside its functions)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            return set()
        found = {node.id} if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) else set()
        return found.union(*(reads(child) for child in ast.iter_child_nodes(node)))

    bound = set().union(*(binds(stmt) for stmt in tree.body))
    so_far, early = set(), []
    for stmt in tree.body:  # a name read before the answer binds it is the chapter's: pass it in
        early += sorted((reads(stmt) & bound) - so_far - set(early))
        so_far |= binds(stmt)
    prelude = [f"{name} = globals().get({name!r})" for name in early]
    body = "\n".join("    " + line if line.strip() else "" for line in [*prelude, *answer.splitlines()])
    result = "{" + ", ".join(f"{name!r}: {name}" for name in names) + "}"
    update = (f"{{k: __import__('sys').modules['_gaedu_check'].{change}(v) for k, v in _gaedu_student().items()}}"
              if change else "_gaedu_student()")  # fmt: skip
    return f"def _gaedu_student():\n{body}\n    return {result}\n\n\nglobals().update({update})\ndel _gaedu_student"


def student(source, kind: str):
    """The nbgrader source with every answer handed in by one simulated student: ``"own words"``
    (right, with his own names), ``"retyped"`` (the same, each answer in another type a student may
    hand in) or ``"wrong"`` (every answer wrong)."""
    notebook = copy.deepcopy(source)
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get("nbgrader", {}).get("solution") and course.BEGIN in cell.source:
            grade = next(c for c in notebook.cells[index + 1:] if c.metadata.get("nbgrader", {}).get("grade"))
            head, rest = cell.source.split(course.BEGIN, 1)
            answer, tail = rest.split(course.END, 1)
            # the names the exercise states: those its starting code (before the solution region) defines
            names = sorted(course._defined(head)) or [
                n for n in course._free_names(grade.source) if not n.startswith("check_")]
            code = _own_words(answer.strip("\n"), names, change=None if kind == "own words" else kind)
            cell.source = f"{head}{course.BEGIN}\n{code}\n{course.END}{tail}"
    return notebook


def run_cells(notebook, ref, workdir: Path) -> dict:
    """Run every cell of ``notebook`` in a fresh kernel as nbval does, against the build's ``ref``; no grading."""
    result: dict = {"checked": 0, "differ": [], "errors": []}
    workdir.mkdir(parents=True, exist_ok=True)
    with Kernel(workdir) as kernel:
        _run_checked(kernel, notebook.cells, ref.cells, "body", result)
    return result


def check_chapter(chapter: Path, classroom: Path, out: Path, root: Path = ROOT, ref=None) -> dict:
    """Run the check of one chapter (see the module docstring); write and return its result.

    ``ref``: the build's executed chapter to compare with (default: from the build's cache).
    """
    chapter = chapter.resolve()
    name = chapter.stem
    notebook = nbformat.read(chapter, as_version=4)
    ref = reference(root, chapter) if ref is None else ref
    body = body_length(notebook)
    result: dict = {"chapter": str(chapter.relative_to(root)), "checked": 0, "differ": [], "errors": [],
                    "graded": False, "problems": []}  # fmt: skip
    source_path = classroom / "nbgrader" / "source" / name / f"{name}.ipynb"
    release_path = classroom / "nbgrader" / "release" / name / f"{name}.ipynb"
    tests_dir = classroom / "otter" / name / "autograder" / "tests"
    graded = body < len(notebook.cells) and source_path.is_file()
    if body < len(notebook.cells) and not graded:
        result["problems"].append(f"no nbgrader source for {name}: run python -m tools.classroom --prepare --out {classroom} first")
    if graded:
        source = nbformat.read(source_path, as_version=4)
        released = nbformat.read(release_path, as_version=4)
        code = [c.source for c in notebook.cells[:body] if c.cell_type == "code"]
        for which, other in (("source", source), ("release", released)):
            if [c.source for c in other.cells[:body] if c.cell_type == "code"] != code:
                result["problems"].append(f"the {which}'s first {body} cells are not the chapter's body")
        answers = [c.source.split(course.BEGIN)[1].split(course.END)[0].strip("\n")
                   for c in source.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]  # fmt: skip
        master = nbformat.read(classroom / "otter" / f"{name}.ipynb", as_version=4)
        solutions = [m.strip("\n") for c in master.cells if c.cell_type == "code"
                     for m in re.findall(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", c.source, re.S)]  # fmt: skip
        if answers != solutions:
            result["problems"].append("Otter's master and the nbgrader source hold different answers")
        questions = sorted(p.stem for p in tests_dir.glob("*.py"))
        if not questions:
            result["problems"].append(f"no Otter tests in {tests_dir}: run otter assign --no-run-tests first")
        graded = not result["problems"]
    workdir = out / "work" / name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    start = time.perf_counter()
    os.environ["OMP_NUM_THREADS"] = "1"
    with Kernel(workdir) as kernel:
        _run_checked(kernel, notebook.cells[:body], ref.cells[:body], "body", result)
        if body < len(notebook.cells):
            kernel.hidden(_SNAPSHOT)
            if graded:
                result["otter_students"] = {}
                # The students: the blank release, the source's answers, the same answers in one's own
                # words, and a wrong answer to every exercise; each graded by nbgrader's Validator and,
                # after each grade cell, by Otter's check of that question.
                for who, handed_in in (("release", released), ("source", source),
                                       ("own words", student(source, "own words")), ("retyped", student(source, "retyped")),
                                       ("wrong", student(source, "wrong"))):  # fmt: skip
                    otter: dict[str, str] = {}

                    def check_question(grade_id: str, otter=otter) -> None:  # Otter's check of the question just answered
                        question = re.sub(r"\W", "_", grade_id.removesuffix("-check"))
                        if question in questions:
                            report = kernel.hidden(_OTTER.format(tests=str(tests_dir.resolve()), questions=[question]))
                            otter.update(json.loads(report.split("GAEDU-OTTER ", 1)[1]))

                    result[who] = _graded(kernel, handed_in, body, who, after_grade=check_question)
                    result["otter_students"][who] = {q: otter.get(q, "the question was never checked") for q in questions}
                    kernel.hidden(_RESTORE)
                result["otter"] = result["otter_students"]["source"]
                result["graded"] = True
            _run_checked(kernel, notebook.cells[body:], ref.cells[body:], "exercises", result)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["cells"] = sorted(kernel.seconds, key=lambda item: -item[1])[:10]
    record_execution(root, chapter, "check", result["seconds"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def verdicts(result: dict) -> list[str]:
    """What is wrong in a check run's result, one line each ([] if nothing)."""
    wrong = [*result["problems"]]
    wrong += [f"{e['part']} cell {e['cell']} raised {e['error']}" for e in result["errors"]]
    wrong += [f"{d['part']} cell {d['cell']} does not repeat the build's output:\n{d['diff']}" for d in result["differ"]]
    if result.get("graded"):
        source, release = result["source"], result["release"]
        wrong += [f"the source fails its grade cell {s!r}" for s in source["failed"]]
        wrong += [f"the source changes the locked cell {s!r}" for s in source["changed"] + source["type_changed"]]
        wrong += [f"the blank release passes the grade cell {s!r}" for s in release["passed"]]
        own, mistaken = result["own words"], result["wrong"]
        wrong += [f"an answer in the student's own words (the stated names only) fails the grade cell {s!r}"
                  for s in own["failed"]]  # fmt: skip
        wrong += [f"a wrong answer passes the grade cell {s!r}" for s in mistaken["passed"]]
        wrong += [f"the right answer in another type (a tensor for a float, a tuple for a list, ...) fails the grade "
                  f"cell {s!r}" for s in result.get("retyped", {"failed": []})["failed"]]  # fmt: skip
        students = result["otter_students"]
        wrong += [f"Otter's test {q} passes the blank release" for q, why in students["release"].items() if not why]
        wrong += [f"Otter's test {q} fails an answer in the student's own words: {why}"
                  for q, why in students["own words"].items() if why]  # fmt: skip
        wrong += [f"Otter's test {q} passes a wrong answer" for q, why in students["wrong"].items() if not why]
        wrong += [f"Otter's test {q} fails the right answer in another type: {why}"
                  for q, why in students.get("retyped", {}).items() if why]  # fmt: skip
        wrong += [f"the release fails a cell that is not a grade cell: {s!r}" for s in release["failed"]
                  if not course.is_grade_code(s)]  # fmt: skip
        wrong += [f"the release changes the locked cell {s!r}" for s in release["changed"] + release["type_changed"]]
        wrong += [f"Otter's test {q} fails on the solutions: {why}" for q, why in result["otter"].items() if why]
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", help="chapter notebooks")
    parser.add_argument("--classroom", default=str(ROOT / "_build" / "classroom"), help="tools.classroom's --out")
    parser.add_argument("--out", default=str(ROOT / "_build" / "check"), help="where the results go")
    args = parser.parse_args(argv)
    for chapter in args.chapters:
        if not Path(chapter).is_file() or not chapter.endswith(".ipynb"):
            parser.error(f"no such notebook: {chapter}")
    bad = 0
    for chapter in args.chapters:
        result = check_chapter(Path(chapter), Path(args.classroom).resolve(), Path(args.out).resolve())
        wrong = verdicts(result)
        bad += bool(wrong)
        print(f"{Path(chapter).stem}: {result['checked']} checked cells, "
              f"{'graded' if result['graded'] else 'not graded'}, {result['seconds']:.0f} s: "
              f"{'ok' if not wrong else f'{len(wrong)} problem(s)'}")  # fmt: skip
        for line in wrong:
            print(f"  {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
