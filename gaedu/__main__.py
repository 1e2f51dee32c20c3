"""Command line: ``python -m gaedu COMMAND ...``; ``python -m gaedu --help`` lists the commands.

Every error a user can cause (a bad argument, a missing or corrupt file, an
unavailable device) prints one line to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from gaedu._cli import (  # the files and bounds, checked before any work
    MAX_BLUR_STD,
    MAX_NOISE_STD,
    MAX_PIXELS,
    UsageError,
    _finite,
    _npy,
    _output,
    _read_array,
    _read_images,
    _write_image,
    _write_npy,
)

# The one module of gaedu whose gaedu imports sit inside functions: each command imports what it runs,
# so that --help, a bad argument or a missing file answers before the models' modules load (the
# whole package adds about 0.3 s to every start on the CPU the book is tested on).
from gaedu._parser import DATASETS, SAMPLERS, build_parser


class _Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so that no temporary file is left."""


def _train(args: argparse.Namespace, fit, describe) -> None:
    """Train under ``torchrun`` or alone, then (in the main process) save and report: what both trainers share.

    ``fit(process)`` trains and returns ``(result, save, info)``; ``describe(result,
    seconds, where, info)`` returns the line to print after ``save(out, result, info)``.
    """
    import torch

    from gaedu import distributed

    out = _output(args.out, size=64 * 2**20)  # the largest checkpoint, the 28×28 GAN's, is a few MB
    process = distributed.setup(args.device)  # under torchrun: join the other processes
    try:
        start = time.perf_counter()
        result, save, info = fit(process)
        seconds = time.perf_counter() - start
        where = f"{process.device}" + (f" × {process.world_size} processes ({process.backend})" if process.distributed else "")
        if process.is_main:  # one process writes the checkpoint
            info = {"seconds": seconds, "device": where, "torch": str(torch.__version__), **info(result)}
            save(out, result, info=info)
            print(f"wrote {out}: {describe(result, seconds, where, info)}")
    finally:
        distributed.teardown()


def _pace(steps: int, seconds: float, where: str) -> str:
    """How a training went, for its last line: the steps, the device, the seconds and the time per step."""
    return f"{steps} steps on {where} in {seconds:.1f} s ({1e3 * seconds / max(steps, 1):.2f} ms/step)"


def _train_gan(args: argparse.Namespace) -> None:
    import dataclasses

    from gaedu.data import load_digits
    from gaedu.gan import MNIST28_GAN, GANConfig, save_gan, train_gan

    base = MNIST28_GAN if args.dataset == "mnist28" else GANConfig()
    config = dataclasses.replace(base, seed=args.seed, **({"num_steps": args.steps} if args.steps is not None else {}))

    def fit(process):
        x_real, _ = load_digits("train", size=DATASETS[args.dataset])
        return train_gan(x_real, config, device=process.device, progress=not args.quiet), save_gan, lambda r: {}

    def describe(result, seconds, where, info):
        return _pace(config.num_steps, seconds, where)

    _train(args, fit, describe)


def _sample(args: argparse.Namespace) -> None:
    from gaedu.checkpoint import checkpoint_kind
    from gaedu.device import get_device

    device = get_device(args.device)
    out = _output(_npy(args.out), args.checkpoint, size=args.n * 28 * 28 * 4)
    kind = checkpoint_kind(args.checkpoint, ("gan", "score"))  # the checkpoint says what it holds
    score_only = [flag for flag, value in (("--label", args.label), ("--guidance-scale", args.guidance_scale),
                                           ("--sampler", args.sampler), ("--num-steps", args.num_steps)) if value is not None]  # fmt: skip
    if kind == "score":
        from gaedu.score import load_classifier, load_score, sample

        model = load_score(args.checkpoint, device=device)
        if args.guidance_scale is not None and args.label is None:
            raise UsageError("--guidance-scale steers toward a class: give --label too")
        guide = {} if args.label is None else {"label": args.label, "classifier": load_classifier(args.checkpoint, device=device),
                                               "guidance_scale": 2.0 if args.guidance_scale is None else args.guidance_scale}  # fmt: skip
        images = sample(model, args.n, seed=args.seed, method=SAMPLERS[args.sampler or "langevin"], num_levels=args.num_steps,
                        progress=not args.quiet, **guide)  # fmt: skip
    else:
        from gaedu.gan import load_generator, sample

        if score_only:
            raise UsageError(f"{', '.join(score_only)}: a GAN checkpoint has one way to sample and no classes; "
                             "these options are for score checkpoints")  # fmt: skip
        images = sample(load_generator(args.checkpoint, device=device), args.n, seed=args.seed)
    images = _finite(images.numpy().astype(np.float32), "samples").clip(0, 1)  # (n, 1, 8, 8) or (n, 1, 28, 28)
    _write_npy(out, images)
    what = "" if args.label is None else f" of class {args.label}"
    print(f"wrote {args.out}: {images.shape[0]} samples{what} of shape {images.shape[1:]}")


