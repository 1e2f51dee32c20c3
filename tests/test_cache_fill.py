"""Filling the model cache (gaedu.cache_fill, ``python -m gaedu cache``): what is missing, the plan, two workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gaedu import cache_fill
from gaedu.cache_fill import Item
from gaedu.zoo import SEEDED, SEEDS, names


def test_every_model_the_book_loads_is_an_item_once():
    items = cache_fill.items()
    assert len({item.path for item in items}) == len(items)  # 'digits8-ae' and 'digits8-ae-8' are one file
    labels = {item.label for item in items}
    for name in names():
        for seed in SEEDS if name in SEEDED else (0,):
            if name != "digits8-ae-8" or seed:
                assert (f"{name} seed {seed}" if seed else name) in labels
    assert {"denoiser", "dip-study", "mnist28-kde-choice", "digits8-gmm-choice"} <= labels
    assert all(item.needs == ("mnist28-judge",) for item in items if item.name in ("mnist28-gan", "mnist28-mlp-gan"))


def _item(name: str, seconds: float, needs=()) -> Item:
    cache_fill.EXPECTED_SECONDS[name] = seconds
    return Item(name, 0, Path(f"/nowhere/{name}.pt"), tuple(needs))


@pytest.fixture
def planned(monkeypatch):
    monkeypatch.setattr(cache_fill, "EXPECTED_SECONDS", dict(cache_fill.EXPECTED_SECONDS))
    return [_item("small", 10), _item("judge", 60), _item("gan", 300, ["judge"]), _item("big", 200)]


def test_the_order_is_longest_first_after_what_each_needs(planned):
    order = [item.name for item in cache_fill._order(planned)]
    assert order == ["judge", "gan", "big", "small"]  # the judge first: the longest item waits for it


def test_two_workers_plan_about_half_the_time(planned):
    assert cache_fill._makespan(planned, 1) == 570
    assert cache_fill._makespan(planned, 2) == 360  # judge then gan on one worker, big and small on the other
    text = cache_fill.plan(planned, 2)
    assert text.splitlines()[0].endswith("takes about 6 min on 2 workers of one thread:")
    assert [line.split()[0] for line in text.splitlines()[1:]] == ["gan", "big", "judge", "small"]


def test_a_full_cache_plans_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    everything = cache_fill.items()
    for item in everything:
        item.path.write_bytes(b"")  # a directory listing: nothing is loaded
    assert cache_fill.missing() == []
    assert cache_fill.plan([], 2).endswith(f"holds all {len(everything)} of the book's models: nothing to train")
    assert cache_fill.fill(2, say=lambda line: None) == []


@pytest.mark.parametrize("jobs", [0, -1, True, 1.5])
def test_bad_jobs_are_refused(jobs):
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        cache_fill.fill(jobs)


def _gaedu(*args: str, env_dir: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "GAEDU_CACHE_DIR": str(env_dir)}
    return subprocess.run([sys.executable, "-m", "gaedu", "cache", *args], capture_output=True, text=True, env=env)


def test_plan_and_check_train_nothing_and_check_fails_on_a_missing_model(tmp_path):
    planned = _gaedu("--plan", "--jobs", "2", env_dir=tmp_path)
    count = len(cache_fill.items())  # every item is missing from an empty cache
    assert planned.returncode == 0 and f"lacks {count} of the book's models" in planned.stdout
    assert "on 2 workers of one thread" in planned.stdout and list(tmp_path.iterdir()) == []
    checked = _gaedu("--check", env_dir=tmp_path)
    assert checked.returncode == 2 and list(tmp_path.iterdir()) == []
    assert checked.stderr.strip().splitlines() == [
        f"python -m gaedu cache: error: the model cache lacks {count} of the book's models: run python -m gaedu cache"]
    assert _gaedu("--jobs", "0", env_dir=tmp_path).returncode == 2


def test_two_workers_train_what_is_missing_and_report_a_failure_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    todo = [item for item in cache_fill.items() if item.name in ("digits8-kde-choice", "digits8-gmm-choice")]
    monkeypatch.setattr(cache_fill, "missing", lambda everything=None: [i for i in todo if not i.path.is_file()])
    said = []
    done = cache_fill.fill(2, progress=False, say=said.append)
    assert sorted(item.name for item, _ in done) == ["digits8-gmm-choice", "digits8-kde-choice"]
    assert all(item.path.is_file() for item in todo) and sum("started" in line for line in said) == 2
    assert cache_fill.fill(2, say=said.append) == []  # the second fill finds both
    broken = [Item("no-such-model", 0, tmp_path / "none.pt"), *todo]
    monkeypatch.setattr(cache_fill, "missing", lambda everything=None: broken[:1])
    with pytest.raises(RuntimeError, match="training no-such-model for the model cache failed: unknown pretrained model"):
        cache_fill.fill(2, progress=False, say=said.append)
