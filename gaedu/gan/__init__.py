r"""Generative adversarial networks: two players, one value, opposite directions.

The value of the game (Goodfellow et al. 2014) is

.. math::

    V(D, G) = \mathbb E_{x \sim p_\text{data}}\big[\log D(x)\big]
            + \mathbb E_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big].

The **discriminator ascends** :math:`V`: it gets better at telling real from
fake. The **generator descends** it (``objective='saturating'``), or, as
almost everyone does because that gradient vanishes when :math:`D` wins,
ascends :math:`\mathbb E_z \log D(G(z))` instead (``objective='non-saturating'``).

On 8×8 digits both networks are small MLPs (``arch='mlp'``, :func:`gaedu.nets.mlp`):
an 8×8 digit is 64 numbers, so a convolution buys little, and an MLP trains fast on
a CPU. The same classes serve the 2-D toy data (``out_shape=(2,)``, ``output='linear'``).
For 28×28 digits (``arch='conv'``, ``out_shape=(1, 28, 28)``) they are DCGAN-style
convolutional networks (Radford et al. 2016): the generator goes up from 7×7 by
transposed convolutions, the discriminator down by strided convolutions
(:func:`gaedu.nets.conv_up`, :func:`gaedu.nets.conv_down`).
Notation: :math:`f` is the discriminator's logit and :math:`D = \sigma(f)`.
Jacobian truncation, a way to sample from a trained generator, is in
:mod:`gaedu.truncation`.

The package has three modules: :mod:`~gaedu.gan.networks` (the settings and the two networks),
:mod:`~gaedu.gan.objectives` (the value, the players' objectives, one round of play) and
:mod:`~gaedu.gan.training` (training, sampling, checkpoints, the book's settings); every name
is importable from ``gaedu.gan``.
"""

from __future__ import annotations

from gaedu.gan.networks import (
    ARCHS,
    FIXED_SAMPLES,
    GENERATOR_OBJECTIVES,
    HISTORY_EVERY,
    Discriminator,
    GANConfig,
    Generator,
    GeneratorObjective,
)
from gaedu.gan.objectives import (
    discriminator_objective,
    generator_objective,
    training_step,
    value,
    value_from_logits,
)
from gaedu.gan.training import (
    MNIST28_GAN,
    MNIST28_MLP_GAN,
    RING_FIXED,
    RING_PLAIN,
    GANResult,
    generate,
    load_generator,
    noise,
    sample,
    save_gan,
    train_gan,
)

__all__ = [
    "ARCHS",
    "Discriminator",
    "FIXED_SAMPLES",
    "GANConfig",
    "GANResult",
    "GENERATOR_OBJECTIVES",
    "Generator",
    "GeneratorObjective",
    "HISTORY_EVERY",
    "MNIST28_GAN",
    "MNIST28_MLP_GAN",
    "RING_FIXED",
    "RING_PLAIN",
    "discriminator_objective",
    "generate",
    "generator_objective",
    "load_generator",
    "noise",
    "sample",
    "save_gan",
    "train_gan",
    "training_step",
    "value",
    "value_from_logits",
]
