r"""Steering the samplers by ascent: guidance toward a class, and diffusion posterior sampling.

Bayes' rule in gradients: :math:`\nabla_x \log p(x \mid y) = \nabla_x \log p(x) + \nabla_x \log p(y \mid x)`.
Asking a sampler for ``y`` (a class, an observation) adds the gradient of the log-likelihood of ``y``
to the score, at every noise level: an ascent on :math:`\log p(y \mid x)` folded into the ascent on
:math:`\log p(x)`. Each function here returns a new score function for the samplers of
:mod:`gaedu.score.samplers`.

* :func:`guided_score`: classifier guidance (Dhariwal and Nichol 2021), the score plus ``scale`` times
  :math:`\nabla_x \log p_\sigma(y \mid x)` of a noise-conditional classifier (:func:`classifier_log_likelihood`);
  ``scale = 1`` is the exact conditional score, a larger one trades diversity for the class.
* :func:`free_guidance`: classifier-free guidance (Ho and Salimans 2022),
  :math:`(1 + w)\,s(x, y) - w\,s(x)` from a conditional and an unconditional score.
* :func:`dps_score`: diffusion posterior sampling (Chung et al. 2023), the log-likelihood of an
  observation at Tweedie's estimate :math:`\hat x_0(x)`, differentiated through the score model.

The gradients are taken by autograd, so a guided score works inside the samplers' ``no_grad``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gaedu._validation import check_int, check_nonnegative
from gaedu.score.samplers import _check_start
from gaedu.tweedie import ScoreFn, tweedie

#: ``log_likelihood(x, sigma)``: :math:`\log p_\sigma(y \mid x)` per sample, shape ``(N,)``, differentiable in ``x``.
LogLikelihood = Callable[[torch.Tensor, float], torch.Tensor]


def likelihood_gradient(log_likelihood: LogLikelihood, x: torch.Tensor, sigma: float) -> torch.Tensor:
    r""":math:`\nabla_x \log p_\sigma(y \mid x)` by autograd, shaped like ``x`` (works under ``torch.no_grad``)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        values = log_likelihood(x, sigma)
        if values.shape != x.shape[:1]:
            raise ValueError(f"log_likelihood must return one number per sample, shape ({len(x)},), got {tuple(values.shape)}")
        (gradient,) = torch.autograd.grad(values.sum(), x)
    if not torch.isfinite(gradient).all():
        raise ValueError("the log-likelihood's gradient is not finite")
    return gradient


def guided_score(score_fn: ScoreFn, log_likelihood: LogLikelihood, scale: float = 1.0) -> ScoreFn:
    r"""Classifier guidance: :math:`s(x, \sigma) + w\,\nabla_x \log p_\sigma(y \mid x)`, with ``scale`` :math:`w \ge 0`.

    With :math:`w = 1` it is the score of :math:`p_\sigma(x \mid y)` (Bayes' rule), so the samplers draw
    from the conditional law when both terms are exact. :math:`w > 1` samples
    :math:`\propto p(x)\,p(y \mid x)^w`, sharper in ``y`` and less diverse; :math:`w = 0` ignores ``y``.
    """
    scale = check_nonnegative("scale", scale)

    def score(x: torch.Tensor, sigma: float) -> torch.Tensor:
        prior = score_fn(x, sigma)
        return prior if scale == 0 else prior + scale * likelihood_gradient(log_likelihood, x, sigma)

    return score


def classifier_log_likelihood(classifier: Callable[[torch.Tensor, float], torch.Tensor], label) -> LogLikelihood:
    r""":math:`\log p_\sigma(y \mid x)` of a noise-conditional classifier: ``log_softmax(classifier(x, sigma))[:, label]``.

    ``classifier(x, sigma)`` returns logits ``(N, classes)``; ``label`` is one class for every sample,
    or a tensor ``(N,)`` of classes.
    """
    if isinstance(label, torch.Tensor):
        if label.ndim != 1 or label.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"label must be a class or an integer tensor (N,), got {label.dtype} {tuple(label.shape)}")
    else:
        label = check_int("label", label, minimum=0)

    def log_likelihood(x: torch.Tensor, sigma: float) -> torch.Tensor:
        log_probs = torch.log_softmax(classifier(x, sigma), dim=1)
        if isinstance(label, int) and label >= log_probs.shape[1]:
            raise ValueError(f"label must be below the classifier's {log_probs.shape[1]} classes, got {label}")
        index = label.to(x.device)[:, None] if isinstance(label, torch.Tensor) else torch.full((len(x), 1), label, device=x.device)
        return log_probs.gather(1, index)[:, 0]

    return log_likelihood


def free_guidance(conditional: ScoreFn, unconditional: ScoreFn, scale: float) -> ScoreFn:
    r"""Classifier-free guidance: :math:`(1 + w)\,s(x, y) - w\,s(x)` with ``scale`` :math:`w \ge 0`.

    Since :math:`s(x, y) - s(x) = \nabla_x \log p(y \mid x)`, this is :func:`guided_score` with scale
    :math:`1 + w`, the classifier's gradient read off two score models (or one with a "no label" input).
    """
    scale = check_nonnegative("scale", scale)

    def score(x: torch.Tensor, sigma: float) -> torch.Tensor:
        with_label = conditional(x, sigma)
        return with_label if scale == 0 else (1 + scale) * with_label - scale * unconditional(x, sigma)

    return score


def dps_score(score_fn: ScoreFn, observed: torch.Tensor, operator: Callable[[torch.Tensor], torch.Tensor],
              scale: float) -> ScoreFn:  # fmt: skip
    r"""Diffusion posterior sampling (Chung et al. 2023): the score plus the pull of an observation at :math:`\hat x_0(x)`.

    For :math:`y = A x_0 + \text{noise}`, the likelihood of a noisy :math:`x` is approximated at
    Tweedie's estimate :math:`\hat x_0(x) = x + \sigma^2 s(x, \sigma)`, and its gradient is taken through
    the score model:

    .. math::

        s(x, \sigma) - \zeta\,\nabla_x \frac{\lVert y - A \hat x_0(x)\rVert^2}{\lVert y - A \hat x_0(x)\rVert},

    one gradient step per sample with Chung et al.'s normalised step :math:`\zeta` (``scale``). Unlike
    :func:`gaedu.score.posterior_score`, the prior's network is differentiated, so each level costs a
    forward and a backward pass.
    """
    observed = _check_start(observed, "observed")
    scale = check_nonnegative("scale", scale)

    def score(x: torch.Tensor, sigma: float) -> torch.Tensor:
        with torch.enable_grad():  # one forward pass serves the score and the gradient through it
            x = x.detach().requires_grad_(True)
            prior = score_fn(x, sigma)
            residual = (observed - operator(tweedie(x, prior, sigma))).flatten(1)
            distance = residual.pow(2).sum(1) / residual.norm(dim=1).detach().clamp_min(1e-12)
            (gradient,) = torch.autograd.grad(distance.sum(), x)
        if not torch.isfinite(gradient).all():
            raise ValueError("the observation's gradient is not finite")
        return prior.detach() - scale * gradient

    return score
