"""gaedu.plotting: figure helpers return figures with the right content and reject bad shapes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from gaedu.plotting import show_images


def test_show_images_draws_a_grid_row_by_row():
    images = torch.rand(5, 1, 8, 8)
    fig = show_images(images, 2, 3, titles=[str(i) for i in range(5)])
    axes = fig.axes
    assert len(axes) == 6
    drawn = [ax for ax in axes if ax.images]
    assert len(drawn) == 5 and not axes[5].images
    np.testing.assert_allclose(axes[4].images[0].get_array(), images[4, 0].numpy())
    assert axes[2].get_title() == "2"


def test_show_images_accepts_numpy_without_channel():
    fig = show_images(np.zeros((3, 8, 8)), 1, 3)
    assert sum(bool(ax.images) for ax in fig.axes) == 3


@pytest.mark.parametrize("shape", [(8, 8), (2, 3, 8, 8), (2, 1, 1, 8, 8)])
def test_show_images_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        show_images(torch.zeros(shape), 1, 2)
    with pytest.raises(ValueError, match=r"got \(" + ", ".join(map(str, shape))):  # a list too, named by its shape
        show_images(torch.zeros(shape).tolist(), 1, 2)


def test_show_images_rejects_too_few_titles():
    with pytest.raises(ValueError, match="1 titles for 2 images"):
        show_images(torch.zeros(2, 8, 8), 1, 2, titles=["a"])


# --- plot_contours, plot_values, animate_trajectory -------------------------

import re  # noqa: E402

from gaedu.ascent import ascend  # noqa: E402
from gaedu.objectives import ConcaveQuadratic, GaussianBumps  # noqa: E402
from gaedu.plotting import animate_trajectory, plot_contours, plot_values  # noqa: E402


@pytest.fixture(scope="module")
def bumps_runs():
    bumps = GaussianBumps()
    return bumps, [ascend(bumps, x0, 0.5, 20) for x0 in [(-2.5, 1.5), (0.3, 0.2), (2.5, -2.5)]]


def _one_trajectory_in_3d():
    return ascend(lambda x: -(x**2).sum(), [1.0, 2.0, 3.0], 0.1, 3)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_plot_contours_draws_path_start_and_end_of_each_trajectory(bumps_runs, count):
    bumps, runs = bumps_runs
    fig = plot_contours(bumps, runs[:count])
    (ax,) = fig.axes
    assert len(ax.lines) == 3 * count + 1  # path, start and end per trajectory, plus the star
    for k, run in enumerate(runs[:count]):
        path, start, end = ax.lines[1 + 3 * k : 4 + 3 * k]
        np.testing.assert_allclose(path.get_xydata(), run.points)
        np.testing.assert_allclose(start.get_xydata(), run.points[:1])
        np.testing.assert_allclose(end.get_xydata(), run.points[-1:])
    assert ax.get_aspect() == 1.0 and ax.get_legend() is None


def test_plot_contours_marks_the_maximizer_with_a_star(bumps_runs):
    bumps, runs = bumps_runs
    star = plot_contours(bumps).axes[0].lines[0]
    assert star.get_marker() == "*"
    np.testing.assert_allclose(star.get_xydata()[0], bumps.maximizer)
    assert plot_contours(bumps, runs, show_maximum=False).axes[0].lines[0].get_marker() != "*"


def test_plot_contours_takes_one_trajectory_labels_bounds_and_axes(bumps_runs):
    import matplotlib.pyplot as plt

    bumps, runs = bumps_runs
    fig, ax = plt.subplots()
    assert plot_contours(bumps, runs[0], labels=["one"], bounds=(-1, 2, -2, 1), ax=ax) is fig
    assert ax.get_xlim() == (-1, 2) and ax.get_ylim() == (-2, 1)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["maximum", "one"]
    plt.close(fig)


def test_plot_values_plots_values_or_the_gap(bumps_runs):
    bumps, runs = bumps_runs
    lines = plot_values(runs, labels=["a", "b", "c"]).axes[0].lines
    assert len(lines) == 3
    for line, run in zip(lines, runs, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(run.steps_taken + 1))
        np.testing.assert_array_equal(line.get_ydata(), run.values)
    ax = plot_values(runs[0], gap_to=bumps.max_value).axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), bumps.max_value - runs[0].values)
    assert ax.get_yscale() == "linear"


def test_plot_values_log_gap_clips_zero_and_negative_gaps():
    quadratic = ConcaveQuadratic()
    run = ascend(quadratic, (0.0, 0.0), 0.1, 3)  # starts at the maximizer: every gap is exactly 0
    ax = plot_values(run, gap_to=quadratic.max_value, log=True).axes[0]
    assert ax.get_yscale() == "log"
    assert (ax.lines[0].get_ydata() > 0).all()
    ax = plot_values(run, gap_to=-1.0, log=True).axes[0]  # negative gaps
    assert (ax.lines[0].get_ydata() > 0).all()


def test_animate_trajectory_returns_a_player_with_subsampled_frames():
    quadratic = ConcaveQuadratic()
    for num_steps, max_frames in [(60, 40), (4, 40), (60, 7)]:
        run = ascend(quadratic, (-1.5, 1.5), 0.1, num_steps)
        html = animate_trajectory(quadratic, run, max_frames=max_frames).data
        assert "Animation(" in html and "<script" in html
        frames = re.findall(r'frames\[(\d+)\] = "data:image/', html)
        assert len(frames) == min(max_frames, num_steps + 1)


def test_animate_trajectory_keeps_the_first_and_last_step():
    from gaedu.plotting import _frame_steps

    for n in [1, 2, 5, 39, 40, 41, 100, 1001]:
        steps = _frame_steps(n, 40)
        assert steps[0] == 0 and steps[-1] == n - 1
        assert len(steps) == min(40, n) and (np.diff(steps) > 0).all()


def test_plotting_rejects_bad_inputs(bumps_runs):
    bumps, runs = bumps_runs
    with pytest.raises(ValueError, match="2-D trajectories"):
        plot_contours(bumps, _one_trajectory_in_3d())
    with pytest.raises(ValueError, match="2 labels for 3 trajectories"):
        plot_contours(bumps, runs, labels=["a", "b"])
    with pytest.raises(ValueError, match="1 labels for 3 trajectories"):
        plot_values(runs, labels=["a"])
    for bounds in [(1, 0, 0, 1), (0, 1, 0), (0, 1, 0, float("nan")), "abcd"]:
        with pytest.raises(ValueError, match="bounds"):
            plot_contours(bumps, runs, bounds=bounds)
    with pytest.raises(ValueError, match="Trajectory objects"):
        plot_contours(bumps, [runs[0].points])
    with pytest.raises(ValueError, match="at least one trajectory"):
        plot_values([])
    with pytest.raises(ValueError, match="gap_to"):
        plot_values(ascend(ConcaveQuadratic(), (1.0, 1.0), 0.1, 3), log=True)  # J <= 0: no log scale
    with pytest.raises(ValueError, match="2-D trajectories"):
        animate_trajectory(bumps, _one_trajectory_in_3d())
    with pytest.raises(ValueError, match="one Trajectory"):
        animate_trajectory(bumps, runs)
    with pytest.raises(ValueError, match="max_frames"):
        animate_trajectory(bumps, runs[0], max_frames=1)
    with pytest.raises(ValueError, match="bounds"):
        animate_trajectory(bumps, runs[0], bounds=(0, 0, 0, 1))


def test_mosaic_tiles_images_row_by_row_with_gaps():
    from gaedu.plotting import mosaic

    images = torch.arange(5 * 4, dtype=torch.float64).reshape(5, 1, 2, 2)
    out = mosaic(images, 3, pad=1, fill=-1.0)
    assert out.shape == (2 * 3 + 1, 3 * 3 + 1)
    assert (out[1:3, 1:3] == images[0, 0].numpy()).all() and (out[4:6, 4:6] == images[4, 0].numpy()).all()
    assert (out[0] == -1).all() and (out[4:6, 7:9] == -1).all()  # a gap, and the empty last cell
    assert mosaic(images[:, 0], 5, pad=0).shape == (2, 10)


@pytest.mark.parametrize(
    "images, ncols, pad, message",
    [
        (torch.zeros(3, 2, 4, 4), 2, 1, r"shape \(N, 1, H, W\) or \(N, H, W\)"),
        (torch.zeros(0, 4, 4), 2, 1, r"shape \(N, 1, H, W\) or \(N, H, W\)"),
        (torch.zeros(3, 4, 4), 0, 1, r"^ncols must be a positive integer, got 0$"),
        (torch.zeros(3, 4, 4), 2, -1, r"^pad must be an integer >= 0, got -1$"),
    ],
)
def test_mosaic_refuses_bad_input(images, ncols, pad, message):
    from gaedu.plotting import mosaic

    with pytest.raises(ValueError, match=message):
        mosaic(images, ncols, pad=pad)
