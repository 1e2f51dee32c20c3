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


def test_show_images_rejects_too_few_titles():
    with pytest.raises(ValueError, match="1 titles for 2 images"):
        show_images(torch.zeros(2, 8, 8), 1, 2, titles=["a"])
