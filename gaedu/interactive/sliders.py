r"""The book's three slider figures: learning rates, a GAN's training, restoration methods."""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from gaedu._validation import check_int, check_positive
from gaedu.ascent import ascend
from gaedu.interactive.figure import _DPI, SliderFigure, _figure_type
from gaedu.objectives import Objective, grid_values
from gaedu.plotting import plot_contours


def _rounded(values, digits: int = 4) -> list:
    """A list of floats rounded to ``digits`` significant digits (smaller pages; what the eye can see)."""
    array = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(array == 0, 0, np.floor(np.log10(np.abs(array))))
    factor = 10.0 ** (digits - 1 - np.nan_to_num(scale))
    return (np.round(array * factor) / factor).tolist()


def _regime(objective: Objective, lr: float) -> str:
    """For a quadratic with eigenvalues: its steep factor 1 − ηL and the regime it gives."""
    eigenvalues = getattr(objective, "eigenvalues", None)
    if eigenvalues is None:
        return ""
    steep = 1 - lr * float(np.max(eigenvalues))
    regime = "diverges" if abs(steep) > 1 else "oscillates" if steep < 0 else "monotone"
    return f"1 − ηL = {steep:.2f}: {regime}".replace("= -", "= −")  # a typographic minus


def learning_rate_slider(
    objective: Objective,
    start: Sequence[float],
    lrs: Sequence[float],
    num_steps: int,
    *,
    value: int | None = None,
    static_lrs: Sequence[float] | None = None,
) -> SliderFigure:
    r"""Ascent on a 2-D objective at every rate of ``lrs``, one slider position per rate.

    Each position shows the path over the contours (left) and the gap
    :math:`J^\star - J(\theta_t)` against the step on a log scale (right), as
    :func:`gaedu.ascent.ascend` records them; for a quadratic the title gives the
    steep factor :math:`1 - \eta L` and its regime. The static image shows the runs
    at ``static_lrs`` (default: the first, middle and last rate).

    Raises:
        ValueError: an objective that is not 2-D, fewer than 2 rates, a rate that is
            not a finite number > 0, repeated rates, or a bad ``num_steps``/``value``.
    """
    import matplotlib.pyplot as plt
    from plotly.subplots import make_subplots


    go = _figure_type()
    if not isinstance(objective, Objective) or objective.dim != 2:
        raise ValueError(f"learning_rate_slider() needs an Objective of 2 variables, got {objective!r}")
    lrs = [check_positive("each learning rate", lr) for lr in lrs]
    if len(lrs) < 2 or len(set(lrs)) != len(lrs):
        raise ValueError(f"learning_rate_slider() needs at least 2 distinct learning rates, got {lrs}")
    num_steps = check_int("num_steps", num_steps, minimum=1)
    runs = {lr: ascend(objective, start, lr, num_steps) for lr in lrs}
    xmin, xmax, ymin, ymax = objective.bounds
    xs, ys, zs = grid_values(objective, resolution=80)
    gap_floor = 1e-12
    gaps = {lr: np.maximum(objective.max_value - run.values, gap_floor) for lr, run in runs.items()}
    top = max(float(g.max()) for g in gaps.values())

    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.1,
                        subplot_titles=("path over the contours of J", "gap J* − J(θ_t), log scale"))
    fig.add_trace(go.Contour(x=_rounded(xs[0]), y=_rounded(ys[:, 0]), z=_rounded(zs), colorscale="Viridis",
                             showscale=False, ncontours=20, contours={"coloring": "lines"}, line={"width": 1},
                             hoverinfo="skip", name="contours of J"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[float(objective.maximizer[0])], y=[float(objective.maximizer[1])], mode="markers",
                             marker={"symbol": "star", "size": 14, "color": "gold", "line": {"color": "black", "width": 1}},
                             name="maximum"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", line={"color": "#d62728", "width": 1.5}, marker={"size": 5},
                             name="iterates θ_t"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", line={"color": "#1f77b4"}, marker={"size": 4},
                             name="gap", showlegend=False), row=1, col=2)
    fig.update_xaxes(range=[xmin, xmax], title_text="θ₁", constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[ymin, ymax], title_text="θ₂", scaleanchor="x", row=1, col=1)
    fig.update_xaxes(range=[0, num_steps], title_text="step t", row=1, col=2)
    fig.update_yaxes(type="log", range=[math.log10(gap_floor), math.log10(top) + 0.5], title_text="gap",
                     exponentformat="power", row=1, col=2)
    fig.update_layout(template="plotly_white", height=430, margin={"l": 50, "r": 20, "t": 80, "b": 50},
                      legend={"orientation": "h", "x": 0, "y": -0.2}, paper_bgcolor="white")
    frames = []
    for lr, run in runs.items():
        end = f"diverged at step {run.diverged_at}" if run.status == "diverged" else f"{run.steps_taken} steps"
        title = "  ·  ".join(part for part in (f"η = {lr:g}", _regime(objective, lr), end) if part)
        frames.append(go.Frame(name=f"{lr:g}", traces=[2, 3], layout={"title": {"text": title, "x": 0.5}}, data=[
            go.Scatter(x=_rounded(run.points[:, 0]), y=_rounded(run.points[:, 1])),
            go.Scatter(x=list(range(len(gaps[lr]))), y=_rounded(gaps[lr]))]))
    fig.frames = frames

    shown = list(static_lrs) if static_lrs is not None else [lrs[0], lrs[len(lrs) // 2], lrs[-1]]
    static, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown), 3.4), layout="constrained", squeeze=False)
    for ax, lr in zip(axes[0], shown, strict=True):
        run = runs[lr] if lr in runs else ascend(objective, start, lr, num_steps)
        plot_contours(objective, run, ax=ax)
        ax.set_title(f"η = {lr:g}" + (f"\n{_regime(objective, lr)}" if _regime(objective, lr) else ""), fontsize=9)
    plt.close(static)
    value = len(lrs) // 2 if value is None else value
    alt = (f"Gradient ascent on {objective.name} from ({start[0]:g}, {start[1]:g}) for {num_steps} steps at each of "
           f"{len(lrs)} learning rates from {lrs[0]:g} to {lrs[-1]:g}: the path over the contours and the gap to the "
           "maximum against the step.")
    return SliderFigure(fig, label="learning rate η", static=static, alt=alt, value=value)


