"""Small plotting helpers shared by the chapters.

Each helper draws into a new figure (or the axes it is given) and returns it,
so a notebook cell can end with the figure and show it once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gaedu.ascent import Trajectory
from gaedu.objectives import grid_values


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
        raise ValueError(f"show_images() needs images of shape (N, 1, H, W) or (N, H, W), got {array.shape}")
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


def mosaic(images: torch.Tensor | np.ndarray, ncols: int, *, pad: int = 1, fill: float = 0.5) -> np.ndarray:
    """Tile images ``(N, 1, H, W)`` or ``(N, H, W)`` into one 2-D array, ``ncols`` per row, ``pad`` pixels apart.

    One ``imshow`` of the result draws a large grid far faster than one axis per image.
    The gaps and the empty cells of the last row hold ``fill``: mid-grey for images in
    ``[0, 1]`` by default, so that the lines show on white paper and on black ink alike.

    Raises:
        ValueError: the images do not have one of the shapes above, or a bad ``ncols`` or ``pad``.
    """
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or not len(array):
        raise ValueError(f"mosaic() needs images of shape (N, 1, H, W) or (N, H, W), got {array.shape}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be an integer >= 0, got {pad!r}")
    n, h, w = array.shape
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), fill, dtype=np.float64)
    for k, image in enumerate(array):
        r, c = divmod(k, ncols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = image
    return out


# ---------------------------------------------------------------------------
# Ascent on a 2-D objective: where the iterates go, and how fast J rises.
# ---------------------------------------------------------------------------


def _new_axes(ax, figsize: tuple[float, float]):
    """Return ``(fig, ax, created)``: the given axes' figure, or a new figure with one axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax, False
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax, True


def _as_trajectories(trajectories, labels, caller: str, *, planar: bool) -> list:
    """Return the trajectories as a list, after checking them (and ``labels``) for ``caller``."""
    items = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    for item in items:
        if not isinstance(item, Trajectory):
            raise ValueError(f"{caller}() takes Trajectory objects from ascend(), got {type(item).__name__}")
        if planar and (item.points.ndim != 2 or item.points.shape[1] != 2):
            raise ValueError(f"{caller}() draws 2-D trajectories, got points of shape {item.points.shape}")
    if labels is not None and len(labels) != len(items):
        raise ValueError(f"{caller}() got {len(labels)} labels for {len(items)} trajectories")
    return items


def _check_bounds(objective, bounds, caller: str) -> tuple[float, float, float, float]:
    """Return ``bounds`` (or the objective's own) as four floats with ``xmin < xmax`` and ``ymin < ymax``."""
    bounds = objective.bounds if bounds is None else bounds
    try:
        xmin, xmax, ymin, ymax = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"{caller}() needs bounds (xmin, xmax, ymin, ymax), got {bounds!r}") from None
    if not (np.isfinite([xmin, xmax, ymin, ymax]).all() and xmin < xmax and ymin < ymax):
        raise ValueError(f"{caller}() needs finite bounds with xmin < xmax and ymin < ymax, got {bounds!r}")
    return xmin, xmax, ymin, ymax


def _draw_landscape(ax, objective, bounds, levels, resolution: int, show_maximum: bool, smooth: bool = False) -> None:
    """Draw filled contours of ``objective`` over ``bounds`` (and its maximizer as a star) into ``ax``."""
    from matplotlib.colors import BoundaryNorm

    X, Y, Z = grid_values(objective, bounds, resolution)  # each (resolution, resolution)
    if np.ndim(levels) == 0:  # a count: levels at quantiles of J, so each band covers about the same area
        levels = np.unique(np.quantile(Z, np.linspace(0.0, 1.0, int(levels) + 1)))
    # grey bands, darker uphill, so coloured paths stand out; smooth=True antialiases their edges
    norm = BoundaryNorm(levels, 256)  # evenly spread shades, however uneven the levels
    ax.contourf(X, Y, Z, levels=levels, cmap="Greys", norm=norm, alpha=0.6, antialiased=smooth)
    if show_maximum:
        x, y = objective.maximizer
        ax.plot(x, y, "*", ms=15, color="gold", mec="black", mew=0.8, label="maximum", zorder=4)
    ax.set(xlim=bounds[:2], ylim=bounds[2:], xlabel="$x_1$", ylabel="$x_2$", title=objective.name)
    ax.set_aspect("equal")


