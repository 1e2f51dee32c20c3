"""Command line: ``python -m gaedu COMMAND ...``; ``python -m gaedu --help`` lists the commands.

Every error a user can cause (a bad argument, a missing or corrupt file, an
unavailable device) prints one line to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump), with exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _write_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (see :func:`gaedu._io.atomic_write`)."""
    from gaedu._io import atomic_write

    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    atomic_write(path, lambda file: np.save(file, array))


def _train(args: argparse.Namespace, fit, describe) -> None:
    """Train under ``torchrun`` or alone, then (in the main process) save and report: what both trainers share.

    ``fit(process)`` trains and returns ``(result, save, info)``; ``describe(result,
    seconds, where, info)`` returns the line to print after ``save(out, result, info)``.
    """
    import torch

    from gaedu import distributed

    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: the folder {out.parent} does not exist")
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


def _train_gan(args: argparse.Namespace) -> None:
    from gaedu.data import load_digits
    from gaedu.gan import GANConfig, save_gan, train_gan

    config = GANConfig(seed=args.seed, **({"num_steps": args.steps} if args.steps is not None else {}))

    def fit(process):
        x_real, _ = load_digits("train")
        return train_gan(x_real, config, device=process.device, progress=not args.quiet), save_gan, lambda r: {}

    def describe(result, seconds, where, info):
        steps = config.num_steps
        return f"{steps} steps on {where} in {seconds:.1f} s ({1e3 * seconds / max(steps, 1):.2f} ms/step)"

    _train(args, fit, describe)


def _sample(args: argparse.Namespace) -> None:
    from gaedu.device import get_device
    from gaedu.gan import load_generator, sample

    generator = load_generator(args.checkpoint, device=get_device(args.device))
    images = sample(generator, args.n, seed=args.seed).numpy().astype(np.float32)  # (n, 1, 8, 8) in [0, 1]
    _write_npy(Path(args.out), images)
    print(f"wrote {args.out}: {images.shape[0]} samples of shape {images.shape[1:]}")


def _read_images(path: Path):
    """Read a ``.npy`` file of images ``(N, 1, 8, 8)`` in ``[0, 1]`` as a float32 tensor, or raise UsageError."""
    import torch

    from gaedu._validation import check_images

    if not path.is_file():
        raise UsageError(f"no input file at {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
        raise UsageError(f"{path} is not a readable .npy file: {reason}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        raise UsageError(f"{path} must hold a numeric array, got {getattr(array, 'dtype', type(array).__name__)}")
    try:
        return check_images(torch.from_numpy(array.astype(np.float32)), f"the images in {path}", shape=(1, 8, 8))
    except ValueError as err:
        raise UsageError(str(err)) from None


def _train_ae(args: argparse.Namespace) -> None:
    from gaedu.autoencoder import AEConfig, reconstruct, save_autoencoder, train_autoencoder
    from gaedu.data import load_digits
    from gaedu.metrics import psnr

    steps = {"num_steps": args.steps} if args.steps is not None else {}
    config = AEConfig(latent_dim=args.latent_dim, loss=args.loss, seed=args.seed, **steps)
    x_test, _ = load_digits("test")

    def fit(process):
        x_train, _ = load_digits("train")
        result = train_autoencoder(x_train, config, device=process.device, progress=not args.quiet)
        return result, save_autoencoder, lambda r: {"test_psnr": psnr(reconstruct(r.model, x_test), x_test).mean().item()}

    def describe(result, seconds, where, info):
        return (f"k = {config.latent_dim}, {config.loss} loss, {config.num_steps} steps on {where} in {seconds:.1f} s; "
                f"test PSNR {info['test_psnr']:.2f} dB (best held-out step {result.best_step})")  # fmt: skip

    _train(args, fit, describe)


def _reconstruct(args: argparse.Namespace) -> None:
    from gaedu.autoencoder import load_autoencoder, reconstruct
    from gaedu.device import get_device

    images = _read_images(Path(args.input))
    model = load_autoencoder(args.checkpoint, device=get_device(args.device))
    output = reconstruct(model, images).numpy().astype(np.float32)  # (N, 1, 8, 8) in [0, 1]
    _write_npy(Path(args.out), output)
    print(f"wrote {args.out}: {output.shape[0]} reconstructions of shape {output.shape[1:]}")


def _add_training_options(command: argparse.ArgumentParser) -> None:
    """Add the options both trainers take: --steps, --seed, --device, --quiet."""
    command.add_argument("--steps", type=_positive, default=None, help="training steps (default: the book's)")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m gaedu``."""
    parser = _Parser(prog="python -m gaedu", description="Train and use the book's models.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gan = commands.add_parser("train-gan", help="train the book's digits GAN and save a checkpoint")
    gan.add_argument("--out", required=True, help="checkpoint file to write")
    _add_training_options(gan)
    gan.set_defaults(run=_train_gan)

    smp = commands.add_parser("sample", help="draw digits from a GAN checkpoint into a .npy file")
    smp.add_argument("--checkpoint", required=True)
    smp.add_argument("--n", type=_positive, required=True, help="number of samples")
    smp.add_argument("--out", required=True, help=".npy file to write: float32, shape (N, 1, 8, 8), in [0, 1]")
    smp.add_argument("--seed", type=int, default=0)
    smp.add_argument("--device", default=None)
    smp.set_defaults(run=_sample)

    ae = commands.add_parser("train-ae", help="train a digits autoencoder and save a checkpoint")
    ae.add_argument("--latent-dim", type=_positive, required=True, help="length K of the code")
    ae.add_argument("--out", required=True, help="checkpoint file to write")
    ae.add_argument("--loss", choices=("l1", "l2"), default="l2", help="reconstruction error (default: l2)")
    _add_training_options(ae)
    ae.set_defaults(run=_train_ae)

    rec = commands.add_parser("reconstruct", help="reconstruct digits from a .npy file with an autoencoder checkpoint")
    rec.add_argument("--checkpoint", required=True)
    rec.add_argument("--input", required=True, help=".npy file: float32, shape (N, 1, 8, 8), in [0, 1]")
    rec.add_argument("--out", required=True, help=".npy file to write, same shape and range")
    rec.add_argument("--device", default=None)
    rec.set_defaults(run=_reconstruct)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    from gaedu.checkpoint import CheckpointError

    try:
        args.run(args)
    except (UsageError, CheckpointError, ValueError, OSError) as err:
        print(f"python -m gaedu {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
