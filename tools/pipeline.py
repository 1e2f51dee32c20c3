"""``make test`` and ``make check``: every check as a job, one process per core, longest first, and a time report.

The jobs are single-threaded processes (``OMP_NUM_THREADS=1``), run two at a time on two
cores (``--slots``, default the number of cores); a job that uses both cores (the model
cache's fill, pytest on two workers) takes both slots. Among the jobs whose dependencies
are done, the one with the longest critical path goes first (its seconds and those of the
jobs that wait for it, by the seconds the last run recorded in
``_build/test-report.json``, or by a first guess). Each job's output goes to
``_build/logs/<job>.log``; a failed job's end is printed, the jobs that need it are not
run, and the others go on, so one run reports every failure.

``make test`` (``python -m tools.pipeline test``) runs, for each chapter, exactly two
executions: the build's (``tools.execute --notebook``) and the check run's
(``tools.check_run``), which carries nbval's comparison and the nbgrader and Otter
verdicts. Beside them: the linter, the unit tests, the classroom files, the Sphinx build,
the built book's tests (pages, browser, student edition, PDF) and a conformance run of
the real ``nbgrader validate`` and ``otter assign`` on the smallest chapter. It ends with
the time report (printed, and written to ``_build/test-report.json``) and fails if a
chapter was executed more than twice.

``make check`` (``python -m tools.pipeline check``) is the fast tier: the linter, the unit tests
on both cores without the small book builds, and the build and check run of the chapters
whose code changed since the last build; it says what it did not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tools.student_edition import ROOT, chapter_notebooks

BIN = Path(sys.executable).parent
PY = str(BIN / "python")
REPORT = ROOT / "_build" / "test-report.json"
#: The seconds of each job and of each test file, as measured by a `make test` on the 2-core CPU the book is
#: tested on, for a run with no report of its own yet (a fresh clone, CI): `python -m tools.pipeline seconds` rewrites it.
SECONDS = Path(__file__).with_name("pipeline-seconds.json")
#: The most times ``make test`` may execute one chapter: the build and the check run.
MAX_EXECUTIONS = 2
#: First guesses of a job's seconds, before a run has recorded them (by the job's name or its prefix).
GUESS = {"unit-": 250, "browser": 300, "html": 200, "chinese": 30, "pdf": 200, "student": 150, "classroom": 60, "built-book": 40,
         "cache": 5, "lint": 5, "prepare": 5, "graded": 10, "conformance": 60, "teacher": 300, "build:": 40, "check:": 40}  # fmt: skip


@dataclass
class Job:
    name: str
    argv: list[str]
    needs: list[str] = field(default_factory=list)
    slots: int = 1
    ok: tuple[int, ...] = (0,)  # exit codes that pass
    # filled in as it runs
    state: str = "waiting"  # waiting, running, passed, failed, skipped
    start: float = 0.0
    end: float = 0.0
    cpu: float = 0.0

    @property
    def seconds(self) -> float:
        return self.end - self.start if self.end else 0.0


#: The linter: the package's rules (pyproject.toml) on the code, the page width on the notebooks
#: (book/ruff.toml: 88 columns, formatted by ``ruff format``), and the package's layers
#: (import-linter's contract in pyproject.toml).
LINT = ["sh", "-c", f"{BIN / 'ruff'} check gaedu tests bench tools book && {BIN / 'ruff'} format --check book"
       f" && {BIN / 'lint-imports'} --no-cache"]  # fmt: skip

def _pytest(name: str, *args: str, needs: list[str] | None = None, slots: int = 1) -> Job:
    junit = ROOT / "_build" / "junit" / f"{name}.xml"
    return Job(name, [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=10", f"--junitxml={junit}",
                      *args], needs or [], slots)  # fmt: skip


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


#: The unit tests: neither the built book's, nor a chapter's execution, nor the black-box classroom run.
UNIT = "not built and not notebook and not classroom and not graded and not conformance and not teacher"
DURATIONS = ROOT / "_build" / "test-durations.json"


def unit_jobs(marks: str, needs: list[str] | None = None, parts: int = 2) -> list[Job]:
    """The unit tests as ``parts`` pytest jobs of about equal length (by the last run's seconds per file)."""
    source = DURATIONS if DURATIONS.is_file() else SECONDS
    known = json.loads(source.read_text(encoding="utf-8")) if source.is_file() else {}
    known = known.get("test_files", known)
    files = sorted((ROOT / "tests").glob("test_*.py"))
    weight = {f: known.get(f.name, f.stat().st_size / 1000) for f in files}  # first guess: 1 s per kB
    groups: list[list[Path]] = [[] for _ in range(parts)]
    for path in sorted(files, key=lambda f: -weight[f]):
        min(groups, key=lambda g: sum(weight[f] for f in g)).append(path)
    jobs = [_pytest(f"unit-{i + 1}", "-m", marks, *(_rel(f) for f in sorted(group)), needs=needs)
            for i, group in enumerate(groups) if group]  # fmt: skip
    for job in jobs:
        job.ok = (0, 5)  # 5: every test of the group deselected (the others still ran)
    return jobs


def test_jobs() -> list[Job]:
    """The jobs of ``make test``."""
    from tools import classroom

    chapters = chapter_notebooks(ROOT)
    graded = {p.stem for p in classroom.chapters()}
    jobs = [Job("cache", [PY, "-m", "gaedu", "cache", "--jobs", "2"], slots=2),
            Job("lint", LINT),
            Job("prepare", [PY, "-m", "tools.execute", "--fresh", "--prepare"], ["cache"]),
            Job("classroom", [PY, "-m", "tools.classroom", "--prepare"])]  # fmt: skip
    for path in chapters:
        jobs.append(Job(f"build:{path.stem}", [PY, "-m", "tools.execute", "--notebook", _rel(path)], ["prepare"]))
        jobs.append(Job(f"check:{path.stem}", [PY, "-m", "tools.check_run", _rel(path)],
                        [f"build:{path.stem}"] + (["classroom"] if path.stem in graded else [])))  # fmt: skip
    builds = [f"build:{p.stem}" for p in chapters]
    jobs += [
        Job("html", ["make", "--no-print-directory", "book-html", f"BIN={BIN}", "FRESH=1", "ZH="], builds),
        # The Chinese edition: the same execution cache, its own Sphinx build (tools.i18n; executes nothing).
        Job("html-zh", [PY, "-m", "tools.i18n", "html", "--fresh"], builds),
        *unit_jobs(UNIT, needs=["cache"]),
        _pytest("graded", "-m", "graded", "tests/test_check_run.py", "tests/test_classroom.py",
                needs=[f"check:{p.stem}" for p in chapters]),
        _pytest("conformance", "-m", "conformance", "tests/test_check_run.py", needs=["check:preface", "classroom"]),
        _pytest("teacher", "-m", "teacher", "tests/test_teacher.py", needs=["classroom"]),
        _pytest("built-book", "-m", "built", "tests/test_book.py", needs=["html"]),
        _pytest("chinese", "-m", "built", "tests/test_chinese.py", needs=["html", "html-zh"]),
        _pytest("browser", "-m", "built", "-k", "not zh_CN", "tests/test_browser.py", needs=["html"]),
        _pytest("browser-zh", "-m", "built", "-k", "zh_CN", "tests/test_browser.py", needs=["html", "html-zh"]),
        # After html-zh: the Chinese builds of these jobs read the compiled catalogues (.mo) it writes first.
        _pytest("student", "-m", "built", "tests/test_student.py", needs=["html", "html-zh"]),
        _pytest("pdf", "-m", "built", "tests/test_pdf.py", needs=["html", "html-zh"]),
    ]
    return jobs


def check_jobs() -> tuple[list[Job], list[str]]:
    """The jobs of ``make check`` and what it leaves out."""
    from tools import classroom, execute

    changed = execute.stale(ROOT, code_only=True)
    graded = {p.stem for p in classroom.chapters()}
    jobs = [Job("lint", LINT),
            *unit_jobs(f"not book and {UNIT}")]  # fmt: skip
    if changed:
        jobs.append(Job("cache", [PY, "-m", "gaedu", "cache", "--check"]))
        jobs.append(Job("prepare", [PY, "-m", "tools.execute", "--code-only", "--prepare"], ["cache"]))
        names = [p.stem for p in changed if p.stem in graded]
        if names:
            jobs.append(Job("classroom", [PY, "-m", "tools.classroom", "--prepare", "--chapters", *names]))
        for path in changed:
            jobs.append(Job(f"build:{path.stem}", [PY, "-m", "tools.execute", "--notebook", _rel(path)], ["prepare"]))
            jobs.append(Job(f"check:{path.stem}", [PY, "-m", "tools.check_run", _rel(path)],
                            [f"build:{path.stem}"] + (["classroom"] if path.stem in graded else [])))  # fmt: skip
        chosen = " or ".join(f"[{p.stem}]" for p in changed)  # the parametrized tests of these chapters only
        jobs.append(_pytest("graded", "-m", "graded", "-k", chosen, "tests/test_check_run.py",
                            needs=[f"check:{p.stem}" for p in changed]))  # fmt: skip
    unchanged = len(chapter_notebooks(ROOT)) - len(changed)
    left_out = [f"the build and check run of the {unchanged} chapters whose code is unchanged since the last build",
                "the package's effect on unchanged chapters (make test runs them all)",
                "the Sphinx build, the browser, student-edition and PDF tests, the small book builds",
                "the conformance run of nbgrader validate and otter assign"]  # fmt: skip
    return jobs, left_out


def _expected(job: Job, last: dict) -> float:
    if job.name in last:
        return float(last[job.name])
    for prefix, seconds in GUESS.items():
        if job.name == prefix or (prefix[-1] in ":-" and job.name.startswith(prefix)):
            return float(seconds)
    return 60.0


def ranks(jobs: list[Job], last: dict) -> dict[str, float]:
    """Each job's expected seconds plus those of the longest chain of jobs that wait for it (its critical path)."""
    after: dict[str, list[str]] = {job.name: [] for job in jobs}
    for job in jobs:
        for need in job.needs:
            after.setdefault(need, []).append(job.name)
    by_name = {job.name: job for job in jobs}
    found: dict[str, float] = {}

    def rank(name: str) -> float:
        if name not in found:
            found[name] = _expected(by_name[name], last) + max((rank(n) for n in after[name]), default=0.0)
        return found[name]

    return {job.name: rank(job.name) for job in jobs}


def run(jobs: list[Job], slots: int, last: dict, say=print, logs: Path = ROOT / "_build" / "logs") -> None:
    """Run ``jobs`` on ``slots`` cores, the ready job with the longest critical path first; fill in each job's
    state and times (each job's output goes to ``logs``)."""
    logs.mkdir(parents=True, exist_ok=True)
    by_name = {job.name: job for job in jobs}
    rank = ranks(jobs, last)
    running: dict[subprocess.Popen, Job] = {}
    begin = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GAEDU_PIPELINE": "1", "PYTHONHASHSEED": "0"}
    for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "FRESH"):
        env.pop(key, None)
    while True:
        for job in jobs:  # a job whose dependency failed is skipped
            if job.state == "waiting" and any(by_name[n].state in ("failed", "skipped") for n in job.needs if n in by_name):
                job.state = "skipped"
                say(f"{time.perf_counter() - begin:6.0f} s  skipped {job.name} (it needs {', '.join(job.needs)})")
        used = sum(job.slots for job in running.values())
        ready = [j for j in jobs if j.state == "waiting" and all(by_name[n].state == "passed" for n in j.needs if n in by_name)]
        ready.sort(key=lambda j: -rank[j.name])
        for job in ready:
            if used + min(job.slots, slots) > slots:
                continue
            log = open(logs / f"{job.name.replace(':', '-')}.log", "w", encoding="utf-8")  # noqa: SIM115
            job.start, job.state = time.perf_counter(), "running"
            process = subprocess.Popen(job.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            running[process] = job
            used += min(job.slots, slots)
            say(f"{job.start - begin:6.0f} s  started {job.name}")
        if not running:
            break
        pid, status, usage = os.wait4(-1, 0)
        process = next(p for p in running if p.pid == pid)
        job = running.pop(process)
        process.returncode = os.waitstatus_to_exitcode(status)
        job.end, job.cpu = time.perf_counter(), usage.ru_utime + usage.ru_stime
        job.state = "passed" if process.returncode in job.ok else "failed"
        say(f"{job.end - begin:6.0f} s  {job.state} {job.name} ({job.seconds:.0f} s)")
        if job.state == "failed":
            tail = (logs / f"{job.name.replace(':', '-')}.log").read_text(encoding="utf-8", errors="replace")[-4000:]
            say("\n".join(f"    | {line}" for line in tail.splitlines()))


def over_limit(book: dict[str, int]) -> dict[str, int]:
    """The chapters executed more than :data:`MAX_EXECUTIONS` times."""
    return {name: n for name, n in book.items() if n > MAX_EXECUTIONS}


def _records(path: Path = ROOT / "_build" / "executions.jsonl") -> list[dict]:
    """This run's executions, one record each (``_build/executions.jsonl``)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []


def executions(path: Path = ROOT / "_build" / "executions.jsonl") -> dict[str, dict[str, int]]:
    """How often each notebook was executed in this run, and by whom (from ``_build/executions.jsonl``)."""
    counts: dict[str, Counter] = {}
    for record in _records(path):
        counts.setdefault(record["notebook"], Counter())[record["by"]] += 1
    return {name: dict(c) for name, c in sorted(counts.items())}


def _testcases(pattern: str = "*.xml"):
    """Every test case of this run's pytest jobs (their junit reports, ``_build/junit``)."""
    import xml.etree.ElementTree as ET

    for path in (ROOT / "_build" / "junit").glob(pattern):
        yield from ET.parse(path).iter("testcase")


def _test_counts() -> dict[str, int]:
    """The tests that passed, failed (or errored) and were skipped in this run's pytest jobs."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for case in _testcases():
        outcome = {child.tag for child in case}
        counts["failed" if outcome & {"failure", "error"} else "skipped" if "skipped" in outcome else "passed"] += 1
    return counts


def _slowest_tests(limit: int = 10) -> list[tuple[str, float]]:
    found = [(f"{case.get('classname')}::{case.get('name')}", float(case.get("time") or 0)) for case in _testcases()]
    return sorted(found, key=lambda item: -item[1])[:limit]


def _file_seconds() -> dict[str, float]:
    """Seconds per test file in this run's unit jobs (the next run balances the unit jobs by them)."""
    seconds: dict[str, float] = {}
    for case in _testcases("unit-*.xml"):
        name = (case.get("classname") or "").split(".")[-1] + ".py"
        seconds[name] = seconds.get(name, 0.0) + float(case.get("time") or 0)
    return seconds


def report(jobs: list[Job], total: float, tier: str) -> dict:
    """Print the time report and return it (``_build/test-report.json``'s contents)."""
    counts = executions()
    book = {name: sum(c.values()) for name, c in counts.items() if name.startswith("book/")}
    seconds: dict[str, float] = {}
    for record in _records():
        key = f"{record['notebook']} ({record['by']})"
        seconds[key] = seconds.get(key, 0.0) + record["seconds"]
    data = {
        "tier": tier,
        "total_s": round(total, 1),
        "stages": {job.name: round(job.seconds, 1) for job in jobs if job.state in ("passed", "failed")},
        "cpu_s": {job.name: round(job.cpu, 1) for job in jobs if job.state in ("passed", "failed")},
        "failed": [job.name for job in jobs if job.state == "failed"],
        "skipped": [job.name for job in jobs if job.state == "skipped"],
        "executions": book,
        "executions_by": counts,
        "execution_seconds": seconds,
        "slowest_tests": _slowest_tests(),
        "tests": _test_counts(),
    }
    print(f"\n{'job':<34}{'wall s':>8}{'CPU s':>8}  state")
    for job in sorted(jobs, key=lambda j: -j.seconds):
        print(f"{job.name:<34}{job.seconds:>8.0f}{job.cpu:>8.0f}  {job.state}")
    print(f"\n{'notebook':<58}{'runs':>5}{'build s':>9}{'check s':>9}")
    for name, count in book.items():
        build, check = seconds.get(f"{name} (build)", 0), seconds.get(f"{name} (check)", 0)
        print(f"{name:<58}{count:>5}{build:>9.0f}{check:>9.0f}")
    others = {name: c for name, c in counts.items() if not name.startswith("book/")}
    for name, c in others.items():
        print(f"  also executed: {name} ({', '.join(f'{by} ×{n}' for by, n in c.items())})")
    if data["slowest_tests"]:
        print("\nthe ten slowest tests:")
        for name, secs in data["slowest_tests"]:
            print(f"  {secs:7.1f} s  {name}")
    print(f"\n{tier}: {total:.0f} s in all ({total / 60:.1f} min), {sum(book.values())} chapter executions")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tier", choices=("test", "check", "seconds"),
                        help="seconds: write the last make test's seconds to tools/pipeline-seconds.json")
    parser.add_argument("--slots", type=int, default=max(2, os.cpu_count() or 2), help="jobs at once (default: cores)")
    args = parser.parse_args(argv)
    if args.slots < 1:
        parser.error(f"--slots must be at least 1, got {args.slots}")
    build = ROOT / "_build"
    build.mkdir(exist_ok=True)
    if args.tier == "seconds":
        measured = {"jobs": json.loads(REPORT.read_text(encoding="utf-8"))["stages"],
                    "test_files": json.loads(DURATIONS.read_text(encoding="utf-8"))}  # fmt: skip
        SECONDS.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {SECONDS.relative_to(ROOT)}")
        return 0
    last = json.loads(SECONDS.read_text(encoding="utf-8"))["jobs"] if SECONDS.is_file() else {}
    if REPORT.is_file():
        try:
            last = {**last, **json.loads(REPORT.read_text(encoding="utf-8")).get("stages", {})}
        except (ValueError, AttributeError):
            pass
    for stale in [build / "executions.jsonl", *(build / "junit").glob("*.xml")]:
        stale.unlink(missing_ok=True)
    (build / "check").mkdir(exist_ok=True)
    for old in (build / "check").glob("*.json"):
        old.unlink()
    if args.tier == "test":
        jobs, left_out = test_jobs(), []
    else:
        jobs, left_out = check_jobs()
    start = time.perf_counter()
    if args.tier == "test":  # what a cold model cache will cost, before anything starts
        subprocess.run([PY, "-m", "gaedu", "cache", "--plan", "--jobs", "2"], cwd=ROOT, check=False)
    print(f"{len(jobs)} jobs on {args.slots} cores, one process per core; each job's output in _build/logs/", flush=True)
    run(jobs, args.slots, last, say=lambda line: print(line, flush=True))
    total = time.perf_counter() - start
    data = report(jobs, total, f"make {args.tier}")
    if seconds := _file_seconds():
        DURATIONS.write_text(json.dumps({**(json.loads(DURATIONS.read_text()) if DURATIONS.is_file() else {}),
                                         **seconds}, indent=1), encoding="utf-8")  # fmt: skip
    if args.tier == "test" or not REPORT.is_file():
        REPORT.write_text(json.dumps(data, indent=1), encoding="utf-8")
    else:  # make check keeps make test's report, adding what it measured
        REPORT.with_name("check-report.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    bad = 0
    over = over_limit(data["executions"])
    if over:
        print(f"FAILED: chapters executed more than {MAX_EXECUTIONS} times: {over}")
        bad += 1
    if data["failed"] or data["skipped"]:
        print(f"FAILED: {', '.join(data['failed'])}" + (f"; not run: {', '.join(data['skipped'])}" if data["skipped"] else ""))
        print("each job's output is in _build/logs/")
        bad += 1
    if left_out:
        print("make check did not run:" + "".join(f"\n  - {line}" for line in left_out))
    passed = sum(job.state == "passed" for job in jobs)
    print(f"jobs: {passed} of {len(jobs)} passed, {len(data['failed'])} failed, {len(data['skipped'])} not run")
    tests = data["tests"]
    print(f"tests: {tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
