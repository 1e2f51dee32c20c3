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
    """Write ``array`` to ``path`` atomically (a temporary file renamed over it)."""
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as file:
        np.save(file, array)
    temporary.replace(path)


def _train_gan(args: argparse.Namespace) -> None:
    import torch

    from gaedu.data import load_digits
    from gaedu.device import get_device
    from gaedu.gan import GANConfig, save_gan, train_gan

    device = get_device(args.device)
    config = GANConfig(seed=args.seed, **({"num_steps": args.steps} if args.steps is not None else {}))
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: the folder {out.parent} does not exist")
    x_real, _ = load_digits("train")
    start = time.perf_counter()
    result = train_gan(x_real, config, device=device, progress=not args.quiet)
    seconds = time.perf_counter() - start
    save_gan(out, result, info={"seconds": seconds, "device": str(device), "torch": str(torch.__version__)})
    print(f"wrote {out}: {config.num_steps} steps on {device} in {seconds:.1f} s ({1e3 * seconds / max(config.num_steps, 1):.2f} ms/step)")


def _sample(args: argparse.Namespace) -> None:
    from gaedu.device import get_device
    from gaedu.gan import load_generator, sample

    generator = load_generator(args.checkpoint, device=get_device(args.device))
    images = sample(generator, args.n, seed=args.seed).numpy().astype(np.float32)  # (n, 1, 8, 8) in [0, 1]
    _write_npy(Path(args.out), images)
    print(f"wrote {args.out}: {images.shape[0]} samples of shape {images.shape[1:]}")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m gaedu``."""
    parser = _Parser(prog="python -m gaedu", description="Train and use the book's models.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gan = commands.add_parser("train-gan", help="train the book's digits GAN and save a checkpoint")
    gan.add_argument("--out", required=True, help="checkpoint file to write")
    gan.add_argument("--steps", type=_positive, default=None, help="training steps (default: the book's)")
    gan.add_argument("--seed", type=int, default=0)
    gan.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
    gan.add_argument("--quiet", action="store_true", help="no progress bar")
    gan.set_defaults(run=_train_gan)

    smp = commands.add_parser("sample", help="draw digits from a GAN checkpoint into a .npy file")
    smp.add_argument("--checkpoint", required=True)
    smp.add_argument("--n", type=_positive, required=True, help="number of samples")
    smp.add_argument("--out", required=True, help=".npy file to write: float32, shape (N, 1, 8, 8), in [0, 1]")
    smp.add_argument("--seed", type=int, default=0)
    smp.add_argument("--device", default=None)
    smp.set_defaults(run=_sample)
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
