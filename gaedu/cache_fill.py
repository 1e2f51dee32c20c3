"""Filling the model cache: what the book needs, what is missing, and training it on every core.

``python -m gaedu cache`` calls :func:`fill`. Each item the book loads (the restoration
chapter's denoiser and Deep Image Prior study, every :func:`gaedu.zoo.pretrained` model at
each seed the book compares, and the baselines' held-out-likelihood searches) is one
:class:`Item`; its file in the cache is known without loading anything, so
:func:`missing` is a directory listing and :func:`plan` prints what a fill would train and
about how long it takes (:data:`EXPECTED_SECONDS`, measured at one thread on a 2-core CPU)
before anything starts.

With ``jobs > 1`` the missing items are trained by that many worker processes of one
thread each (two processes that each used both cores would spend their time waiting for
each other), longest first, and an item waits for the items it needs (the 28×28 GANs
record their training curve with the 28×28 judge). A failure in one item stops the
others from starting and is reported with the item's name.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from gaedu.cache import cache_dir, cached_path
from gaedu.restoration.denoiser import DenoiserConfig, load_denoiser
from gaedu.restoration.dip import dip_study, dip_study_config
from gaedu.zoo import BASELINE_DATASETS, SEEDED, SEEDS, _baseline_config, _recipe, baseline_choice, names, pretrained

#: Seconds each item takes to train at one thread on the 2-core CPU the book is tested on
#: (measured by ``python -m gaedu cache --jobs 2``, which prints the figures; per seed).
#: An item not listed is planned at :data:`DEFAULT_SECONDS`.
EXPECTED_SECONDS = {
    "denoiser": 780, "dip-study": 190, "mnist28-judge": 65, "mnist28-gan": 335, "mnist28-mlp-gan": 70,
    "mnist28-ae-8": 80, "mnist28-ae-16": 80, "mnist28-ae-32": 100, "digits8-score": 170, "digits8-guide": 17, "digits8-gan": 35,
    "digits8-ae": 10, "digits8-ae-2": 10, "digits8-ae-4": 10, "digits8-ae-8": 10, "digits8-ae-16": 10,
    "digits8-ae-32": 10, "digits8-dae": 10, "ring-score": 28, "ring-gan": 25, "ring-gan-plain": 17, "ring-gan-r1": 25,
    "ring-gan-average": 17, "mnist28-kde-choice": 35, "mnist28-gmm-choice": 25, "digits8-kde-choice": 2,
    "digits8-gmm-choice": 2,
}  # fmt: skip
#: The plan's figure for an item :data:`EXPECTED_SECONDS` does not list.
DEFAULT_SECONDS = 60


@dataclass(frozen=True)
class Item:
    """One thing the model cache holds for the book.

    Attributes:
        name: what it is (a :func:`gaedu.zoo.names` name, ``'denoiser'``, ``'dip-study'`` or
            ``'DATASET-KIND-choice'``); with ``seed``, its label.
        seed: the training seed (0 where the book uses one).
        path: its file in the cache.
        needs: the labels of the items it loads while it trains.
    """

    name: str
    seed: int
    path: Path
    needs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} seed {self.seed}" if self.seed else self.name

    @property
    def expected_seconds(self) -> float:
        return float(EXPECTED_SECONDS.get(self.name, DEFAULT_SECONDS))


def items() -> list[Item]:
    """Every item the book loads from the model cache, in the order ``python -m gaedu cache`` has always filled it."""
    out = [Item("denoiser", 0, cached_path("denoiser", DenoiserConfig().to_dict())),
           Item("dip-study", 0, cached_path("dip-study", dip_study_config()))]  # fmt: skip
    for name in names():
        for seed in SEEDS if name in SEEDED else (0,):
            kind, config, _, _ = _recipe(name, False, seed)
            needs = ("mnist28-judge",) if name in ("mnist28-gan", "mnist28-mlp-gan") else ()
            out.append(Item(name, seed, cached_path(kind, config), needs))
    for dataset in BASELINE_DATASETS:
        for kind in ("kde", "gmm"):
            out.append(Item(f"{dataset}-{kind}-choice", 0, cached_path(f"{dataset}-{kind}-choice",
                                                                       _baseline_config(kind, dataset))))  # fmt: skip
    unique: dict[Path, Item] = {}  # 'digits8-ae' and 'digits8-ae-8' are one model: train it once
    for item in out:
        unique.setdefault(item.path, item)
    return list(unique.values())


def missing(everything: list[Item] | None = None) -> list[Item]:
    """The items whose file is not in the cache (a directory listing: nothing is loaded)."""
    return [item for item in (items() if everything is None else everything) if not item.path.is_file()]


def plan(todo: list[Item], jobs: int = 1) -> str:
    """What a fill would train, longest first, with the expected seconds and the total on ``jobs`` workers."""
    if not todo:
        return f"the model cache {cache_dir()} holds all {len(items())} of the book's models: nothing to train"
    lines = [f"the model cache {cache_dir()} lacks {len(todo)} of the book's models; training them takes about "
             f"{_minutes(_makespan(todo, jobs))} on {jobs} worker{'s' if jobs > 1 else ''} of one thread:"]  # fmt: skip
    seeds: dict[str, list[Item]] = {}
    for item in sorted(todo, key=lambda i: (-i.expected_seconds, i.seed)):
        seeds.setdefault(item.name, []).append(item)
    for name, group in seeds.items():
        which = f" (seeds {', '.join(str(i.seed) for i in group)})" if len(group) > 1 or group[0].seed else ""
        times = f"{len(group)} × " if len(group) > 1 else ""
        lines.append(f"  {name + which:<34} {times}~{group[0].expected_seconds:.0f} s")
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _makespan(todo: list[Item], jobs: int) -> float:
    """The wall seconds of training ``todo`` longest first on ``jobs`` workers (from the expected seconds)."""
    free = [0.0] * jobs
    done: dict[str, float] = {}
    for item in _order(todo):
        slot = min(range(jobs), key=free.__getitem__)
        start = max([free[slot], *(done.get(label, 0.0) for label in item.needs)])
        free[slot] = done[item.label] = start + item.expected_seconds
    return max(free)


def _order(todo: list[Item]) -> list[Item]:
    """Longest first, except that an item comes after the items it needs (which then go first among equals)."""
    labels = {item.label for item in todo}
    needed = {label for item in todo for label in item.needs}
    ranked = sorted(todo, key=lambda i: (i.label not in needed, -i.expected_seconds))
    out, placed = [], set()
    while ranked:
        item = next(i for i in ranked if all(n in placed or n not in labels for n in i.needs))
        ranked.remove(item)
        out.append(item)
        placed.add(item.label)
    return out


def train_item(name: str, seed: int, progress: bool = True) -> float:
    """Train (or load) one item into the cache; return the seconds it took."""
    start = time.perf_counter()
    if name == "denoiser":
        load_denoiser(progress=progress)
    elif name == "dip-study":
        dip_study(progress=progress)
    elif name.endswith("-choice"):
        dataset, kind, _ = name.split("-")
        baseline_choice(kind, dataset=dataset, progress=progress)
    else:
        pretrained(name, seed=seed, progress=progress)
    return time.perf_counter() - start


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def fill(jobs: int = 1, *, progress: bool = True, say: Callable[[str], None] = print) -> list[tuple[Item, float]]:
    """Train every missing item, on ``jobs`` worker processes of one thread each; return ``(item, seconds)`` of each.

    ``jobs=1`` trains in this process with its own thread count and the progress bars;
    ``jobs > 1`` prints one line as each item starts and ends (bars from parallel workers
    would overwrite each other).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    todo = missing()
    say(plan(todo, jobs))
    if not todo:
        return []
    order = _order(todo)
    done: list[tuple[Item, float]] = []
    if jobs == 1:
        for n, item in enumerate(order, 1):
            say(f"[{n}/{len(order)}] {item.label}")
            done.append((item, train_item(item.name, item.seed, progress)))
        return done
    import multiprocessing

    os.environ["OMP_NUM_THREADS"] = "1"  # the workers inherit it before they import torch
    labels = {item.label for item in order}
    finished: set[str] = set()
    running: dict[Future, tuple[Item, float]] = {}
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread) as pool:
        while order or running:
            while order and len(running) < jobs:
                ready = [i for i in order if all(n in finished or n not in labels for n in i.needs)]
                if not ready:
                    break
                item = ready[0]
                order.remove(item)
                running[pool.submit(train_item, item.name, item.seed, False)] = (item, time.perf_counter())
                say(f"  started  {item.label} (~{item.expected_seconds:.0f} s)")
            complete, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in complete:
                item, _ = running.pop(future)
                try:
                    seconds = future.result()
                except BaseException as err:
                    for other in running:
                        other.cancel()
                    raise RuntimeError(f"training {item.label} for the model cache failed: {err}") from err
                finished.add(item.label)
                done.append((item, seconds))
                say(f"  [{len(done)}/{len(todo)}] {item.label}: {seconds:.0f} s "
                    f"(planned ~{item.expected_seconds:.0f} s; {time.perf_counter() - start:.0f} s so far)")  # fmt: skip
    return done


def report(done: list[tuple[Item, float]]) -> str:
    """The measured seconds of a fill beside the planned ones, one line per item (for :data:`EXPECTED_SECONDS`)."""
    lines = [f"  {item.label:<28} {seconds:>6.0f} s  (planned {item.expected_seconds:.0f} s)" for item, seconds in done]
    return "\n".join(["measured at one thread per worker:", *lines]) if lines else ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use python -m gaedu cache")
