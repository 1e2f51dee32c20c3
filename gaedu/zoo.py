"""The book's trained models, trained once per machine and kept in the model cache.

A 28×28 GAN takes minutes to train on a laptop CPU, and a comparison over three
training seeds multiplies even an 8×8 model's minute: far more than a notebook cell
should run. :func:`pretrained` returns a model by name: from the cache
(:mod:`gaedu.cache`) when it is there, otherwise trained with the documented settings
below, with a progress bar, and stored atomically. The cache file's name is a hash of
the settings (seed included) and of the gaedu and torch versions, so a changed model
is retrained, never silently reused. Nothing is downloaded; ``python -m gaedu cache``
(run by ``make book`` and ``make test``) fills the cache ahead of time.

========================  ==================================================================
name                      model
========================  ==================================================================
``'mnist28-judge'``       :class:`gaedu.classifier.MnistClassifier`, the judge of the FD at 28×28
``'mnist28-gan'``         the weight-averaged generator of :data:`gaedu.gan.MNIST28_GAN`
``'mnist28-mlp-gan'``     the same for the source's dense networks, :data:`gaedu.gan.MNIST28_MLP_GAN`
``'mnist28-ae-K'``        the convolutional autoencoder :data:`gaedu.autoencoder.MNIST28_AE`
                          with a code of ``K`` numbers (K in :data:`AE_CODES`)
``'digits8-score'``       the score model :data:`gaedu.score.DIGITS_SCORE` of the 8×8 digits
``'digits8-guide'``       the noise-conditional classifier ``ClassifierConfig()`` of the 8×8 digits,
                          which classifier guidance climbs (:mod:`gaedu.score.classifier`)
``'digits8-gan'``         the weight-averaged generator of the 8×8 digits GAN, ``GANConfig()``
``'digits8-ae'``          the autoencoder ``AEConfig()`` of the 8×8 digits (a code of 8 numbers)
``'digits8-ae-K'``        the same with a code of ``K`` numbers (K in :data:`DIGITS8_AE_CODES`;
                          ``'digits8-ae-8'`` is ``'digits8-ae'``), all with the same budget
``'digits8-dae'``         the denoising autoencoder ``AEConfig(noise=DAE_NOISE)``: trained to
                          return the clean digit from a copy with clipped Gaussian noise
``'ring-score'``          the score model :data:`gaedu.score.RING_SCORE` of the same ring points as
                          ``'ring-gan'`` (denoising score matching, no sampling kept with it)
``'ring-gan'``            the weight-averaged generator of :data:`gaedu.gan.RING_FIXED` on the
                          ring of :data:`RING_SAMPLES` points of ``ring_of_gaussians(seed=0)``
``'ring-gan-VARIANT'``    the ablation of ``RING_FIXED`` at its learning rate and budget
                          (:data:`RING_VARIANTS`): ``plain`` (no R1, no average), ``r1``
                          (R1 only, the last generator) and ``average`` (the average only)
========================  ==================================================================

The 28×28 models are trained on the training split of :func:`gaedu.data.load_mnist`
only, the 8×8 ones on that of :func:`gaedu.data.load_digits`. The score chapter
compares :data:`SEEDS` training seeds of each 8×8 model.
:func:`baseline_choice` caches the held-out-likelihood search that gives the KDE and
the Gaussian mixture their best settings at 28×28 (a couple of minutes).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch
from torch import nn

from gaedu import autoencoder, gan, score
from gaedu._validation import check_choice
from gaedu.baselines import choose_by_likelihood, fit_gmm, fit_kde
from gaedu.cache import cached, cached_result
from gaedu.classifier import MnistClassifier, train_digit_classifier
from gaedu.data import load_digits, load_mnist, ring_of_gaussians
from gaedu.metrics import digit_fd

#: Code lengths of the cached 28×28 autoencoders.
AE_CODES = (8, 16, 32)
#: Code lengths of the cached 8×8 autoencoders (the reconstruction chapter's sweep).
DIGITS8_AE_CODES = (2, 4, 8, 16, 32)
#: Noise level of the 8×8 denoising autoencoder: the reconstruction chapter's noisy damage.
DAE_NOISE = 0.2
#: Steps of the judge's training (Adam, batch 64, about 25 passes over the 4000 training digits).
JUDGE_STEPS = 1500
#: Samples behind each FD of the GAN's training curve, and how often (in steps) it is measured.
CURVE_SAMPLES, CURVE_EVERY = 1000, 500
#: The training seeds of the book's seed comparisons.
SEEDS = (0, 1, 2)
#: Samples the score model draws once, after training (annealed Langevin, seed 1), kept with it: sampling
#: 1000 digits takes longer than a notebook cell should, and three seeds three times as long.
SCORE_SAMPLES = 1000
#: The models the book compares over :data:`SEEDS` (``python -m gaedu cache`` trains every seed of each).
SEEDED = ("digits8-score", "digits8-guide", "digits8-gan", "ring-score", "ring-gan", "ring-gan-plain", "ring-gan-r1", "ring-gan-average",
          *(f"digits8-ae-{k}" for k in DIGITS8_AE_CODES), "digits8-dae")
#: The ablation of :data:`gaedu.gan.RING_FIXED`: what each variant changes (same learning rate, steps and batch).
RING_VARIANTS = {"plain": {"r1": 0.0, "ema": 0.0}, "r1": {"ema": 0.0}, "average": {"r1": 0.0}}
#: Points of the ring the ring GAN is trained on (as in the GAN chapter).
RING_SAMPLES = 10_000


def names() -> tuple[str, ...]:
    """The names :func:`pretrained` accepts."""
    return ("mnist28-judge", "mnist28-gan", "mnist28-mlp-gan", *(f"mnist28-ae-{k}" for k in AE_CODES),
            "digits8-score", "digits8-guide", "digits8-gan", "digits8-ae", *(f"digits8-ae-{k}" for k in DIGITS8_AE_CODES), "digits8-dae",
            "ring-score", "ring-gan",
            *(f"ring-gan-{variant}" for variant in RING_VARIANTS))  # fmt: skip


def _judge(progress: bool, seed: int):
    config = {"arch": "MnistClassifier", "num_steps": JUDGE_STEPS, "batch_size": 64, "seed": seed, "data": "mnist28-train"}

    def train():
        if progress:
            print("training the 28×28 judge (a small CNN classifier), about a minute on a CPU", flush=True)
        images, labels = load_mnist("train")
        start = time.perf_counter()
        model = train_digit_classifier(images, labels, seed=seed, num_steps=JUDGE_STEPS)
        test_images, test_labels = load_mnist("test")
        with torch.no_grad():
            accuracy = (model.cpu()(test_images).argmax(1) == test_labels).double().mean().item()
        return model, {"seconds": time.perf_counter() - start, "test_accuracy": accuracy}

    return "mnist28-judge", config, train, lambda _: MnistClassifier()


def _gan(name: str, progress: bool, seed: int):
    config = dataclasses.replace(gan.MNIST28_GAN if name == "mnist28-gan" else gan.MNIST28_MLP_GAN, seed=seed)

    def train():
        judge = pretrained("mnist28-judge", progress=progress)
        x_train, _ = load_mnist("train")
        x_test, _ = load_mnist("test")

        def evaluate(generator):  # recorded to draw the curve; nothing is chosen by it
            return {"fd": digit_fd(judge, gan.sample(generator, CURVE_SAMPLES, seed=1), x_test)}

        start = time.perf_counter()
        result = gan.train_gan(x_train, config, progress=progress, eval_every=CURVE_EVERY, evaluate=evaluate,
                           snapshot_every=config.num_steps // 8)  # fmt: skip
        seconds = time.perf_counter() - start
        steps = [step for step, _ in result.snapshots]
        snapshots = torch.stack([images for _, images in result.snapshots]) if steps else torch.empty(0, gan.FIXED_SAMPLES)
        info = {"seconds": seconds, "history": result.history, "snapshot_steps": steps, "snapshots": snapshots,
                "fixed_z": result.fixed_z, "device": str(next(result.generator.parameters()).device)}  # fmt: skip
        return result.sampler, info

    return name, config.to_dict(), train, lambda c: gan.Generator(gan.GANConfig(**c))


def _autoencoder(k: int, progress: bool, seed: int):
    config = dataclasses.replace(autoencoder.MNIST28_AE, latent_dim=k, seed=seed)

    def train():
        x_train, _ = load_mnist("train")
        start = time.perf_counter()
        result = autoencoder.train_autoencoder(x_train, config, progress=progress)
        return result.model, {"seconds": time.perf_counter() - start, "history": result.history, "best_step": result.best_step}

    return f"mnist28-ae-{k}", config.to_dict(), train, lambda c: autoencoder.Autoencoder.from_config(autoencoder.AEConfig(**c))


def _score(progress: bool, seed: int):
    config = dataclasses.replace(score.DIGITS_SCORE, seed=seed)
    draw = {"n": SCORE_SAMPLES, "seed": 1, "levels": score.LANGEVIN_LEVELS, "steps": score.LANGEVIN_STEPS, "epsilon": score.LANGEVIN_EPSILON}

    def train():
        x_train, _ = load_digits("train")
        start = time.perf_counter()
        result = score.train_score(x_train, config, progress=progress)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        images = score.sample(result.sampler, SCORE_SAMPLES, seed=1, method="langevin", num_levels=score.LANGEVIN_LEVELS,
                        steps_per_level=score.LANGEVIN_STEPS, epsilon=score.LANGEVIN_EPSILON)  # fmt: skip
        return result.sampler, {"seconds": seconds, "history": result.history, "samples": images,
                                "sample_seconds": time.perf_counter() - start,
                                "device": str(next(result.model.parameters()).device)}  # fmt: skip

    extra = {"data": "digits8-train", "samples": draw}
    return "digits8-score", {**config.to_dict(), **extra}, train, lambda c: score.ScoreNet(
        score.ScoreConfig(**{k: v for k, v in c.items() if k not in extra}))


def _guide(progress: bool, seed: int):
    config = score.ClassifierConfig(seed=seed)

    def train():
        x_train, labels = load_digits("train")
        start = time.perf_counter()
        model = score.train_noisy_classifier(x_train, labels, config, progress=progress)
        return model, {"seconds": time.perf_counter() - start}

    return "digits8-guide", {**config.to_dict(), "data": "digits8-train"}, train, lambda c: score.NoisyClassifier(
        score.ClassifierConfig(**{k: v for k, v in c.items() if k != "data"}))


def _ring_score(progress: bool, seed: int):
    config = dataclasses.replace(score.RING_SCORE, seed=seed)

    def train():
        points = ring_of_gaussians(RING_SAMPLES, seed=0)[0]
        start = time.perf_counter()
        result = score.train_score(points, config, progress=progress)
        return result.sampler, {"seconds": time.perf_counter() - start, "history": result.history}

    return "ring-score", {**config.to_dict(), "data": f"ring-{RING_SAMPLES}-seed0"}, train, lambda c: score.ScoreNet(
        score.ScoreConfig(**{k: v for k, v in c.items() if k != "data"}))


def _small_gan(name: str, progress: bool, seed: int):
    base = gan.GANConfig() if name == "digits8-gan" else gan.RING_FIXED
    config = dataclasses.replace(base, seed=seed, **RING_VARIANTS.get(name.removeprefix("ring-gan-"), {}))
    data = "digits8-train" if name == "digits8-gan" else f"ring-{RING_SAMPLES}-seed0"

    def train():
        x = load_digits("train")[0] if name == "digits8-gan" else ring_of_gaussians(RING_SAMPLES, seed=0)[0]
        start = time.perf_counter()
        result = gan.train_gan(x, config, progress=progress)
        return result.sampler, {"seconds": time.perf_counter() - start, "history": result.history}

    return name, {**config.to_dict(), "data": data}, train, lambda c: gan.Generator(
        gan.GANConfig(**{k: v for k, v in c.items() if k != "data"}))


def _digits_autoencoder(progress: bool, seed: int, latent_dim: int = 8, noise: float = 0.0):
    config = autoencoder.AEConfig(latent_dim=latent_dim, seed=seed, noise=noise)

    def train():
        x_train, _ = load_digits("train")
        start = time.perf_counter()
        result = autoencoder.train_autoencoder(x_train, config, progress=progress)
        return result.model, {"seconds": time.perf_counter() - start, "history": result.history}

    kind = "digits8-dae" if noise else "digits8-ae"  # the code length is in the settings, hence in the key
    return kind, {**config.to_dict(), "data": "digits8-train"}, train, lambda c: autoencoder.Autoencoder.from_config(
        autoencoder.AEConfig(**{k: v for k, v in c.items() if k != "data"}))


def _recipe(name: str, progress: bool, seed: int) -> tuple[str, dict, Callable, Callable]:
    if name == "mnist28-judge":
        return _judge(progress, seed)
    if name in ("mnist28-gan", "mnist28-mlp-gan"):
        return _gan(name, progress, seed)
    if name.startswith("mnist28-ae-") and name.removeprefix("mnist28-ae-") in {str(k) for k in AE_CODES}:
        return _autoencoder(int(name.removeprefix("mnist28-ae-")), progress, seed)
    if name == "digits8-score":
        return _score(progress, seed)
    if name == "digits8-guide":
        return _guide(progress, seed)
    if name == "ring-score":
        return _ring_score(progress, seed)
    if name in ("digits8-gan", "ring-gan") or name.removeprefix("ring-gan-") in RING_VARIANTS:
        return _small_gan(name, progress, seed)
    if name == "digits8-ae":
        return _digits_autoencoder(progress, seed)
    if name.startswith("digits8-ae-") and name.removeprefix("digits8-ae-") in {str(k) for k in DIGITS8_AE_CODES}:
        return _digits_autoencoder(progress, seed, latent_dim=int(name.removeprefix("digits8-ae-")))
    if name == "digits8-dae":
        return _digits_autoencoder(progress, seed, noise=DAE_NOISE)
    raise ValueError(f"unknown pretrained model {name!r}; choose one of {', '.join(map(repr, names()))}")


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return seed


def pretrained(name: str, *, seed: int = 0, progress: bool = True, info: bool = False) -> nn.Module | tuple[nn.Module, dict]:
    """Return the book's trained model ``name`` (see the module docstring), from the cache or trained now.

    Args:
        name: one of :func:`names`.
        seed: the training seed (the book uses 0; other seeds train and cache other models).
        progress: show a progress bar if the model has to be trained.
        info: also return what was recorded while training (time, curves, snapshots).

    Returns:
        The model on the CPU in eval mode, or ``(model, info)``.

    Raises:
        ValueError: an unknown name or a bad seed.
    """
    kind, config, train, build = _recipe(name, progress, _check_seed(seed))
    model, details = cached(kind, config, train, build)
    return (model, details) if info else model



#: The settings :func:`baseline_choice` tries on the 28×28 digits: numbers of PCA components, of mixture components.
BASELINE_DIMS, BASELINE_MIXTURES = (10, 20, 30, 50, 80, 120, 160), (1, 5, 10, 20)
#: The settings :func:`baseline_choice` tries on the 8×8 digits (64 pixels, 60 of which vary among the training digits).
DIGITS8_BASELINE_DIMS, DIGITS8_BASELINE_MIXTURES = (5, 10, 15, 20, 30, 40, 50, 60), (1, 5, 10, 20)
#: The data sets :func:`baseline_choice` knows.
BASELINE_DATASETS = ("mnist28", "digits8")


def _baseline_data(dataset: str):
    if dataset == "mnist28":
        return load_mnist("train")[0], BASELINE_DIMS, BASELINE_MIXTURES, "28×28"
    return load_digits("train")[0], DIGITS8_BASELINE_DIMS, DIGITS8_BASELINE_MIXTURES, "8×8"


def _baseline_config(kind: str, dataset: str) -> dict:
    """The settings :func:`baseline_choice` caches its rows under (no data is loaded)."""
    dims, mixtures = (BASELINE_DIMS, BASELINE_MIXTURES) if dataset == "mnist28" else (
        DIGITS8_BASELINE_DIMS, DIGITS8_BASELINE_MIXTURES)  # fmt: skip
    return {"kind": kind, "dims": list(dims), "mixtures": list(mixtures), "data": f"{dataset}-train"}


def baseline_choice(kind: str, *, dataset: str = "mnist28", progress: bool = True) -> list[dict]:
    """Return the held-out likelihood of every setting of the ``kind`` baseline (``'kde'`` or ``'gmm'``).

    The rows of :func:`gaedu.baselines.choose_by_likelihood` on the training split of
    ``dataset`` (``'mnist28'``: :func:`gaedu.data.load_mnist`; ``'digits8'``:
    :func:`gaedu.data.load_digits`), computed once and cached; the best row is
    ``max(rows, key=lambda r: r['val_loglik'])``.
    """
    check_choice("kind", kind, ("kde", "gmm"))
    check_choice("dataset", dataset, BASELINE_DATASETS)
    config = _baseline_config(kind, dataset)
    size = "28×28" if dataset == "mnist28" else "8×8"
    dims, mixtures = config["dims"], config["mixtures"]

    def compute():
        if progress:
            print(f"choosing the {size} {kind.upper()} baseline's settings by held-out likelihood (a minute or two)", flush=True)
        x_train = _baseline_data(dataset)[0]
        _, rows = choose_by_likelihood(x_train, kind, dims=dims, mixtures=mixtures)
        return {"rows": rows}

    return list(cached_result(f"{dataset}-{kind}-choice", config, compute)["rows"])


def best_baseline(kind: str, *, dataset: str = "mnist28", seed: int = 0, progress: bool = True):
    """Fit the ``kind`` baseline of ``dataset`` with its best settings (:func:`baseline_choice`) on its training split.

    ``seed`` seeds the mixture's fit (the kernel density has no randomness in its fit).
    """
    best = max(baseline_choice(kind, dataset=dataset, progress=progress), key=lambda row: row["val_loglik"])
    x_train = _baseline_data(dataset)[0]
    if kind == "kde":
        return fit_kde(x_train, n_components=best["dims"], bandwidths=[best["bandwidth"]])
    return fit_gmm(x_train, n_components=best["dims"], n_mixture=best["mixture"], seed=seed)
