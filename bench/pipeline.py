"""The test pipeline's time: the last `make test` and `make check` beside the targets and the old pipeline's figures.

Usage: .venv/bin/python -m bench.pipeline [--fresh-clone]

Reads ``_build/test-report.json`` (written by ``make test``) and ``_build/check-report.json``
(``make check``). With --fresh-clone it first clones this repository's committed state
into a temporary folder and runs ``make test`` there (install included, the model cache
as it is), which is how the targets are meant.
Targets on a 2-core CPU: ``make test`` at most 25 minutes with the model cache filled,
``make check`` at most 5 minutes after one chapter's code changed, every chapter executed
at most twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_TARGET_S, CHECK_TARGET_S, MAX_EXECUTIONS = 25 * 60.0, 5 * 60.0, 2
#: The pipeline before the scheduler and the check runs: a fresh clone of the repository, model
#: cache filled, 2 cores (make test's own log), and the same suite's runs in continuous integration.
BASELINE = {"make test, fresh clone (s)": 2261, "make test in CI, last run (s)": 2783, "chapter executions": 85,
            "executions per chapter": 5}  # fmt: skip


def fresh_clone_make_test() -> float:
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "book"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.perf_counter()
        result = subprocess.run(["make", "test"], cwd=clone)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit("make test failed in the fresh clone")
        (ROOT / "_build").mkdir(exist_ok=True)
        (ROOT / "_build" / "test-report.json").write_bytes((clone / "_build" / "test-report.json").read_bytes())
    return seconds


def main(argv: list[str]) -> int:
    clone_seconds = fresh_clone_make_test() if "--fresh-clone" in argv else None
    report = ROOT / "_build" / "test-report.json"
    if not report.is_file():
        raise SystemExit(f"{report} is missing: run make test first")
    test = json.loads(report.read_text(encoding="utf-8"))
    check_path = ROOT / "_build" / "check-report.json"
    check = json.loads(check_path.read_text(encoding="utf-8")) if check_path.is_file() else None
    most = max(test["executions"].values())
    executions = sum(seconds for name, seconds in test["stages"].items() if name.startswith(("build:", "check:")))
    rows = [
        ("make test (s)", test["total_s"], TEST_TARGET_S, BASELINE["make test, fresh clone (s)"]),
        ("chapter executions", sum(test["executions"].values()), None, BASELINE["chapter executions"]),
        ("executions per chapter, most", most, MAX_EXECUTIONS, BASELINE["executions per chapter"]),
        # The same chapters take the same CPU time on the same machine: their job seconds show the machine's pace,
        # so two runs' totals compare only where these agree (they differed by a fifth between two runs of one code).
        ("chapter executions' job seconds (the machine's pace)", executions, None, None),
        ("every other job's seconds", sum(test["stages"].values()) - executions, None, None),
    ]
    if clone_seconds is not None:
        rows.insert(0, ("make test in a fresh clone, install included (s)", clone_seconds, TEST_TARGET_S,
                        BASELINE["make test, fresh clone (s)"]))  # fmt: skip
    if check:
        rows.append(("make check (s)", check["total_s"], CHECK_TARGET_S, None))
    print(f"{'figure':<52}{'now':>9}{'target':>9}{'before':>9}")
    bad = 0
    for name, now, target, before in rows:
        over = target is not None and now > target
        bad += over
        print(f"{name:<52}{now:>9.0f}{'' if target is None else f'{target:>9.0f}':>9}"
              f"{'' if before is None else f'{before:>9.0f}':>9}{'  over target' if over else ''}")  # fmt: skip
    print(f"\n{'stage':<40}{'wall s':>8}{'CPU s':>8}")
    for name, seconds in sorted(test["stages"].items(), key=lambda item: -item[1]):
        print(f"{name:<40}{seconds:>8.0f}{test['cpu_s'].get(name, 0):>8.0f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
