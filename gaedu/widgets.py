r"""An explorer for gradient ascent: sliders in a live notebook, a picture in the book.

:func:`explorer` returns an :class:`Explorer`. In a live kernel it shows
ipywidgets controls (objective, learning rate, momentum, start, schedule, step
budget) over two panels that redraw on every change: the path over the
contours, and the gap :math:`J^\star - J(x_t)` against the step.

A static page has no kernel to run the sliders, so the explorer's display
also carries a PNG of its current setting. Its ``_repr_mimebundle_`` returns
the widget's own bundle plus that PNG: JupyterLab ranks the widget view above
the PNG and shows the controls, while a renderer that skips the widget mime
type (the HTML book is configured to) shows the picture instead of an empty box.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
from collections.abc import Iterable, Sequence

from gaedu._validation import check_int, check_number, check_positive
from gaedu.ascent import Trajectory, ascend
from gaedu.objectives import ConcaveQuadratic, CurvedRidge, GaussianBumps, Objective, PiecewiseLinear
from gaedu.plotting import plot_contours, plot_values

#: Schedule names in the dropdown, and what each one passes to :func:`gaedu.ascent.ascend`.
SCHEDULES = {"constant": None, "1/sqrt(t)": "1/sqrt(t)", "1/t": "1/t"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_DPI = 80  # the PNG: 720 x 300 pixels, about 30 KB


def default_objectives() -> dict[str, Objective]:
    """Return the four objectives of :mod:`gaedu.objectives` with default settings, keyed by name."""
    return {o.name: o for o in (ConcaveQuadratic(), GaussianBumps(), PiecewiseLinear(), CurvedRidge())}


def draw_run(objective: Objective, trajectory: Trajectory):
    """Draw one run as two panels, the path over the contours and the gap against the step; return the figure."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.75), layout="constrained")
    plot_contours(objective, trajectory, ax=left)
    plot_values(trajectory, ax=right, gap_to=objective.max_value, log=True)
    end = f"diverged at step {trajectory.diverged_at}" if trajectory.status == "diverged" else trajectory.status
    right.set_title(f"{trajectory.steps_taken} steps, {end}")
    plt.close(fig)
    return fig