def plot_contours(
    objective,
    trajectories=(),
    *,
    labels: Sequence[str] | None = None,
    bounds: Sequence[float] | None = None,
    levels: int | Sequence[float] = 20,
    ax=None,
    show_maximum: bool = True,
    resolution: int = 200,
):
    """Draw the contours of a 2-D objective with ascent trajectories over them; return the figure.

    Each trajectory is a line through its iterates, an open circle at its start
    :math:`x_0` and a square at its end :math:`x_n`; the known maximizer is a
    gold star. Iterates outside ``bounds`` (say, of a diverging run) are cut off.

    Args:
        objective: a :class:`gaedu.objectives.Objective` of two variables.
        trajectories: one :class:`gaedu.ascent.Trajectory` or a sequence of them,
            each with points of shape ``(n + 1, 2)``.
        labels: one legend entry per trajectory (optional; no legend without them).
        bounds: ``(xmin, xmax, ymin, ymax)``; default ``objective.bounds``.
        levels: the level values, or how many: a count puts them at quantiles of
            :math:`J` over the window, so that a steep corner (say, of the curved
            ridge) does not take all the levels and leave the ridge blank.
        ax: axes to draw into; default a new figure.
        show_maximum: mark ``objective.maximizer``.
        resolution: grid points per side for the contours.

    Raises:
        ValueError: a trajectory is not 2-D, ``labels`` has the wrong length, or
            ``bounds`` are not four finite numbers with ``xmin < xmax``, ``ymin < ymax``.
    """
    import matplotlib.pyplot as plt

    items = _as_trajectories(trajectories, labels, "plot_contours", planar=True)
    bounds = _check_bounds(objective, bounds, "plot_contours")
    fig, ax, created = _new_axes(ax, (4.5 if labels is None else 6.5, 4))  # room for the legend
    _draw_landscape(ax, objective, bounds, levels, resolution, show_maximum)
    for k, trajectory in enumerate(items):
        color = f"C{k % 10}"
        (x, y), label = trajectory.points.T, None if labels is None else labels[k]
        ax.plot(x, y, "-o", color=color, lw=1.3, ms=2.5, label=label, zorder=3)
        ax.plot(x[0], y[0], "o", ms=7, mfc="white", mec=color, mew=1.5, zorder=3)  # start
        ax.plot(x[-1], y[-1], "s", ms=6, color=color, mec="black", mew=0.6, zorder=3)  # end
    if labels is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")  # outside: never over a path
    if created:
        plt.close(fig)
    return fig


def plot_values(
    trajectories,
    *,
    labels: Sequence[str] | None = None,
    ax=None,
    gap_to: float | None = None,
    log: bool = False,
):
    r"""Plot :math:`J(x_t)` against the step :math:`t` for one or several trajectories; return the figure.

    With ``gap_to`` (usually ``objective.max_value``) it plots the gap
    :math:`J^\star - J(x_t)` instead, which falls to 0 as ascent converges. On a
    log scale a gap that shrinks by a constant factor per step (linear
    convergence) is a straight line. Gaps below float64 resolution, that is below
    :math:`\varepsilon \max(1, |J^\star|)`, including zero and negative ones from
    rounding, are drawn at that floor.

    Args:
        trajectories: one :class:`gaedu.ascent.Trajectory` or a sequence of them.
        labels: one legend entry per trajectory (optional; no legend without them).
        ax: axes to draw into; default a new figure.
        gap_to: plot ``gap_to - values`` instead of ``values``.
        log: use a log-scale y axis.

    Raises:
        ValueError: no trajectories, ``labels`` has the wrong length, or ``log`` without
            ``gap_to`` for values that are not all positive.
    """
    import matplotlib.pyplot as plt

    items = _as_trajectories(trajectories, labels, "plot_values", planar=False)
    if not items:
        raise ValueError("plot_values() needs at least one trajectory")
    if log and gap_to is None and any((t.values <= 0).any() for t in items):
        raise ValueError("plot_values(log=True) needs positive values: pass gap_to=objective.max_value to plot the gap")
    fig, ax, created = _new_axes(ax, (4.5, 3.2))
    for k, trajectory in enumerate(items):
        y = trajectory.values if gap_to is None else gap_to - trajectory.values  # (n + 1,)
        if log and gap_to is not None:
            y = np.maximum(y, np.finfo(np.float64).eps * max(1.0, abs(gap_to)))
        ax.plot(np.arange(len(y)), y, lw=1.5, color=f"C{k % 10}", label=None if labels is None else labels[k])
    ax.set(xlabel="step $t$", ylabel="$J(x_t)$" if gap_to is None else r"$J^\star - J(x_t)$")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if labels is not None:
        ax.legend(fontsize="small")
    if created:
        plt.close(fig)
    return fig


