r"""The learned score: a noise-conditional denoiser of the 8×8 digits, its training and its sampling."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gaedu._validation import (
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_positive,
    check_sizes,
    set_checked,
)
from gaedu.checkpoint import load_network, save_networks
from gaedu.device import get_device
from gaedu.nets import device_of, seeded
from gaedu.optim import record_evaluation, update_ema
from gaedu.score.guidance import classifier_log_likelihood, guided_score
from gaedu.score.samplers import annealed_langevin, ddim, noise_levels, reverse_diffusion
from gaedu.tweedie import ScoreFn, denoiser_score, dsm_loss

METHODS = ("langevin", "diffusion", "ddim")

@dataclass(frozen=True)
class ScoreConfig:
    r"""The score model and its training (immutable: use ``dataclasses.replace``).

    The network is a denoiser :math:`D(x, \sigma)` with the preconditioning of Karras et
    al. (2022): it sees the noisy image scaled to unit variance and :math:`\log\sigma`, and
    predicts a correction that is mixed with the input so that the output stays of the
    right size at every noise level. Its score is Tweedie's :math:`(D - x)/\sigma^2`.

    Attributes:
        shape: the shape of one image.
        width: width of the residual MLP.
        blocks: residual blocks.
        sigma_data: the data's standard deviation about 1/2 (the preconditioning's scale).
        sigma_min, sigma_max: the range of noise levels of the samplers; ``sigma_max``
            should be at least the largest distance between two training images
            (Song and Ermon 2020), so that the first level hides the data entirely.
        p_mean, p_std: training draws :math:`\log\sigma \sim \mathcal N(p_\text{mean}, p_\text{std}^2)`.
        num_steps, batch_size, lr: Adam on :func:`dsm_loss`, the learning rate warmed up
            over the first 200 steps, then cosine-decayed to 0.
        ema: decay of the weight average that samples (0: none).
        seed: seed of the initial weights and of the training noise.
    """

    shape: tuple[int, ...] = (1, 8, 8)
    width: int = 256
    blocks: int = 3
    sigma_data: float = 0.4
    sigma_min: float = 0.01
    sigma_max: float = 5.0
    p_mean: float = -1.2
    p_std: float = 1.2
    num_steps: int = 8000
    batch_size: int = 256
    lr: float = 2e-3
    ema: float = 0.9995
    seed: int = 0

    def __post_init__(self) -> None:
        set_checked(self, "shape", check_sizes)
        for name in ("width", "blocks", "batch_size"):
            set_checked(self, name, check_int)
        set_checked(self, "num_steps", check_int, minimum=0)
        set_checked(self, "seed", check_int, minimum=0)
        for name in ("sigma_data", "sigma_min", "sigma_max", "p_std", "lr"):
            set_checked(self, name, check_positive)
        set_checked(self, "p_mean", check_number)
        set_checked(self, "ema", check_fraction)
        if self.sigma_min >= self.sigma_max:
            raise ValueError(f"sigma_min ({self.sigma_min}) must be below sigma_max ({self.sigma_max})")

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints)."""
        return asdict(self)


class _Block(nn.Module):
    def __init__(self, width: int, embed: int) -> None:
        super().__init__()
        self.norm, self.inner, self.noise, self.outer = nn.LayerNorm(width), nn.Linear(width, width), nn.Linear(embed, width), nn.Linear(width, width)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return h + self.outer(F.silu(self.inner(F.silu(self.norm(h))) + self.noise(emb)))