def training_map_slider(
    runs: Mapping[str, Sequence[tuple[int, np.ndarray, np.ndarray]]],
    real: np.ndarray | torch.Tensor,
    *,
    extent: tuple[float, float, float, float] = (-3.0, 3.0, -3.0, 3.0),
    ranges: Mapping[str, tuple[float, float]] | None = None,
    max_grid: int = 41,
    max_points: int = 300,
    static_steps: Sequence[int] | None = None,
) -> SliderFigure:
    r"""A GAN on the plane over training: the discriminator's map and the generator's samples, one panel per run.

    Args:
        runs: for each run's name, its snapshots ``(step, d_map, samples)``: the
            discriminator's output :math:`D(x)` on a square grid over ``extent``
            (``(n, n)``, rows from the bottom) and generated points ``(m, 2)``.
            A run with fewer snapshots shows its last one at later steps.
        real: training points ``(k, 2)``, drawn in every panel.
        ranges: the colour range of :math:`D` per run (default ``(0, 1)``).
        max_grid, max_points: the map is thinned to at most ``max_grid`` points a side and
            each sample cut to ``max_points`` points, to keep the page small.
        static_steps: the steps the static image shows (default: first, middle, last).

    Raises:
        ValueError: no runs, a run without snapshots, a map that is not square or not
            finite, points not of shape ``(m, 2)``, or steps that are not increasing.
    """
    import matplotlib.pyplot as plt
    from plotly.subplots import make_subplots

    go = _figure_type()
    if not runs:
        raise ValueError("training_map_slider() needs at least one run")
    ranges = dict(ranges or {})
    real = _points("real", real)[: 4 * max_points]
    checked = {}
    for name, snapshots in runs.items():
        if len(snapshots) == 0:
            raise ValueError(f"run {name!r} has no snapshots")
        steps = [check_int(f"run {name!r}: step", s[0], minimum=0) for s in snapshots]
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError(f"run {name!r}: steps must increase, got {steps}")
        maps = [np.asarray(s[1], dtype=np.float64) for s in snapshots]
        for d_map in maps:
            if d_map.ndim != 2 or d_map.shape[0] != d_map.shape[1] or not np.isfinite(d_map).all():
                raise ValueError(f"run {name!r}: each map must be a finite square array, got shape {d_map.shape}")
        points = [_points(f"run {name!r}: samples", s[2])[:max_points] for s in snapshots]
        checked[name] = (steps, maps, points)
    every_step = sorted({s for steps, _, _ in checked.values() for s in steps})
    n = len(checked)
    fig = make_subplots(rows=1, cols=n, subplot_titles=list(checked), horizontal_spacing=0.1)
    traces = []
    for col, (name, (_, maps, _)) in enumerate(checked.items(), start=1):
        thin = max(1, math.ceil(maps[0].shape[0] / max_grid))
        ticks = _rounded(np.linspace(extent[0], extent[1], maps[0].shape[0])[::thin], 3)
        rows = _rounded(np.linspace(extent[2], extent[3], maps[0].shape[0])[::thin], 3)
        zmin, zmax = ranges.get(name, (0.0, 1.0))
        domain = fig.get_subplot(1, col).xaxis.domain
        bar = {"title": {"text": f"D(x), {name}", "side": "top"}, "orientation": "h", "x": (domain[0] + domain[1]) / 2,
               "xanchor": "center", "y": -0.2, "yanchor": "top", "len": 0.8 * (domain[1] - domain[0]), "thickness": 10}
        fig.add_trace(go.Heatmap(x=ticks, y=rows, colorscale="PRGn", zmin=zmin, zmax=zmax, opacity=0.6, name="D(x)",
                                 colorbar=bar), row=1, col=col)
        fig.add_trace(go.Scatter(x=_rounded(real[:, 0], 3), y=_rounded(real[:, 1], 3), mode="markers", name="real",
                                 marker={"size": 3, "color": "#00441b"}, showlegend=col == 1), row=1, col=col)
        fig.add_trace(go.Scatter(mode="markers", name="generated", showlegend=col == 1,
                                 marker={"size": 5, "color": "#40004b", "line": {"color": "white", "width": 0.5}}),
                      row=1, col=col)
        traces.append((3 * (col - 1), 3 * (col - 1) + 2, thin))
        axis = "" if col == 1 else str(col)
        fig.update_xaxes(range=list(extent[:2]), title_text="x₁", row=1, col=col, constrain="domain")
        fig.update_yaxes(range=list(extent[2:]), title_text="x₂", row=1, col=col, scaleanchor=f"x{axis}")
    fig.update_layout(template="plotly_white", height=520, paper_bgcolor="white",
                      margin={"l": 50, "r": 20, "t": 80, "b": 110},
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.16, "yanchor": "bottom"})
    frames = []
    for step in every_step:
        data, indices, titles = [], [], []
        for (name, (steps, maps, points)), (map_index, sample_index, thin) in zip(checked.items(), traces, strict=True):
            k = max(i for i, s in enumerate(steps) if s <= step) if step >= steps[0] else 0
            data += [go.Heatmap(z=[_rounded(row, 3) for row in maps[k][::thin, ::thin]]),
                     go.Scatter(x=_rounded(points[k][:, 0], 3), y=_rounded(points[k][:, 1], 3))]
            indices += [map_index, sample_index]
            stopped = step > steps[-1]
            titles.append(f"{name}: " + (f"stopped at step {steps[-1]}" if stopped else f"step {steps[k]}"))
        annotations = [a.to_plotly_json() for a in fig.layout.annotations]
        for annotation, title in zip(annotations, titles, strict=True):
            annotation["text"] = title
        frames.append(go.Frame(name=str(step), traces=indices, data=data, layout={"annotations": annotations}))
    fig.frames = frames

    shown = list(static_steps) if static_steps is not None else [every_step[0], every_step[len(every_step) // 2], every_step[-1]]
    static, axes = plt.subplots(n, len(shown), figsize=(3.1 * len(shown), 3.0 * n), layout="constrained", squeeze=False)
    for row, (name, (steps, maps, points)) in zip(axes, checked.items(), strict=True):
        zmin, zmax = ranges.get(name, (0.0, 1.0))
        for ax, step in zip(row, shown, strict=True):
            k = max([i for i, s in enumerate(steps) if s <= step] or [0])
            image = ax.imshow(maps[k], extent=extent, origin="lower", cmap="PRGn", vmin=zmin, vmax=zmax, alpha=0.6)
            ax.scatter(*real.T, s=3, color="#00441b")
            ax.scatter(*points[k].T, s=6, color="#40004b", edgecolors="white", linewidths=0.25)
            ax.set(xlim=extent[:2], ylim=extent[2:], xticks=[], yticks=[])
            ax.set_title(f"{name}, step {steps[k]}", fontsize=9)
        static.colorbar(image, ax=row, shrink=0.8, label="D(x)")
    plt.close(static)
    alt = (f"The discriminator's output D(x) over the plane as a heat map, with real points and generated points, "
           f"for {', '.join(checked)}, at every snapshot from step {every_step[0]} to {every_step[-1]}.")
    return SliderFigure(fig, label="training step", static=static, alt=alt, value=len(every_step) - 1, play=True)


def _points(name: str, value) -> np.ndarray:
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    array = array.astype(np.float64)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"{name} must be points of shape (m, 2), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or infinity")
    return array


def image_png(image: np.ndarray | torch.Tensor) -> bytes:
    """A grey image with values in ``[0, 1]`` as 8-bit PNG bytes (values outside are clipped)."""
    from PIL import Image

    array = image.detach().cpu().double().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"an image must be a 2-D array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("an image contains NaN or infinity")
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(array, 0, 1) * 255).astype(np.uint8)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def method_slider(
    panels: Mapping[str, Sequence[tuple[str, np.ndarray | torch.Tensor]]],
    positions: Sequence[str],
    *,
    value: int = 0,
    describe: Callable[[str], str] | None = None,
    label: str = "method",
    alt: str | None = None,
) -> SliderFigure:
    """The same images restored by several methods: one panel per problem, one slider position per method.

    Args:
        panels: for each panel's name (a task), one ``(caption, image)`` per slider
            position, in the order of ``positions``; the caption names what the panel
            shows there (``"non-local means: 25.9 dB"``). Images are 2-D, in ``[0, 1]``.
        positions: what each slider position is (``"observed"``, ``"learned prior"``, …).
        value: the position shown first.
        describe: an optional function of the panel's name that gives its part of the description.
        label: what the slider sets (``"method"``; ``"guidance scale w"`` for images drawn at several settings).
        alt: the figure's description for readers who cannot see it, in place of the one built from ``describe``.

    The panels share their axes: a drag zooms into the same region of every panel, and a
    double-click zooms out. The static image shows every position of every panel.

    Raises:
        ValueError: no panels, a panel with a different number of images than ``positions``,
            images of different shapes in one panel, or images that are not finite.
    """
    import matplotlib.pyplot as plt
    from plotly.subplots import make_subplots

    go = _figure_type()
    positions = [str(p) for p in positions]
    if not panels or len(positions) < 2:
        raise ValueError("method_slider() needs at least one panel and at least 2 positions")
    sources = {}
    for name, shown in panels.items():
        if len(shown) != len(positions):
            raise ValueError(f"panel {name!r} has {len(shown)} images for {len(positions)} positions")
        shapes = {tuple(np.shape(image)) for _, image in shown}
        if len(shapes) != 1:
            raise ValueError(f"panel {name!r} has images of different shapes: {sorted(shapes)}")
        sources[name] = ["data:image/png;base64," + base64.b64encode(image_png(image)).decode("ascii") for _, image in shown]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels), horizontal_spacing=0.03,
                        shared_xaxes="all", shared_yaxes="all")
    for col, name in enumerate(panels, start=1):
        fig.add_trace(go.Image(source=sources[name][value], name=name, hoverinfo="x+y"), row=1, col=col)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x")
    fig.update_layout(template="plotly_white", height=340, paper_bgcolor="white", margin={"l": 10, "r": 10, "t": 60, "b": 10})
    frames = []
    for k, position in enumerate(positions):
        annotations = [a.to_plotly_json() for a in fig.layout.annotations]
        for annotation, (name, shown) in zip(annotations, panels.items(), strict=True):
            annotation["text"] = f"{name}<br>{shown[k][0]}"  # the panel's name over what it shows
        frames.append(go.Frame(name=position, traces=list(range(len(panels))), layout={"annotations": annotations},
                               data=[go.Image(source=sources[name][k]) for name in panels]))
    fig.frames = frames

    # about one screen pixel per image pixel, drawn with "nearest": a small PNG that still shows the noise
    side = max(1.0, max(np.shape(shown[0][1])[1] for shown in panels.values()) / _DPI)
    width = max(14, int(16 * 1.1 * side))  # characters of a title's line: about what fits above its image
    static, axes = plt.subplots(len(panels), len(positions), figsize=(1.1 * side * len(positions), (1.1 * side + 0.35) * len(panels)),
                                layout="constrained", squeeze=False)
    for row, (name, shown) in zip(axes, panels.items(), strict=True):
        for ax, (caption, image) in zip(row, shown, strict=True):
            array = image.detach().cpu().double().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
            ax.imshow(np.clip(array, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title("\n".join(textwrap.wrap(name, width) + textwrap.wrap(caption, width)), fontsize=7)
            ax.axis("off")
    plt.close(static)
    if alt is None:
        parts = [describe(name) for name in panels] if describe else list(panels)
        alt = f"The same photograph for {', '.join(parts)}, at each slider position one of: {', '.join(positions)}."
    return SliderFigure(fig, label=label, static=static, alt=alt, value=value)
