"""gaedu.interactive: slider figures that carry their frames, a page script, Plotly's JSON and a PNG."""

import matplotlib

matplotlib.use("Agg")

import base64
import io
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from PIL import Image

from gaedu.ascent import ascend
from gaedu.interactive import (
    PLOTLY_MIME,
    SliderFigure,
    image_png,
    learning_rate_slider,
    method_slider,
    training_map_slider,
)
from gaedu.objectives import ConcaveQuadratic

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUADRATIC = ConcaveQuadratic(condition_number=10, angle=0.5)  # L = 10: 1/L = 0.1, 2/L = 0.2
START = (-1.5, 1.5)


def _small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, format="PNG")
    return buffer.getvalue()


def _figure(names=("a", "b", "c")) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 0]))
    fig.frames = [go.Frame(name=name, data=[go.Scatter(y=[k, k])], traces=[0]) for k, name in enumerate(names)]
    return fig


def _spec(html: str) -> dict:
    found = re.search(r'<script type="application/json" class="gaedu-slider-spec">(.*?)</script>', html, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def lr_figure():
    return learning_rate_slider(QUADRATIC, START, [0.05, 0.15, 0.25], 40)


def test_the_bundle_has_html_plotly_json_png_and_text():
    figure = SliderFigure(_figure(), label="k", static=_small_png(), alt="three frames", value=1)
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {"text/html", PLOTLY_MIME, "image/png", "text/plain"}
    assert base64.b64decode(bundle["image/png"]) == _small_png()
    assert [step["label"] for step in bundle[PLOTLY_MIME]["layout"]["sliders"][0]["steps"]] == ["a", "b", "c"]
    assert bundle[PLOTLY_MIME]["layout"]["sliders"][0]["active"] == 1
    assert set(figure._repr_mimebundle_(include={"image/png"})) == {"image/png"}
    assert PLOTLY_MIME not in figure._repr_mimebundle_(exclude={PLOTLY_MIME})


def test_the_html_has_a_labelled_slider_the_frames_and_a_described_static_image():
    html = SliderFigure(_figure(), label="step k", static=_small_png(), alt="three <frames>", value=2).to_html()
    uid = re.search(r'<div class="gaedu-slider-figure" id="([^"]+)">', html).group(1)
    assert f'<label for="{uid}-range">step k</label>' in html
    assert re.search(rf'<input type="range" id="{uid}-range" min="0" max="2" step="1" value="2"', html)
    assert 'alt="three &lt;frames&gt;"' in html and 'aria-label="three &lt;frames&gt;"' in html
    spec = _spec(html)
    assert [frame["name"] for frame in spec["frames"]] == ["a", "b", "c"]
    assert spec["data"][0]["y"] == [2, 2]  # the figure starts at the frame shown first
    assert not re.search(r'\b(?:src|href)="(?:https?:)?//', html), "the figure loads nothing from another host"


def test_the_same_figure_gives_the_same_html():
    one = SliderFigure(_figure(), label="k", static=_small_png(), alt="x").to_html()
    assert one == SliderFigure(_figure(), label="k", static=_small_png(), alt="x").to_html()
    other = SliderFigure(_figure(("a", "b", "d")), label="k", static=_small_png(), alt="x").to_html()
    assert re.search(r'id="([^"]+)"', one).group(1) != re.search(r'id="([^"]+)"', other).group(1)


def test_nothing_in_the_data_can_close_the_script():
    html = SliderFigure(_figure(("</script><b>", "b")), label="k", static=_small_png(), alt="x").to_html()
    assert html.count("</script>") == 2
    assert _spec(html)["frames"][0]["name"] == "</script><b>"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"figure": {"data": []}}, "plotly.graph_objects.Figure"),
    ({"figure": _figure(("a",))}, "at least 2 frames"),
    ({"figure": _figure(("a", "a"))}, "repeated: 'a'"),
    ({"figure": _figure(("a", ""))}, "every frame needs a name"),
    ({"label": " "}, "label must be a non-empty string"),
    ({"alt": None}, "alt must be a non-empty string"),
    ({"value": 3}, "value must be an integer from 0 to 2"),
    ({"value": True}, "value must be an integer"),
    ({"static": b"GIF89a"}, "not a PNG"),
    ({"static": "figure.png"}, "matplotlib figure or PNG bytes"),
])
def test_bad_arguments_are_one_line_errors(kwargs, message):
    arguments = {"figure": _figure(), "label": "k", "static": _small_png(), "alt": "x", **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        SliderFigure(**arguments)
    assert "\n" not in str(error.value)


def test_the_learning_rate_frames_are_the_runs_of_ascend(lr_figure):
    spec = lr_figure.spec()
    assert [frame["name"] for frame in spec["frames"]] == ["0.05", "0.15", "0.25"]
    for frame, lr in zip(spec["frames"], (0.05, 0.15, 0.25), strict=True):
        run = ascend(QUADRATIC, START, lr, 40)
        path = frame["data"][0]
        np.testing.assert_allclose(np.c_[path["x"], path["y"]], run.points, rtol=1e-3, atol=1e-6)
        gap = np.maximum(QUADRATIC.max_value - run.values, 1e-12)
        np.testing.assert_allclose(frame["data"][1]["y"], gap, rtol=1e-3)


def test_the_learning_rate_titles_name_the_three_regimes(lr_figure):
    titles = [frame["layout"]["title"]["text"] for frame in lr_figure.spec()["frames"]]
    assert "monotone" in titles[0] and "oscillates" in titles[1] and "diverges" in titles[2]
    assert "diverged at step" in titles[2] and "40 steps" in titles[0]


def test_the_static_image_of_the_learning_rate_figure_is_a_png(lr_figure):
    assert lr_figure.png.startswith(PNG_SIGNATURE)
    assert lr_figure.value == 1  # the middle rate is shown first


@pytest.mark.parametrize(("lrs", "message"), [
    ([0.1], "at least 2 distinct"), ([0.1, 0.1], "at least 2 distinct"), ([0.1, -0.1], "> 0"),
    ([0.1, float("nan")], "finite number"),
])
def test_bad_learning_rates_are_refused(lrs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        learning_rate_slider(QUADRATIC, START, lrs, 5)


def test_a_learning_rate_slider_needs_a_2d_objective():
    with pytest.raises(ValueError, match="an Objective of 2 variables, got 'bowl'"):
        learning_rate_slider("bowl", START, [0.1, 0.2], 5)


def _snapshots(steps, size=9, seed=0):
    rng = np.random.default_rng(seed)
    return [(s, rng.random((size, size)), rng.normal(size=(7, 2))) for s in steps]


def test_the_training_map_has_a_frame_per_step_and_a_stopped_run_keeps_its_last_state():
    short, long = _snapshots([0, 200]), _snapshots([0, 200, 400], seed=1)
    figure = training_map_slider({"short": short, "long": long}, torch.zeros(5, 2))
    frames = figure.spec()["frames"]
    assert [f["name"] for f in frames] == ["0", "200", "400"]
    assert figure.value == 2 and figure.play
    last = frames[-1]
    np.testing.assert_allclose(last["data"][0]["z"], short[-1][1], atol=5e-4)  # the short run, still at step 200
    np.testing.assert_allclose(last["data"][2]["z"], long[-1][1], atol=5e-4)
    np.testing.assert_allclose(np.c_[last["data"][3]["x"], last["data"][3]["y"]], long[-1][2], atol=5e-3)
    titles = [a["text"] for a in last["layout"]["annotations"]]
    assert titles == ["short: stopped at step 200", "long: step 400"]
    assert '<button type="button" class="gaedu-slider-play">Play</button>' in figure.to_html()


def test_the_training_map_thins_large_grids():
    figure = training_map_slider({"run": _snapshots([0, 1], size=81)}, np.zeros((3, 2)), max_grid=41)
    assert np.shape(figure.spec()["frames"][0]["data"][0]["z"]) == (41, 41)


@pytest.mark.parametrize(("runs", "message"), [
    ({}, "at least one run"),
    ({"r": []}, "no snapshots"),
    ({"r": [(200, np.zeros((3, 3)), np.zeros((2, 2))), (100, np.zeros((3, 3)), np.zeros((2, 2)))]}, "steps must increase"),
    ({"r": [(0, np.zeros((3, 4)), np.zeros((2, 2))), (1, np.zeros((3, 3)), np.zeros((2, 2)))]}, "finite square array"),
    ({"r": [(0, np.full((3, 3), np.nan), np.zeros((2, 2))), (1, np.zeros((3, 3)), np.zeros((2, 2)))]}, "finite square"),
    ({"r": [(0, np.zeros((3, 3)), np.zeros((2, 3))), (1, np.zeros((3, 3)), np.zeros((2, 2)))]}, "shape (m, 2)"),
])
def test_bad_training_snapshots_are_refused(runs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        training_map_slider(runs, np.zeros((3, 2)))


def test_the_method_slider_shows_each_image_as_its_png():
    rng = np.random.default_rng(0)
    images = [rng.random((6, 5)) for _ in range(3)]
    figure = method_slider({"denoise": [(f"m{k}", image) for k, image in enumerate(images)]}, ["x", "y", "z"], value=1)
    frames = figure.spec()["frames"]
    assert [f["name"] for f in frames] == ["x", "y", "z"] and figure.value == 1
    for frame, image in zip(frames, images, strict=True):
        source = frame["data"][0]["source"]
        decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))
        np.testing.assert_array_equal(decoded, np.round(image * 255).astype(np.uint8))
    assert [f["layout"]["annotations"][0]["text"] for f in frames] == ["denoise<br>m0", "denoise<br>m1", "denoise<br>m2"]


def test_the_method_slider_names_its_setting_and_takes_a_description():
    images = [("w = 0", np.zeros((4, 4))), ("w = 2", np.ones((4, 4)))]
    figure = method_slider({"digits": images}, ["w = 0", "w = 2"], label="guidance scale w", alt="Digits at two scales.")
    assert figure.label == "guidance scale w" and figure.alt == "Digits at two scales."
    assert 'aria-label="Digits at two scales."' in figure.to_html() and ">guidance scale w</label>" in figure.to_html()
    default = method_slider({"digits": images}, ["w = 0", "w = 2"])
    assert default.label == "method" and default.alt.startswith("The same photograph for digits")
    with pytest.raises(ValueError, match="label must be a non-empty string"):
        method_slider({"digits": images}, ["w = 0", "w = 2"], label=" ")


@pytest.mark.parametrize(("panels", "positions", "message"), [
    ({}, ["a", "b"], "at least one panel"),
    ({"p": [("a", np.zeros((2, 2)))]}, ["a", "b"], "1 images for 2 positions"),
    ({"p": [("a", np.zeros((2, 2))), ("b", np.zeros((3, 2)))]}, ["a", "b"], "different shapes"),
    ({"p": [("a", np.zeros((2, 2))), ("b", np.full((2, 2), np.inf))]}, ["a", "b"], "NaN or infinity"),
])
def test_bad_method_panels_are_refused(panels, positions, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        method_slider(panels, positions)


def test_image_png_clips_to_the_unit_range_and_refuses_other_shapes():
    decoded = np.asarray(Image.open(io.BytesIO(image_png(np.array([[-1.0, 0.5, 2.0]])))))
    np.testing.assert_array_equal(decoded, [[0, 128, 255]])
    with pytest.raises(ValueError, match="2-D array"):
        image_png(np.zeros((2, 2, 2)))


def test_myst_nb_finds_the_plugin_and_never_chooses_plotly_json():
    from types import SimpleNamespace

    from myst_nb.core.render import get_mime_priority, load_mime_renders

    from gaedu.interactive import MystNbPlugin

    assert MystNbPlugin in load_mime_renders()  # the entry point of pyproject.toml
    for builder in ("html", "latex"):
        assert PLOTLY_MIME not in get_mime_priority(builder, [])
    assert MystNbPlugin.handle_mime(None, SimpleNamespace(mime_type=PLOTLY_MIME), False) == []
    assert MystNbPlugin.handle_mime(None, SimpleNamespace(mime_type="text/html"), False) is None
