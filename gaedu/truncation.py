r"""Jacobian truncation: sample a trained generator where it does not stretch the noise (Tanielian et al. 2020).

A continuous generator fed a connected noise space cannot jump between separated
modes: it has to lay a path of samples across each gap, and it does so by stretching
the noise there. The Frobenius norm of its Jacobian,
:math:`\lVert \partial G(z) / \partial z \rVert_F`, measures that stretch at
:math:`z`, so the samples far from every mode come from the noise with the largest
norms. Drawing more noise than needed and keeping the least stretched draws
removes most of them.
"""

from __future__ import annotations

import math

import torch
from torch.func import jacrev, vmap

from gaedu._validation import check_fraction, check_int
from gaedu.gan import Generator, generate, noise
from gaedu.nets import device_of

#: The share of noise vectors that Jacobian truncation drops when sampling the
#: book's ring GAN: ``truncated_sample(generator, n, reject=RING_REJECT)``.
RING_REJECT = 0.3


def jacobian_norms(generator: Generator, z: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    r"""Return :math:`\lVert \partial G(z) / \partial z \rVert_F` for each row of ``z`` ``(n, latent_dim)``.

    Returns:
        A tensor of shape ``(n,)`` on the generator's device.
    """
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != generator.latent_dim:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"z must have shape (n, {generator.latent_dim}), got {shape}")
    batch_size = check_int("batch_size", batch_size)

    def flat(v: torch.Tensor) -> torch.Tensor:
        return generator(v[None]).reshape(-1)  # (latent_dim,) -> (out_size,)

    jac = vmap(jacrev(flat))
    z = z.to(device_of(generator))
    return torch.cat([jac(part).flatten(1).norm(dim=1).detach() for part in z.split(batch_size)])


def truncated_sample(
    generator: Generator, n: int, *, reject: float, seed: int = 0, batch_size: int = 4096
) -> torch.Tensor:
    """Draw ``n`` samples, keeping the least stretched of ``n / (1 - reject)`` noise draws; return them on the CPU.

    Args:
        generator: the trained generator.
        n: number of samples.
        reject: the share ``q`` of the draws to drop, in ``[0, 1)``; 0 gives exactly
            :func:`gaedu.gan.sample`'s samples.
        seed: seed of the noise (:func:`gaedu.gan.noise`; the global random state is untouched).
        batch_size: noise vectors pushed through the generator at once.

    Returns:
        ``(n, *out_shape)``, the kept samples in the order they were drawn.
    """
    n, reject = check_int("n", n), check_fraction("reject", reject)
    drawn = n if reject == 0 else math.ceil(n / (1 - reject))
    z = noise(drawn, generator.latent_dim, seed=seed, batch_size=batch_size)
    if reject:
        keep = jacobian_norms(generator, z, batch_size=batch_size).argsort(stable=True)[:n].cpu()
        z = z[keep.sort().values]  # the n least stretched, in the order they were drawn
    return generate(generator, z, batch_size=batch_size)
