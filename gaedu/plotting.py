"""Small plotting helpers shared by the chapters.

Each helper draws into a new figure (or the axes it is given) and returns it,
so a notebook cell can end with the figure and show it once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def show_images(
    images: torch.Tensor | np.ndarray,
    nrows: int,
    ncols: int,
    *,
    titles: Sequence[str] | None = None,
    scale: float = 1.1,
    cmap: str = "gray_r",
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
):
    """Draw a grid of small grey images and return the figure.

    Args:
        images: shape ``(N, 1, H, W)`` or ``(N, H, W)``; at most ``nrows * ncols``
            of them are drawn, row by row.
        nrows, ncols: grid size.
        titles: one short title per image (optional).
        scale: inches per image.
        cmap: colour map; ``'gray_r'`` draws ink dark on white paper.
        vmin, vmax: the value range mapped to the colour map (``None``: each
            image's own range).

    Raises:
        ValueError: the images do not have one of the shapes above, or there
            are fewer titles than images drawn.
    """
    import matplotlib.pyplot as plt

    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"show_images() needs images of shape (N, 1, H, W) or (N, H, W), got {images.shape}")
    count = min(len(array), nrows * ncols)
    if titles is not None and len(titles) < count:
        raise ValueError(f"show_images() got {len(titles)} titles for {count} images")
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < count:
            ax.imshow(array[k], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    plt.close(fig)  # the caller shows it; closing keeps Jupyter from drawing it twice
    return fig