def _train_score(args: argparse.Namespace) -> None:
    import dataclasses

    from gaedu.data import load_digits
    from gaedu.score import DIGITS_SCORE, ClassifierConfig, save_score, train_noisy_classifier, train_score

    config = dataclasses.replace(DIGITS_SCORE, seed=args.seed, **({"num_steps": args.steps} if args.steps is not None else {}))
    guide = ClassifierConfig(seed=args.seed, **({} if args.classifier_steps is None else {"num_steps": max(args.classifier_steps, 1)}))
    trained = {"classifier": None}

    def fit(process):
        if process.distributed:
            raise UsageError("train-score runs in one process; start it without torchrun")
        x_real, labels = load_digits("train")
        result = train_score(x_real, config, device=process.device, progress=not args.quiet)
        if args.classifier_steps != 0:
            trained["classifier"] = train_noisy_classifier(x_real, labels, guide, device=process.device, progress=not args.quiet)
        return result, lambda out, result, info: save_score(out, result, info, classifier=trained["classifier"]), lambda r: {}

    def describe(result, seconds, where, info):
        what = "a score model" + (" and its noise-conditional classifier" if trained["classifier"] is not None else "")
        return f"{what}, {_pace(config.num_steps, seconds, where)}"

    _train(args, fit, describe)


def _train_ae(args: argparse.Namespace) -> None:
    import dataclasses

    from gaedu.autoencoder import MNIST28_AE, AEConfig, reconstruct, save_autoencoder, train_autoencoder
    from gaedu.data import load_digits
    from gaedu.metrics import psnr

    steps = {"num_steps": args.steps} if args.steps is not None else {}
    base = MNIST28_AE if args.dataset == "mnist28" else AEConfig()
    config = dataclasses.replace(base, latent_dim=args.latent_dim, loss=args.loss, seed=args.seed, **steps)
    x_test, _ = load_digits("test", size=DATASETS[args.dataset])

    def fit(process):
        x_train, _ = load_digits("train", size=DATASETS[args.dataset])
        result = train_autoencoder(x_train, config, device=process.device, progress=not args.quiet)
        return result, save_autoencoder, lambda r: {"test_psnr": psnr(reconstruct(r.model, x_test), x_test).mean().item()}

    def describe(result, seconds, where, info):
        return (f"k = {config.latent_dim}, {config.loss} loss, {config.num_steps} steps on {where} in {seconds:.1f} s; "
                f"test PSNR {info['test_psnr']:.2f} dB (best held-out step {result.best_step})")  # fmt: skip

    _train(args, fit, describe)


def _reconstruct(args: argparse.Namespace) -> None:
    from gaedu.autoencoder import load_autoencoder, reconstruct
    from gaedu.device import get_device

    device = get_device(args.device)
    out = _output(_npy(args.out), args.checkpoint, args.input)
    model = load_autoencoder(args.checkpoint, device=device)
    images = _read_images(Path(args.input), model.image_shape)
    output = _finite(reconstruct(model, images).numpy().astype(np.float32), "reconstructions").clip(0, 1)
    _write_npy(out, output)
    print(f"wrote {args.out}: {output.shape[0]} reconstructions of shape {output.shape[1:]}")


