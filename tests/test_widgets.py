"""gaedu.widgets: the explorer shows a widget in a kernel, a PNG without one, and redraws on every change."""

import matplotlib

matplotlib.use("Agg")

import base64
import subprocess
import sys

import numpy as np
import pytest

from gaedu.objectives import GaussianBumps
from gaedu.widgets import WIDGET_MIME, explorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _browser_moves(widget, value) -> None:
    """Send ``widget`` the message a browser sends when the reader moves it (no browser needed)."""
    state = {"value": value}
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})


@pytest.fixture(scope="module")
def default_explorer():
    return explorer()


def test_mimebundle_has_the_widget_view_and_a_png(default_explorer):
    bundle = default_explorer._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == default_explorer.widget.model_id
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)
    assert "concave quadratic" in bundle["text/plain"] and "lr=0.1" in bundle["text/plain"]


def test_mimebundle_honours_include_and_exclude(default_explorer):
    assert set(default_explorer._repr_mimebundle_(include={"image/png"})) == {"image/png"}
    assert WIDGET_MIME not in default_explorer._repr_mimebundle_(exclude={WIDGET_MIME})


def test_ipython_formats_the_explorer_with_both_mime_types(default_explorer):
    from IPython.core.interactiveshell import InteractiveShell

    data, _ = InteractiveShell.instance().display_formatter.format(default_explorer)
    assert {WIDGET_MIME, "image/png", "text/plain"} <= set(data)


def test_static_figure_shows_the_current_run(default_explorer):
    fig = default_explorer.static_figure()
    contours, values = fig.axes
    np.testing.assert_allclose(contours.lines[1].get_xydata(), default_explorer.trajectory.points)
    gap = default_explorer.objective.max_value - default_explorer.trajectory.values
    np.testing.assert_allclose(values.lines[0].get_ydata(), np.maximum(gap, np.finfo(float).eps))


def test_moving_a_slider_reruns_ascent_and_redraws():
    ex = explorer(num_steps=10)
    before_png, before_updates = ex._repr_mimebundle_()["image/png"], ex.updates
    _browser_moves(ex.controls["lr"], 0.02)
    assert ex.updates == before_updates + 1
    np.testing.assert_allclose(ex.trajectory.lrs, 0.02)
    assert ex._repr_mimebundle_()["image/png"] != before_png
    assert "lr=0.02" in repr(ex)
    ex.controls["objective"].value = "multimodal bumps"
    assert isinstance(ex.objective, GaussianBumps) and ex.updates == before_updates + 2
    ex.controls["schedule"].value = "1/t"
    np.testing.assert_allclose(ex.trajectory.lrs, 0.02 / np.arange(1, 11))


def test_explorer_takes_a_setting_and_an_objective():
    bumps = GaussianBumps(heights=(1.0, 0.9, 0.5))
    bumps.name = "my bumps"
    ex = explorer(bumps, lr=50.0, momentum=0.9, start=np.array([2.5, -2.5]), schedule="1/sqrt(t)", num_steps=500)
    assert ex.objective is bumps and ex.controls["objective"].value == "my bumps"
    assert ex.controls["lr"].value == 50.0 and ex.controls["num_steps"].value == 500
    assert ex.trajectory.steps_taken == 500 and ex.trajectory.lrs[3] == pytest.approx(25.0)
    np.testing.assert_allclose(ex.trajectory.points[0], [2.5, -2.5])


def test_closed_widget_still_shows_the_png():
    ex = explorer(num_steps=2)
    ex.widget.close()
    bundle = ex._repr_mimebundle_()
    assert WIDGET_MIME not in bundle and base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objective": "saddle"}, "unknown objective 'saddle'"),
        ({"lr": 0.0}, "lr must be"),
        ({"lr": -1}, "lr must be"),
        ({"lr": float("inf")}, "lr must be"),
        ({"num_steps": -1}, "num_steps must be"),
        ({"num_steps": 2.5}, "num_steps must be"),
        ({"momentum": 1.0}, "momentum must be"),
        ({"start": (1.0,)}, "start must be"),
        ({"start": 3.0}, "start must be"),
        ({"schedule": "cosine"}, "schedule must be"),
    ],
)
def test_explorer_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explorer(**kwargs)


def test_importing_gaedu_widgets_imports_no_ipywidgets():
    code = "import sys, gaedu.widgets; print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"] and result.stderr == ""