def _frame_steps(num_points: int, max_frames: int) -> np.ndarray:
    """Return up to ``max_frames`` evenly spread steps out of ``0 .. num_points - 1``, first and last included."""
    count = min(max_frames, num_points)
    return np.linspace(0, num_points - 1, count).round().astype(int)  # distinct: the spacing is >= 1


def animate_trajectory(
    objective,
    trajectory,
    *,
    bounds: Sequence[float] | None = None,
    interval: int = 200,
    max_frames: int = 40,
    tail: bool = True,
):
    """Animate the iterate climbing over the contour plot; return it as HTML for a notebook.

    The frames are a subsample of at most ``max_frames`` steps, the first and
    last always among them. The small figure (4.5 × 4 inches at 72 dpi) keeps the
    embedded HTML small: each frame is a JPEG inside the page.

    Args:
        objective: a :class:`gaedu.objectives.Objective` of two variables.
        trajectory: a :class:`gaedu.ascent.Trajectory` with points of shape ``(n + 1, 2)``.
        bounds: ``(xmin, xmax, ymin, ymax)``; default ``objective.bounds``.
        interval: milliseconds between frames.
        max_frames: the most frames to draw, ``>= 2``.
        tail: draw the path so far behind the iterate.

    Returns:
        ``IPython.display.HTML`` with a JavaScript player that plays once.

    Raises:
        ValueError: a trajectory that is not one 2-D trajectory, bad ``bounds``,
            ``max_frames < 2`` or ``interval <= 0``.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    if not isinstance(trajectory, Trajectory):
        raise ValueError(f"animate_trajectory() takes one Trajectory, got {type(trajectory).__name__}")
    (trajectory,) = _as_trajectories(trajectory, None, "animate_trajectory", planar=True)
    bounds = _check_bounds(objective, bounds, "animate_trajectory")
    if isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 2:
        raise ValueError(f"max_frames must be an integer >= 2 (the first and last step), got {max_frames!r}")
    if not (isinstance(interval, (int, float)) and interval > 0):
        raise ValueError(f"interval must be a number of milliseconds > 0, got {interval!r}")
    points, values = trajectory.points, trajectory.values  # (n + 1, 2), (n + 1,)
    fig, ax = plt.subplots(figsize=(4.5, 4), dpi=72, layout="constrained")
    try:
        _draw_landscape(ax, objective, bounds, 20, 150, show_maximum=True, smooth=True)
        (path,) = ax.plot([], [], "-", color="C1", lw=1.3, zorder=3)
        (iterate,) = ax.plot([], [], "o", color="C1", mec="black", ms=8, zorder=4)
        ax.set_title("step 0")
        fig.canvas.draw()  # lay out once, then keep it: no layout pass per frame
        fig.set_layout_engine("none")

        def draw(t: int):
            if tail:
                path.set_data(points[: t + 1, 0], points[: t + 1, 1])
            iterate.set_data(points[t : t + 1, 0], points[t : t + 1, 1])
            ax.set_title(f"step {t}:  J = {values[t]:.4g}")
            return path, iterate

        anim = FuncAnimation(fig, draw, frames=_frame_steps(len(points), max_frames), interval=interval)
        with matplotlib.rc_context({"animation.frame_format": "jpeg"}):  # about half the size of PNG frames
            return HTML(anim.to_jshtml(default_mode="once"))
    finally:
        plt.close(fig)  # only the HTML player is shown, not the last frame as well