def _restore(args: argparse.Namespace) -> None:
    import torch

    from gaedu.device import get_device
    from gaedu.restoration import Blur, Downsample, Identity, Mask, Problem, restore

    if Path(args.out).suffix.lower() not in (".png", ".npy"):
        raise UsageError(f"{args.out}: the output must be a .png or .npy file")
    out = _output(args.out, args.input, args.mask, size=MAX_PIXELS * 4)
    device = get_device(args.device) if args.device or os.environ.get("GAEDU_DEVICE", "").strip() else None
    if device is not None and device.type != "cpu":  # an explicit request is never ignored
        raise UsageError(f"restore runs on the CPU only; the device {device} was asked for (--device or GAEDU_DEVICE)")
    noise = args.noise_std
    if args.task in ("denoise", "deblur", "super-resolution"):
        if noise is None:
            raise UsageError(f"--noise-std is required for --task {args.task}")
        if args.task != "super-resolution" and not noise > 0:  # block means may be exact: then they are kept
            raise UsageError(f"--noise-std must be > 0, got {noise:g}")
    if noise is None:
        noise = 0.0
    elif not noise >= 0:
        raise UsageError(f"--noise-std must be >= 0, got {noise:g}")
    if args.task == "deblur":
        if args.blur_std is None:
            raise UsageError("--blur-std is required for --task deblur")
        if not args.blur_std > 0:
            raise UsageError(f"--blur-std must be > 0, got {args.blur_std:g}")
    elif args.blur_std is not None:
        raise UsageError(f"--blur-std applies to --task deblur only, not {args.task}")
    if args.task == "super-resolution" and args.factor is None:
        raise UsageError("--factor is required for --task super-resolution")
    if args.task != "super-resolution" and args.factor is not None:
        raise UsageError(f"--factor applies to --task super-resolution only, not {args.task}")
    if args.task != "inpaint" and args.mask is not None:
        raise UsageError(f"--mask applies to --task inpaint only, not {args.task}")
    if not noise <= MAX_NOISE_STD:
        raise UsageError(f"--noise-std must be at most {MAX_NOISE_STD:g} (pixels are in [0, 1]), got {noise:g}")
    if args.blur_std is not None and not args.blur_std <= MAX_BLUR_STD:
        raise UsageError(f"--blur-std must be at most {MAX_BLUR_STD:g} pixels, got {args.blur_std:g}")
    observed = _read_array(Path(args.input), "input").astype(np.float64)
    if args.task == "inpaint":
        if args.mask is None:
            raise UsageError("--mask is required for --task inpaint")
        mask = _read_array(Path(args.mask), "mask") != 0
        if mask.shape != observed.shape:
            raise UsageError(f"the mask's shape {mask.shape} differs from the input's {observed.shape}")
        if not mask.any():
            raise UsageError(f"the mask in {args.mask} observes no pixel")
        operator = Mask(torch.from_numpy(mask))
    elif args.task == "deblur":
        operator = Blur(args.blur_std)
    elif args.task == "super-resolution":
        h, w = (side * args.factor for side in observed.shape)
        if h * w > MAX_PIXELS:
            raise UsageError(f"super-resolution by {args.factor} of a {observed.shape[0]}×{observed.shape[1]} input gives "
                             f"{h}×{w} pixels; the restored image may have at most {MAX_PIXELS:,} (2048×2048)")  # fmt: skip
        operator = Downsample(args.factor)
    else:
        operator = Identity()
    seen = observed[mask] if args.task == "inpaint" else observed
    reach = 6 * float(noise)  # the noise of a [0, 1] image stays within 6 σ of the range (a chance below 1e-8 a pixel)
    if seen.size and not (seen.min() >= -reach and seen.max() <= 1 + reach):
        raise UsageError(f"the input in {args.input} has values from {seen.min():g} to {seen.max():g}: an image in [0, 1] "
                         f"with noise of σ = {noise:g} lies in [{-reach:g}, {1 + reach:g}] (divide 8-bit values by 255)")  # fmt: skip
    y = torch.from_numpy(observed)
    if args.task == "inpaint":
        y = operator(y)  # what the mask hides is not observed, whatever the file holds there
    problem = Problem(args.task, y, operator, float(noise))
    side = problem.start().shape
    if args.method == "dip" and (side[0] % 16 or side[1] % 16):
        raise UsageError(f"--method dip needs side lengths that are multiples of 16, got {side[0]}×{side[1]}")
    result = restore(problem, args.method, seed=args.seed, progress=not args.quiet)
    image = _finite(result.image.double().numpy(), "restored pixels").clip(0, 1)
    _write_image(out, image)
    print(f"wrote {args.out}: {args.task} by {args.method}, {image.shape[0]}×{image.shape[1]}, {result.seconds:.1f} s")


def _cache(args: argparse.Namespace) -> None:
    from gaedu.cache import cache_dir
    from gaedu.cache_fill import fill, items, missing, plan, report

    if args.plan or args.check:
        todo = missing()
        print(plan(todo, args.jobs))
        if args.check and todo:
            raise UsageError(f"the model cache lacks {len(todo)} of the book's models: run python -m gaedu cache")
        return
    start = time.perf_counter()
    print(f"filling the model cache {cache_dir()}: a model already there is kept, a missing one is trained now", flush=True)
    done = fill(args.jobs, progress=not args.quiet, say=lambda line: print(line, flush=True))
    if done and args.jobs > 1:
        print(report(done))
    print(f"the model cache {cache_dir()} holds the book's {len(items())} models ({time.perf_counter() - start:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    commands = {"train-gan": _train_gan, "train-score": _train_score, "sample": _sample, "train-ae": _train_ae,
                "reconstruct": _reconstruct, "restore": _restore, "cache": _cache}  # fmt: skip
    args = build_parser(commands).parse_args(argv)
    from gaedu.checkpoint import CheckpointError

    def stop(signum, frame):
        raise _Stopped(signum)

    handled = (signal.SIGTERM, signal.SIGHUP) if hasattr(signal, "SIGHUP") else (signal.SIGTERM,)
    import threading

    main_thread = threading.current_thread() is threading.main_thread()  # only there can handlers be set
    previous = {sig: signal.signal(sig, stop) for sig in handled} if main_thread else {}
    prefix = f"python -m gaedu {args.command}"
    try:
        args.run(args)
    except (UsageError, CheckpointError, ValueError, OSError) as err:
        print(f"{prefix}: error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", file=sys.stderr)
        return 2
    except (RuntimeError, MemoryError, OverflowError) as err:  # the last resort: still one line, no traceback
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        print(f"{prefix}: error: {type(err).__name__}: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except _Stopped as stopped:
        name = signal.Signals(stopped.args[0]).name
        print(f"{prefix}: stopped by {name}; nothing was written", file=sys.stderr)
        return 128 + stopped.args[0]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
