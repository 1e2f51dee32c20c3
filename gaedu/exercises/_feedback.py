"""The feedback mechanism that every checker shares: a hint instead of a traceback, a ✓ line on success.

Every helper that reads a student's answer fails with an :class:`ExerciseFeedback`
whose message says what kind of answer was expected, so the checkers only have to
judge answers of the right kind.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np
import torch


class ExerciseFeedback(AssertionError):
    """A wrong answer, with a hint as its message."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: the hint is all a
        # student needs to see, and the checker's internals would only distract.
        # ("Word: message" is also the form that traceback highlighters expect.)
        return [f"\x1b[1;31mHint\x1b[0m: {self}"]


def _fail(hint: str) -> NoReturn:
    raise ExerciseFeedback(hint)


def _ok(message: str) -> None:
    print(f"✓ {message}")


def _to_array(answer: Any, what: str) -> np.ndarray:
    """Convert a number, list, NumPy array or tensor to a float64 array, or fail with a hint."""
    if answer is None:
        _fail(f"the answer is None; expected {what} (did you forget to assign or return it?)")
    if callable(answer) and not isinstance(answer, (np.ndarray, torch.Tensor)):
        _fail(f"the answer is a function; expected {what} (did you forget to call it?)")
    array = None
    try:
        if isinstance(answer, torch.Tensor):
            array = answer.detach().cpu().double().numpy()
        else:
            array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    if array is None:  # failing outside the handler keeps the hint free of a chained traceback
        _fail(f"could not read a {type(answer).__name__} as numbers; expected {what}")
    if not np.all(np.isfinite(array)):
        _fail("the answer contains NaN or infinite values")
    return array


def _to_number(answer: Any, what: str) -> float:
    """Convert a single number (of any kind :func:`_to_array` reads) to a float, or fail with a hint."""
    array = _to_array(answer, what)
    if array.size != 1:
        _fail(f"expected {what}, got {array.size} values of shape {tuple(array.shape)}")
    return float(array.reshape(()))


def _per_image(out: Any, n: int, what: str) -> np.ndarray:
    """Convert one number per image of a batch of ``n`` to a flat array ``(n,)``, or fail with a hint."""
    values = _to_array(out, what)
    if values.size != n:
        _fail(f"expected {what}: {n} numbers for {n} images, got {values.size} of shape {tuple(values.shape)}")
    return values.reshape(-1)


def _scalar_output(out: Any, what: str, *, source: str = "its inputs") -> torch.Tensor:
    """Return ``out`` as a 0-d tensor, or fail unless it is a finite, differentiable scalar tensor.

    ``what`` names the answer in the hints (``"your loss"``), ``source`` what it must be
    computed from (``"theta"``, ``"model(x)"``).
    """
    if out is None:
        _fail(f"{what} returned None; one number, a scalar tensor, was expected (did you forget to return it?)")
    if not isinstance(out, torch.Tensor):
        _fail(f"{what} must be a torch tensor, not a {type(out).__name__}, so that autograd can differentiate it")
    if out.numel() != 1:
        _fail(f"{what} must be one number (a scalar tensor), got {out.numel()} values of shape {tuple(out.shape)}")
    if not out.requires_grad:
        _fail(
            f"{what} carries no gradient, so it does not depend on {source}: compute it from {source} "
            "with torch operations, without detach() or torch.no_grad()"
        )
    if not torch.isfinite(out.detach()).all():
        _fail("the answer contains NaN or infinite values")
    return out.reshape(())


def _call(fn: Any, *args: Any) -> Any:
    """Call a student's function; turn any exception into a hint."""
    if not callable(fn):
        _fail(f"a function was expected, got {type(fn).__name__}")
    try:
        return fn(*args)
    except ExerciseFeedback:
        raise
    except Exception as err:  # any error in student code becomes a hint, not a traceback
        hint = f"your function raised {type(err).__name__}: {err}"
    _fail(hint)  # raised outside the handler, so no chained traceback follows the hint