class _NoiseConditionalMLP(nn.Module):
    """The body the score model and the noise-conditional classifier share: a residual MLP told ``log σ``.

    ``log σ`` enters through random Fourier features (a fixed buffer, the same for every seed) and
    a small embedding added in every block; the input is the centred image scaled to unit variance.
    """

    def __init__(self, shape: tuple[int, ...], width: int, blocks: int, outputs: int) -> None:
        super().__init__()
        size, embed = math.prod(shape), 128
        self.register_buffer("frequencies", torch.randn(embed // 4, generator=torch.Generator().manual_seed(0)) * 4)
        self.embed = nn.Sequential(nn.Linear(embed // 2, embed), nn.SiLU())
        self.inp = nn.Linear(size, width)
        self.blocks = nn.ModuleList(_Block(width, embed) for _ in range(blocks))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, outputs))

    def _sigma(self, sigma, x: torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        return sigma.expand(len(x)) if sigma.ndim == 0 else sigma

    def _body(self, u: torch.Tensor, sigma: torch.Tensor, c_in: torch.Tensor) -> torch.Tensor:
        """The last layer's output for centred images ``u`` ``(B, size)`` at levels ``sigma`` ``(B,)``, input scale ``c_in``."""
        angles = 2 * math.pi * (sigma.log() / 4)[:, None] * self.frequencies
        emb = self.embed(torch.cat([angles.sin(), angles.cos()], dim=1))
        h = self.inp(c_in * u)
        for block in self.blocks:
            h = block(h, emb)
        return self.out(h)


class ScoreNet(_NoiseConditionalMLP):
    r"""A noise-conditional denoiser :math:`D(x, \sigma)` for images of ``config.shape``; its score by Tweedie.

    ``model(x, sigma)`` returns the denoised images; :meth:`score` returns
    :math:`(D(x, \sigma) - x)/\sigma^2`. ``sigma`` is a number or a tensor ``(B,)``.
    """

    def __init__(self, config: ScoreConfig) -> None:
        super().__init__(config.shape, config.width, config.blocks, math.prod(config.shape))
        self.config = config
        self.image_shape = config.shape

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        sigma = self._sigma(sigma, x)
        s, sd = sigma[:, None], self.config.sigma_data
        u = x.flatten(1) - 0.5  # pixels in [0, 1], centred
        c_skip, c_out, c_in = sd**2 / (s**2 + sd**2), s * sd / (s**2 + sd**2).sqrt(), 1 / (s**2 + sd**2).sqrt()
        return (0.5 + c_skip * u + c_out * self._body(u, sigma, c_in)).view(x.shape)

    def score(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """Return :math:`\\nabla_x \\log p_\\sigma(x)` by Tweedie's formula, shaped like ``x``."""
        return denoiser_score(x, self(x, sigma), self._sigma(sigma, x))


def preconditioned_weight(sigma: torch.Tensor, sigma_data: float) -> torch.Tensor:
    r"""The per-sample weight :math:`1 + \sigma^2/\sigma_\text{data}^2` of training (Karras et al. 2022).

    With it, :func:`dsm_loss` is :math:`\lVert D - x_0\rVert^2/c_\text{out}^2`: every noise
    level contributes a loss of order 1.
    """
    return 1 + sigma**2 / sigma_data**2


@dataclass
class ScoreResult:
    """What :func:`train_score` returns.

    Attributes:
        config: the settings.
        model: the trained network; ``ema_model`` its weight average (``None`` when
            ``config.ema == 0``); :attr:`sampler` the one to sample from.
        history: ``'step'`` and ``'loss'`` (the mean over the last 50 steps) every 50 steps;
            ``'eval_step'`` and ``'eval_<name>'`` for each number ``evaluate`` returned.
    """

    config: ScoreConfig
    model: ScoreNet
    ema_model: ScoreNet | None
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def sampler(self) -> ScoreNet:
        return self.ema_model if self.ema_model is not None else self.model


def _check_images(x: Any, config: ScoreConfig) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape[1:]) != config.shape or not len(x):
        raise ValueError(f"x must have shape (N, {', '.join(map(str, config.shape))}), got {tuple(x.shape)}")
    if not x.is_floating_point() or not torch.isfinite(x).all():
        raise ValueError("x must be finite floats")
    return x


def train_score(
    x: torch.Tensor,
    config: ScoreConfig | None = None,
    *,
    device: str | torch.device | None = None,
    progress: bool = True,
    eval_every: int = 0,
    evaluate: Callable[[ScoreNet], dict[str, float]] | None = None,
) -> ScoreResult:
    """Train a :class:`ScoreNet` on images ``x`` ``(N, *config.shape)`` by denoising score matching.

    Each step draws ``batch_size`` images, a noise level per image
    (:math:`\\log\\sigma \\sim \\mathcal N(p_\\text{mean}, p_\\text{std}^2)`) and the noise,
    all from a CPU random generator seeded with ``config.seed``, and takes one Adam step down
    :func:`dsm_loss` weighted by :func:`preconditioned_weight`.

    Args:
        x: the training images.
        config: the settings (default :class:`ScoreConfig()`).
        device: where to train (default: :func:`gaedu.get_device`).
        progress: show a tqdm progress bar.
        eval_every, evaluate: call ``evaluate(sampler)`` every this many steps and record
            its numbers in the history (as :func:`gaedu.gan.train_gan` does).

    Raises:
        ValueError: bad images or settings.
    """
    config = config or ScoreConfig()
    x = _check_images(x, config)
    eval_every = check_int("eval_every", eval_every, minimum=0)
    device = get_device(device)
    x = x.to(device, torch.float32)
    model = seeded(lambda: ScoreNet(config), config.seed).to(device)
    ema = copy.deepcopy(model).requires_grad_(False) if config.ema > 0 else None
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    total = max(config.num_steps, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / 200) * 0.5 * (1 + math.cos(math.pi * min(i, total) / total)))
    rng = torch.Generator().manual_seed(config.seed)
    result = ScoreResult(config, model, ema, {"step": [], "loss": []})
    bar = tqdm(range(1, config.num_steps + 1), desc="score model", disable=not progress, mininterval=1.0)
    running = []
    for step in bar:
        index = torch.randint(len(x), (config.batch_size,), generator=rng)
        sigma = (torch.randn(config.batch_size, generator=rng) * config.p_std + config.p_mean).exp()
        eps = torch.randn((config.batch_size, *config.shape), generator=rng)
        sigma, eps = sigma.to(device), eps.to(device)
        loss = dsm_loss(model.score, x[index.to(device)], sigma, eps, preconditioned_weight(sigma, config.sigma_data))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
        if ema is not None:
            update_ema(ema, model, config.ema, step)
        running.append(loss.item())
        if step % 50 == 0 or step == config.num_steps:
            result.history["step"].append(step)
            result.history["loss"].append(sum(running) / len(running))
            bar.set_postfix(loss=f"{result.history['loss'][-1]:.3f}", refresh=False)
            running = []
        if eval_every and evaluate is not None and (step % eval_every == 0 or step == config.num_steps):
            record_evaluation(result.history, step, evaluate(result.sampler))
    bar.close()
    model.eval()
    if ema is not None:
        ema.eval()
    return result


def _model_score(model: ScoreNet) -> ScoreFn:
    return lambda x, sigma: model.score(x, sigma)


#: The default settings of :func:`sample`: annealed Langevin with Song and Ermon's (2019) published
#: settings (10 levels of 100 steps, step 2e-5 at the last level), reverse diffusion with DDPM's 1000 levels,
#: DDIM with 50 (Song, Meng and Ermon 2021 report 50 to 100 steps close to the 1000 of the ancestral sampler).
LANGEVIN_LEVELS, LANGEVIN_STEPS, LANGEVIN_EPSILON, DIFFUSION_LEVELS, DDIM_LEVELS = 10, 100, 2e-5, 1000, 50
#: The levels each method starts from when ``num_levels`` is not given.
DEFAULT_LEVELS = {"langevin": LANGEVIN_LEVELS, "diffusion": DIFFUSION_LEVELS, "ddim": DDIM_LEVELS}


@torch.no_grad()
def sample(
    model: ScoreNet,
    n: int,
    *,
    seed: int = 0,
    method: str = "langevin",
    num_levels: int | None = None,
    epsilon: float = LANGEVIN_EPSILON,
    steps_per_level: int = LANGEVIN_STEPS,
    every: int = 0,
    batch_size: int = 1000,
    progress: bool = False,
    label: int | None = None,
    classifier: nn.Module | None = None,
    guidance_scale: float = 2.0,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` images from a score model, clipped to [0, 1], on the CPU.

    The chains start at :math:`1/2 + \\sigma_\\text{max}\\,\\xi` and descend noise levels from
    the model's ``sigma_max`` to its ``sigma_min``: geometric ones for annealed Langevin,
    :func:`noise_levels` with ``rho=7`` for reverse diffusion and DDIM.

    Args:
        model: a trained :class:`ScoreNet`.
        n: the number of images.
        seed: the seed of the starts and of all the noise.
        method: ``'langevin'`` (:func:`annealed_langevin`: ``num_levels`` levels, default
            :data:`LANGEVIN_LEVELS`, of ``steps_per_level`` steps, step ``epsilon`` at the last)
            or ``'diffusion'`` (:func:`reverse_diffusion`: ``num_levels`` levels, default
            :data:`DIFFUSION_LEVELS`) or ``'ddim'`` (:func:`ddim`, deterministic after the start:
            ``num_levels`` levels, default :data:`DDIM_LEVELS`). Each level costs one network
            evaluation (Langevin: ``steps_per_level``), plus one for the last denoising step.
        every: also return the frames (see the samplers), for an animation.
        batch_size: chains run together; the draw depends on it (the noise is drawn batch by batch).
        progress: show a progress bar over the images drawn.
        label, classifier, guidance_scale: draw images of class ``label`` by classifier guidance
            (:func:`gaedu.score.guided_score`) with the noise-conditional ``classifier``
            (:class:`gaedu.score.classifier.NoisyClassifier`) at scale ``guidance_scale``. Scale 1 is the
            exact conditional law when both models are exact; with the book's models 2 (the default)
            gives the class about 99 % of the time at no cost in FD (``python -m bench.guidance``).

    Returns:
        ``(n, *shape)`` images, or ``(images, frames)`` with ``every`` (frames
        ``(K, n, *shape)``, not clipped).
    """
    n, seed = check_int("n", n), check_int("seed", seed, minimum=0)
    method = check_choice("method", method, METHODS)
    config = model.config
    num_levels = check_int("num_levels", num_levels if num_levels is not None else DEFAULT_LEVELS[method])
    batch_size, every = check_int("batch_size", batch_size), check_int("every", every, minimum=0)
    if method != "langevin" and num_levels < 2:
        raise ValueError(f"num_levels must be at least 2 for method={method!r}")
    device = device_of(model)
    score_fn = _model_score(model)
    if label is not None:
        if classifier is None:
            raise ValueError("sampling a class needs a noise-conditional classifier (classifier=)")
        classes = classifier.config.classes
        label = check_int("label", label, minimum=0, maximum=classes - 1)
        score_fn = guided_score(score_fn, classifier_log_likelihood(classifier, label), guidance_scale)
    rng = torch.Generator().manual_seed(seed)
    sigmas = noise_levels(config.sigma_max, config.sigma_min, num_levels, rho=None if method == "langevin" else 7.0)
    images, frames = [], []
    bar = tqdm(total=n, desc="sampling", unit="image", disable=not progress, leave=False)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        x0 = (0.5 + config.sigma_max * torch.randn((m, *config.shape), generator=rng)).to(device)
        if method == "diffusion":
            x, path = reverse_diffusion(score_fn, x0, sigmas, rng=rng, every=every)
        elif method == "ddim":
            x, path = ddim(score_fn, x0, sigmas, every=every)
        else:
            x, path = annealed_langevin(score_fn, x0, sigmas, epsilon=epsilon, steps_per_level=steps_per_level,
                                        rng=rng, every=every)  # fmt: skip
        images.append(x.clamp(0, 1).cpu())
        frames.append(path.cpu())
        bar.update(m)
    bar.close()
    images = torch.cat(images)
    return (images, torch.cat(frames, dim=1)) if every else images


def save_score(path: str | os.PathLike, result: ScoreResult, info: dict | None = None, *,
               classifier: nn.Module | None = None) -> Path:  # fmt: skip
    """Write a trained score model (both networks) to a checkpoint of kind ``'score'``; return the path.

    With ``classifier`` (a :class:`gaedu.score.classifier.NoisyClassifier`) the checkpoint also holds it,
    its settings under ``info['classifier']``, so that it can be sampled by class
    (:func:`gaedu.score.classifier.load_classifier`).
    """
    networks = {"model": result.model, "ema_model": result.ema_model, "classifier": classifier}
    if classifier is not None:
        info = {**(info or {}), "classifier": classifier.config.to_dict()}
    return save_networks(path, "score", result.config.to_dict(), networks, info)


def load_score(path: str | os.PathLike, *, device: str | torch.device | None = None) -> ScoreNet:
    """Load the network to sample from (the weight average when saved) from a score checkpoint, in eval mode.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """
    return load_network(path, "score", lambda c: ScoreNet(ScoreConfig(**c)), ("ema_model", "model"), device=device)


#: The book's score model of the 8×8 digits (the defaults): about two and a half minutes on two CPU cores.
DIGITS_SCORE = ScoreConfig()
#: The score model of the ring of eight Gaussians (points in the plane, the ring GAN's 10,000 training
#: points): a smaller network over the ring's ladder, 0.01 to 4, with levels drawn log-normally around
#: 0.2; about 20 seconds on two CPU cores.
RING_SCORE = ScoreConfig(shape=(2,), width=128, blocks=2, sigma_data=1.4, sigma_min=0.01, sigma_max=4.0, p_mean=-1.5,
                         p_std=1.5, num_steps=4000, batch_size=512)  # fmt: skip
