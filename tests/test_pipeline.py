"""make test's scheduler (tools/pipeline.py): one process per slot, critical path first, failures contained, executions counted."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT
from tools import pipeline
from tools.pipeline import Job


def _job(name: str, seconds: float = 0.2, needs=(), code: int = 0, slots: int = 1, trace=None) -> Job:
    script = f"import time; time.sleep({seconds}); raise SystemExit({code})"
    if trace is not None:
        script = f"open({str(trace)!r}, 'a').write('{name} start\\n'); " + script.replace(
            "raise", f"open({str(trace)!r}, 'a').write('{name} end\\n'); raise")  # fmt: skip
    return Job(name, [sys.executable, "-c", script], list(needs), slots)


def test_jobs_run_after_what_they_need_and_never_more_than_the_slots(tmp_path):
    trace = tmp_path / "trace"
    jobs = [_job("a", trace=trace), _job("b", trace=trace), _job("c", needs=["a", "b"], trace=trace),
            _job("d", needs=["c"], trace=trace)]  # fmt: skip
    pipeline.run(jobs, 2, {}, say=lambda line: None, logs=tmp_path / "logs")
    assert [job.state for job in jobs] == ["passed"] * 4
    running, most, order = set(), 0, []
    for line in trace.read_text().splitlines():
        name, what = line.split()
        (running.add if what == "start" else running.discard)(name)
        most = max(most, len(running))
        order.append(line)
    assert most == 2
    assert order.index("c start") > max(order.index("a end"), order.index("b end"))
    assert order.index("d start") > order.index("c end")
    assert all(job.seconds >= 0.2 for job in jobs)


def test_a_job_that_takes_both_slots_runs_alone(tmp_path):
    trace = tmp_path / "trace"
    jobs = [_job("wide", slots=2, trace=trace), _job("x", trace=trace), _job("y", trace=trace)]
    pipeline.run(jobs, 2, {"wide": 100}, say=lambda line: None, logs=tmp_path / "logs")
    lines = trace.read_text().splitlines()
    assert lines[:2] == ["wide start", "wide end"]  # the longest first, and nothing beside it


def test_the_longest_critical_path_goes_first():
    jobs = [_job("short"), _job("long"), _job("after-short", needs=["short"])]
    ranks = pipeline.ranks(jobs, {"short": 10, "long": 50, "after-short": 100})
    assert ranks == {"short": 110, "long": 50, "after-short": 100}  # short leads to the longest chain


def test_a_failure_skips_what_needs_it_and_the_rest_goes_on(tmp_path):
    said = []
    jobs = [_job("bad", code=3), _job("after", needs=["bad"]), _job("other")]
    pipeline.run(jobs, 2, {}, say=said.append, logs=tmp_path / "logs")
    assert [job.state for job in jobs] == ["failed", "skipped", "passed"]
    assert any(line.strip().endswith("failed bad (0 s)") for line in said)


def test_executions_are_counted_and_a_third_one_is_caught(tmp_path):
    log = tmp_path / "executions.jsonl"
    records = [("book/a.ipynb", "build"), ("book/a.ipynb", "check"), ("book/b.ipynb", "build"),
               ("_build/classroom/nbgrader/source/a/a.ipynb", "conformance")]  # fmt: skip
    log.write_text("".join(json.dumps({"notebook": n, "by": by, "seconds": 1.0}) + "\n" for n, by in records))
    counts = pipeline.executions(log)
    assert counts["book/a.ipynb"] == {"build": 1, "check": 1}
    book = {name: sum(c.values()) for name, c in counts.items() if name.startswith("book/")}
    assert pipeline.over_limit(book) == {}
    book["book/a.ipynb"] += 1  # a third execution, by anything
    assert pipeline.over_limit(book) == {"book/a.ipynb": 3}


def test_make_test_executes_each_chapter_twice_and_make_check_only_the_changed(monkeypatch):
    from tools import execute
    from tools.student_edition import chapter_notebooks

    jobs = pipeline.test_jobs()
    chapters = chapter_notebooks(ROOT)
    runs = [job for job in jobs if job.argv[1:3] in (["-m", "tools.execute"], ["-m", "tools.check_run"]) and
            ("--notebook" in job.argv or job.argv[2] == "tools.check_run")]  # fmt: skip
    assert len(runs) == 2 * len(chapters)
    assert {job.argv[-1] for job in runs} == {str(p.relative_to(ROOT)) for p in chapters}
    monkeypatch.setattr(execute, "stale", lambda root, code_only=False: chapters[:1])
    jobs, left_out = pipeline.check_jobs()
    names = [job.name for job in jobs]
    assert f"build:{chapters[0].stem}" in names and f"check:{chapters[0].stem}" in names
    assert not any(name.startswith("build:") and name != f"build:{chapters[0].stem}" for name in names)
    assert any("browser" in line for line in left_out)


def test_the_unit_tests_are_split_into_two_jobs_that_cover_every_file():
    jobs = pipeline.unit_jobs(pipeline.UNIT)
    files = [arg for job in jobs for arg in job.argv if arg.startswith("tests/test_")]
    assert len(jobs) == 2 and sorted(files) == sorted(f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py"))


def test_every_job_of_make_test_can_run():
    """Every dependency names a job, and the graph has no cycle (ranks would recurse for ever)."""
    jobs = pipeline.test_jobs()
    names = {job.name for job in jobs}
    assert all(need in names for job in jobs for need in job.needs)
    assert len(pipeline.ranks(jobs, {})) == len(jobs)


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("check_run", ["book/nowhere.ipynb"], "no such notebook: book/nowhere.ipynb"),
        ("execute", ["--notebook", "README.md"], "no such notebook: README.md"),
        ("pipeline", ["test", "--slots", "0"], "--slots must be at least 1, got 0"),
        ("pipeline", ["everything"], "invalid choice: 'everything'"),
    ],
)
def test_a_bad_argument_is_one_line_and_runs_nothing(tool, args, message):
    import subprocess

    result = subprocess.run([sys.executable, "-m", f"tools.{tool}", *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1] and result.stdout == ""
