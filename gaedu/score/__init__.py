r"""Generating by climbing a log-density: Langevin dynamics, denoising score matching and diffusion.

**Langevin dynamics** is noisy gradient ascent on :math:`\log p`:

.. math::

    x \leftarrow x + \eta\,\nabla_x \log p(x) + \sqrt{2\eta}\,\xi, \qquad \xi \sim \mathcal N(0, I).

It is the noisy ascent of :mod:`gaedu.ascent` at temperature :math:`\mathcal T = 1`; its
stationary law is :math:`\propto \exp(J/\mathcal T) = p` when :math:`J = \log p`, so the
chain *samples* :math:`p` once it has mixed (for a small step :math:`\eta`).

The **score** :math:`s(x, \sigma) = \nabla_x \log p_\sigma(x)` of the data blurred by Gaussian
noise of standard deviation :math:`\sigma` is what a *score model* learns. Tweedie's formula
ties it to denoising: :math:`\mathbb E[x_0 \mid x] = x + \sigma^2 s(x, \sigma)`, so a network
:math:`D(x, \sigma)` trained to denoise (:func:`dsm_loss`, denoising score matching, Vincent
2011) gives the score :math:`(D(x, \sigma) - x)/\sigma^2`.

Three samplers, each a loop of explicit ascent steps plus noise, all seeded by a
``generator=`` (a :class:`torch.Generator`; the global random state is untouched):

- :func:`langevin`: plain Langevin at one density;
- :func:`annealed_langevin`: Langevin over a ladder of decreasing noise levels (Song and
  Ermon 2019), step :math:`\eta_i = \epsilon\,\sigma_i^2/\sigma_L^2` at level :math:`\sigma_i`;
- :func:`reverse_diffusion`: the diffusion model's ancestral sampler (Ho et al. 2020),
  written in the variance-exploding form: one ascent step of size
  :math:`\sigma_i^2 - \sigma_{i+1}^2` per level, plus the noise of the posterior
  :math:`q(x_{i+1} \mid x_i, \hat x_0)`.

The exact scores of Gaussian mixtures (:func:`mixture_score`) let the samplers be checked
on the book's ring of Gaussians; :class:`ScoreNet` and :func:`train_score` learn the score
of the 8×8 digits; :func:`posterior_score` adds an observation's log-likelihood for
reconstruction (posterior sampling).

The package has five modules: :mod:`gaedu.score.mixtures` (exact scores), :mod:`gaedu.score.samplers`
(including :func:`ddim`, the deterministic sampler), :mod:`gaedu.score.guidance` (steering a sampler
toward a class or an observation), :mod:`gaedu.score.model` (the learned score) and
:mod:`gaedu.score.classifier` (the noise-conditional classifier that guidance climbs). Tweedie's formula and the DSM loss live in
:mod:`gaedu.tweedie`, shared with the photographs' denoiser; they are re-exported here.
"""


from gaedu.score.classifier import (
    ClassifierConfig,
    NoisyClassifier,
    load_classifier,
    noisy_accuracy,
    train_noisy_classifier,
)
from gaedu.score.guidance import (
    classifier_log_likelihood,
    dps_score,
    free_guidance,
    guided_score,
    likelihood_gradient,
)
from gaedu.score.mixtures import mixture_log_density, mixture_log_posterior, mixture_score
from gaedu.score.model import (
    DDIM_LEVELS,
    DIFFUSION_LEVELS,
    DIGITS_SCORE,
    LANGEVIN_EPSILON,
    LANGEVIN_LEVELS,
    LANGEVIN_STEPS,
    METHODS,
    RING_SCORE,
    ScoreConfig,
    ScoreNet,
    ScoreResult,
    load_score,
    preconditioned_weight,
    sample,
    save_score,
    train_score,
)
from gaedu.score.samplers import (
    annealed_langevin,
    ddim,
    langevin,
    langevin_step,
    noise_levels,
    posterior_score,
    reverse_diffusion,
)
from gaedu.tweedie import ScoreFn, dsm_loss, tweedie

__all__ = [
    "DDIM_LEVELS",
    "DIFFUSION_LEVELS",
    "DIGITS_SCORE",
    "RING_SCORE",
    "ClassifierConfig",
    "LANGEVIN_EPSILON",
    "LANGEVIN_LEVELS",
    "LANGEVIN_STEPS",
    "METHODS",
    "NoisyClassifier",
    "ScoreConfig",
    "ScoreFn",
    "ScoreNet",
    "ScoreResult",
    "annealed_langevin",
    "classifier_log_likelihood",
    "ddim",
    "dps_score",
    "dsm_loss",
    "free_guidance",
    "guided_score",
    "langevin",
    "langevin_step",
    "load_classifier",
    "likelihood_gradient",
    "load_score",
    "mixture_log_density",
    "mixture_log_posterior",
    "mixture_score",
    "noise_levels",
    "noisy_accuracy",
    "posterior_score",
    "preconditioned_weight",
    "reverse_diffusion",
    "sample",
    "save_score",
    "train_noisy_classifier",
    "train_score",
    "tweedie",
]
