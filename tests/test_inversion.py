"""gaedu.inversion: the masked similarity and ascent on a decoder's code."""

import math

import pytest
import torch

from gaedu.autoencoder import Decoder
from gaedu.inversion import ascend_code, masked_similarity
from gaedu.metrics import psnr


def test_masked_similarity_counts_only_known_pixels():
    observed = torch.zeros(2, 1, 8, 8)
    x_hat = torch.zeros(2, 1, 8, 8)
    x_hat[:, :, :4] = 1.0  # wrong on the top half only
    top_missing = torch.ones(1, 1, 8, 8)
    top_missing[:, :, :4] = 0
    assert torch.equal(masked_similarity(x_hat, observed, top_missing), torch.zeros(2))
    assert torch.allclose(masked_similarity(x_hat, observed, torch.ones(1, 1, 8, 8)), torch.full((2,), -0.5))


def test_masked_similarity_matches_numpy():
    import numpy as np

    generator = torch.Generator().manual_seed(3)
    x_hat, observed = torch.rand(3, 1, 8, 8, generator=generator), torch.rand(3, 1, 8, 8, generator=generator)
    mask = (torch.rand(3, 1, 8, 8, generator=generator) < 0.3).float()
    a, y, m = (t.double().numpy().reshape(3, 64) for t in (x_hat, observed, mask))
    expected = -np.array([((a[i] - y[i]) ** 2)[m[i] == 1].mean() for i in range(3)])
    assert np.allclose(masked_similarity(x_hat, observed, mask).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize(
    "mask, message",
    [(torch.full((1, 1, 8, 8), 0.5), "only 0"), (torch.ones(3, 1, 8, 8), "broadcast"), (torch.ones(1, 1, 4, 4), "broadcast")],
)
def test_masked_similarity_refuses_bad_masks(mask, message):
    with pytest.raises(ValueError, match=message):
        masked_similarity(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), mask)


def test_ascent_on_the_code_recovers_a_decodable_image():
    torch.manual_seed(0)
    decoder = Decoder(2, hidden=16)
    truth = decoder(torch.tensor([[0.7, -1.2], [-0.3, 0.4]])).detach()  # images the decoder can make exactly
    mask = (torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    search = ascend_code(decoder, truth * mask, mask, starts=6, num_steps=400, lr=0.05, seed=2)
    assert search.codes.shape == (6, 2, 2) and search.scores.shape == (6, 2) and search.best.shape == (2,)
    assert search.images.shape == (2, 1, 8, 8)
    assert psnr(search.images, truth).min() > 35  # the hidden pixels come back too
    assert search.values.shape == (400,)
    assert (search.values.diff() >= -1e-9).all()  # best-so-far never falls
    assert all(p.requires_grad for p in decoder.parameters())  # the decoder is left as it was


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"observed": torch.rand(2, 8, 8)}, r"shape \(N, 1, 8, 8\)"),
        ({"observed": torch.full((2, 1, 8, 8), math.inf)}, "NaN or infinite"),
        ({"observed": [[0.5]]}, "torch.Tensor"),
        ({"mask": torch.full((1, 1, 8, 8), 0.5)}, "only 0"),
        ({"mask": torch.ones(3, 1, 8, 8)}, "does not fit"),
        ({"starts": 0}, "starts must be"),
        ({"starts": torch.zeros(3, 2, 5)}, r"shape \(S, 2, 2\)"),
        ({"num_steps": 0}, "num_steps"),
        ({"lr": float("nan")}, "lr must be"),
        ({"prior": -1.0}, "prior must be"),
    ],
)
def test_ascent_on_the_code_refuses_bad_input(kwargs, message):
    arguments = {"observed": torch.rand(2, 1, 8, 8), **kwargs}
    with pytest.raises(ValueError, match=message):
        ascend_code(Decoder(2, hidden=8), **arguments)
