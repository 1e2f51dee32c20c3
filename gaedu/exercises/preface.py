"""Exercises of the preface: a reproducible random draw."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _fail, _ok, _to_array

SEEDED_DRAW_SEED = 2024


def check_seeded_draw(answer: Any) -> None:
    """Check five numbers drawn by ``torch.rand(5)`` right after ``set_seed(2024)``."""
    values = _to_array(answer, "five numbers from torch.rand(5)").reshape(-1)
    if values.size != 5:
        _fail(f"five numbers were expected, got {values.size}")
    expected = torch.rand(5, generator=torch.Generator().manual_seed(SEEDED_DRAW_SEED))
    if not np.allclose(values, expected.double().numpy(), atol=1e-7):
        _fail(
            "these are not the numbers that follow set_seed(2024): seed right before the draw, "
            "with nothing else drawn in between"
        )
    _ok("the same five numbers on every run: your notebook is reproducible")