def _png(fig) -> bytes:
    """Return ``fig`` as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


class Explorer:
    """Sliders for :func:`gaedu.ascent.ascend` over two live panels; build one with :func:`explorer`.

    Attributes:
        widget: the ipywidgets container (controls above an ``Output``).
        controls: the control widgets by name: ``objective``, ``lr``, ``momentum``,
            ``x1``, ``x2``, ``schedule``, ``num_steps``.
        objective, trajectory: the current setting's objective and run.
        updates: how many times the panels were redrawn.
    """

    def __init__(self, objectives: dict[str, Objective], controls: dict) -> None:
        import ipywidgets as widgets

        self.objectives, self.controls = objectives, controls
        self.objective: Objective | None = None
        self.trajectory: Trajectory | None = None
        self.updates = 0
        self._png = b""
        output = widgets.interactive_output(self._update, controls)  # runs _update once now
        c = controls
        rows = [(c["objective"], c["schedule"]), (c["lr"], c["momentum"]), (c["x1"], c["x2"]), (c["num_steps"],)]
        self.widget = widgets.VBox([widgets.HBox(list(row)) for row in rows] + [output])

    def _update(self, objective: str, lr: float, momentum: float, x1: float, x2: float, schedule: str, num_steps: int):
        """Run ascent for the controls' values and show the two panels."""
        from IPython.display import Image, display

        self.objective = self.objectives[objective]
        self.trajectory = ascend(
            self.objective, (x1, x2), lr, num_steps, momentum=momentum, schedule=SCHEDULES[schedule]
        )
        self._png = _png(self.static_figure())
        self.updates += 1
        display(Image(data=self._png))  # a PNG, whatever matplotlib backend the kernel uses

    def static_figure(self):
        """Return the two-panel figure of the current setting."""
        return draw_run(self.objective, self.trajectory)

    def __repr__(self) -> str:
        c = self.controls
        return (
            f"gradient ascent explorer ({c['objective'].value}, lr={c['lr'].value:.3g}, "
            f"momentum={c['momentum'].value:g}, start=({c['x1'].value:g}, {c['x2'].value:g}), "
            f"schedule={c['schedule'].value}, num_steps={c['num_steps'].value}); run the notebook to move the sliders"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Return the widget's mime bundle plus a PNG of the current setting, for renderers without widgets."""
        widget_bundle = getattr(self.widget, "_repr_mimebundle_", None)  # None once the widget is closed
        bundle = dict((widget_bundle() if callable(widget_bundle) else None) or {})
        bundle["image/png"] = base64.b64encode(self._png).decode("ascii")
        bundle["text/plain"] = repr(self)
        return {
            mime: data
            for mime, data in bundle.items()
            if (include is None or mime in include) and (exclude is None or mime not in exclude)
        }


def _objective_options(objective: str | Objective | None) -> tuple[dict[str, Objective], str]:
    """Return the dropdown's objectives by name, and the name to start with."""
    objectives = default_objectives()
    if objective is None:
        return objectives, next(iter(objectives))
    if isinstance(objective, Objective):
        if objective.dim != 2:
            raise ValueError(f"explorer() needs an objective of 2 variables, got {objective.name} with {objective.dim}")
        objectives[objective.name] = objective
        return objectives, objective.name
    if objective not in objectives:
        names = ", ".join(repr(name) for name in objectives)
        raise ValueError(f"unknown objective {objective!r}; choose one of {names} or pass an Objective")
    return objectives, objective


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_setting(lr: float, momentum: float, start, schedule: str | None, num_steps: int) -> None:
    """Raise ValueError, in one line, for the first setting the sliders cannot show."""
    check_positive("lr", lr)
    # the optimizer takes momentum in [0, 1); the slider stops at 0.99, where one step already weighs 100
    check_number("momentum", momentum, low=0.0, high=0.99)
    if not (isinstance(start, Sequence) and len(start) == 2 and all(map(_is_number, start))):
        raise ValueError(f"start must be two finite numbers (x1, x2), got {start!r}")
    if schedule not in (None, *SCHEDULES):
        raise ValueError(f"schedule must be None or one of {', '.join(map(repr, SCHEDULES))}, got {schedule!r}")
    check_int("num_steps", num_steps, minimum=0)


def _controls(names: Sequence[str], objective: str, lr, momentum, start, schedule, num_steps) -> dict:
    """Build the control widgets, with ranges wide enough for the given values."""
    import ipywidgets as widgets

    common = {"style": {"description_width": "80px"}}
    slider = {"continuous_update": False, **common}  # redraw when the reader lets go, not while dragging
    log_lr = math.log10(lr)
    lr_range = {"min": min(-4, math.floor(log_lr)), "max": max(1, math.ceil(log_lr))}  # exponents of 10

    def start_slider(value: float, label: str):
        bounds = {"min": min(-3, value), "max": max(3, value)}
        return widgets.FloatSlider(value=value, step=0.05, description=label, **bounds, **slider)

    return {
        "objective": widgets.Dropdown(options=list(names), value=objective, description="objective", **common),
        "schedule": widgets.Dropdown(
            options=list(SCHEDULES), value=schedule or "constant", description="schedule", **common
        ),
        "lr": widgets.FloatLogSlider(
            value=lr, base=10, step=0.05, readout_format=".3g", description="lr", **lr_range, **slider
        ),
        "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum", **slider),
        "x1": start_slider(start[0], "start x₁"),
        "x2": start_slider(start[1], "start x₂"),
        "num_steps": widgets.IntSlider(
            value=num_steps, min=0, max=max(200, num_steps), description="num_steps", **slider
        ),
    }


def explorer(
    objective: str | Objective | None = None,
    *,
    lr: float = 0.1,
    momentum: float = 0.0,
    start: Sequence[float] = (-1.5, 1.5),
    schedule: str | None = None,
    num_steps: int = 30,
) -> Explorer:
    r"""Build an interactive explorer of gradient ascent; end a notebook cell with it to show it.

    Args:
        objective: the name of one of the four book objectives (``'concave quadratic'``,
            ``'multimodal bumps'``, ``'piecewise linear'``, ``'curved ridge'``), or an
            :class:`~gaedu.objectives.Objective` of 2 variables to add to them;
            default the first.
        lr: learning rate :math:`\eta > 0` to start with.
        momentum: momentum factor in ``[0, 0.99]``.
        start: the start :math:`x_0 = (x_1, x_2)`.
        schedule: ``None`` or ``'constant'``, ``'1/sqrt(t)'`` or ``'1/t'``.
        num_steps: the step budget, ``>= 0``.

    Returns:
        An :class:`Explorer`: live controls in a kernel, a PNG of this setting in a static page.

    Raises:
        ValueError: an unknown objective name or a setting outside the ranges above.
        ImportError: ipywidgets is not installed.
    """
    objectives, name = _objective_options(objective)
    start = tuple(start) if isinstance(start, Iterable) else start  # lists and arrays too
    _check_setting(lr, momentum, start, schedule, num_steps)
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        raise ImportError("explorer() needs ipywidgets: pip install ipywidgets") from None
    start = tuple(float(v) for v in start)
    controls = _controls(list(objectives), name, float(lr), float(momentum), start, schedule, int(num_steps))
    return Explorer(objectives, controls)
