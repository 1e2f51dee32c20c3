"""Exercises of the chapter "Image generation and reconstruction": the mean digit and the kinds of tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gaedu.data import load_digits
from gaedu.exercises._feedback import _call, _fail, _ok, _to_array


def check_mean_digit(answer: Any) -> None:
    """Check the average image of the digit 3 over the ``'train'`` split, shape ``(8, 8)``."""
    image = _to_array(answer, "an 8×8 image").squeeze()
    if image.shape != (8, 8):
        _fail(f"an 8×8 image was expected, got shape {tuple(np.shape(answer))}")
    X, y = load_digits("train")
    expected = X[y == 3].mean(dim=0).squeeze().double().numpy()
    if np.allclose(image, expected, atol=1e-5):
        _ok("that is the average training 3")
        return
    if np.allclose(image / 16.0, expected, atol=1e-5):
        _fail("your pixels are 16 times too large: load_digits already scales them into [0, 1]")
    X_test, y_test = load_digits("test")
    if np.allclose(image, X_test[y_test == 3].mean(dim=0).squeeze().double().numpy(), atol=1e-5):
        _fail("this average comes from the test split; use the 'train' split")
    if np.allclose(image, X.mean(dim=0).squeeze().double().numpy(), atol=1e-5):
        _fail("this is the average of every digit; keep only the images labelled 3")
    _fail("not the average training 3: select the images whose label is 3, then average over them")


TASKS: tuple[str, ...] = (
    "fill in the torn-off half of a scanned digit",
    "draw handwriting that nobody has written",
    "remove sensor noise from a photograph",
    "make a synthetic training set of faces",
    "recover an image from its compressed code",
    "sample a new digit from a trained GAN",
)
_TASK_KINDS = ("reconstruction", "generation", "reconstruction", "generation", "reconstruction", "generation")


def check_task_kinds(answer: Any) -> None:
    """Check a dict that labels each task in ``TASKS`` ``'generation'`` or ``'reconstruction'``."""
    if not isinstance(answer, Mapping):
        _fail(f"a dict from each task in TASKS to its kind was expected, got {type(answer).__name__}")
    missing = [task for task in TASKS if task not in answer]
    if missing:
        _fail(f"{len(missing)} task(s) of TASKS have no label, for example {missing[0]!r}")
    labels = {task: str(answer[task]).strip().lower() for task in TASKS}
    odd = sorted(set(labels.values()) - {"generation", "reconstruction"})
    if odd:
        _fail(f"each label must be 'generation' or 'reconstruction', found {odd[0]!r}")
    right = sum(labels[task] == kind for task, kind in zip(TASKS, _TASK_KINDS, strict=True))
    if right < len(TASKS):
        _fail(
            f"{right} of {len(TASKS)} are right. For each task ask: is there an observed image "
            "that the output must agree with?"
        )
    _ok("all six tasks sorted correctly")


def check_left_half_mask(mask_left_half: Any) -> None:
    """Check ``mask_left_half(x)``: a copy of ``x`` (rows of 64 pixels) with the left four columns of each
    8 × 8 image set to NaN and everything else kept; ``x`` itself must not change."""
    if not callable(mask_left_half):
        _fail("a function mask_left_half(x) was expected")
    x = load_digits("test")[0][:5].double().numpy().reshape(5, 64)
    before = x.copy()
    out = _call(mask_left_half, x)
    if out is None:
        _fail("mask_left_half returned None; return the masked copy")
    y = np.asarray(out, dtype=np.float64)
    if not np.array_equal(x, before, equal_nan=True):
        _fail("mask_left_half changed its input: work on a copy, so the clean digits stay clean")
    if y.size != x.size:
        _fail(f"the result should have {x.size} values like the input, got {y.size}")
    y = y.reshape(5, 8, 8)
    want = np.zeros((8, 8), dtype=bool)
    want[:, :4] = True
    missing = np.isnan(y)
    if not (missing == want).all():
        if (missing == want.T).all():
            _fail("that hides the top four rows; the exercise hides the left four columns")
        if missing.sum() == 0:
            _fail("no pixel is marked missing: set the hidden pixels to np.nan")
        _fail(f"the NaN pixels are not the left four columns of each image ({int(missing[0].sum())} NaNs in the first)")
    if not np.array_equal(y[~missing], before.reshape(5, 8, 8)[~missing]):
        _fail("the visible pixels changed: keep the right half exactly as it was")
    _ok("the left four columns are missing and the right half is untouched")
