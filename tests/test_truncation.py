"""gaedu.truncation: Jacobian norms against autograd, and truncated sampling keeps the least stretched draws."""

import pytest
import torch

from gaedu.gan import GANConfig, Generator, sample
from gaedu.truncation import jacobian_norms, truncated_sample


def _generator() -> Generator:
    torch.manual_seed(0)
    return Generator(GANConfig(hidden=8, latent_dim=3, out_shape=(2,), output="linear"))


def test_jacobian_norms_match_autograd():
    generator = _generator()
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    expected = [torch.autograd.functional.jacobian(lambda v: generator(v[None])[0], row).norm() for row in z]
    assert torch.allclose(jacobian_norms(generator, z, batch_size=2), torch.stack(expected), rtol=1e-5)


@pytest.mark.parametrize("z, message", [(torch.randn(5, 4), r"shape \(n, 3\)"), ([[0.0, 0.0, 0.0]], r"shape \(n, 3\)")])
def test_jacobian_norms_refuse_bad_noise(z, message):
    with pytest.raises(ValueError, match=message):
        jacobian_norms(_generator(), z)


def test_truncated_sampling_keeps_the_least_stretched():
    generator = _generator()
    kept = truncated_sample(generator, 6, reject=0.25, seed=2)  # draws ceil(6 / 0.75) = 8 noise vectors
    z = torch.randn(8, 3, generator=torch.Generator().manual_seed(2))
    norms = torch.stack([torch.autograd.functional.jacobian(lambda v: generator(v[None])[0], row).norm() for row in z])
    keep = norms.argsort()[:6].sort().values
    with torch.no_grad():
        assert torch.allclose(kept, generator(z[keep]))
    assert torch.equal(truncated_sample(generator, 8, reject=0.0, seed=2), sample(generator, 8, seed=2))


@pytest.mark.parametrize("reject", [-0.1, 1.0, "0.3", float("nan"), True])
def test_truncated_sampling_refuses_a_bad_share(reject):
    with pytest.raises(ValueError, match="reject must be a finite number"):
        truncated_sample(_generator(), 6, reject=reject)
