"""The command line's parser: every command, its options and their bounds (``python -m gaedu --help``).

Each command's function comes from :mod:`gaedu.__main__` (``commands``); the bounds and the
argument types come from :mod:`gaedu._cli`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from gaedu._cli import (
    MAX_BLUR_STD,
    MAX_FACTOR,
    MAX_GUIDANCE,
    MAX_JOBS,
    MAX_LATENT,
    MAX_NOISE_STD,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_STEPS,
    _bounded,
    _positive,
    _scale,
    _seed,
)

#: --dataset: the digits' side in pixels.
DATASETS = {"digits8": 8, "mnist28": 28}


#: --sampler: the score model's samplers, by the names the command line uses.
SAMPLERS = {"langevin": "langevin", "ancestral": "diffusion", "ddim": "ddim"}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump), with exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_training_options(command: argparse.ArgumentParser) -> None:
    """Add the options both trainers take: --dataset, --steps, --seed, --device, --quiet."""
    command.add_argument("--dataset", choices=tuple(DATASETS), default="digits8",
                         help="digits8: the 8×8 digits (default); mnist28: the 28×28 MNIST digits")  # fmt: skip
    command.add_argument("--steps", type=_positive, default=None,
                         help=f"training steps, at most {MAX_STEPS:,} (default: the book's)")  # fmt: skip
    command.add_argument("--seed", type=_seed, default=0, help=f"from 0 to {MAX_SEED:,}")
    command.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser(commands: dict[str, Callable[[argparse.Namespace], None]]) -> argparse.ArgumentParser:
    """Return the parser of ``python -m gaedu``."""
    parser = _Parser(prog="python -m gaedu", description="Train and use the book's models.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gan = subparsers.add_parser("train-gan", help="train the book's digits GAN (8×8 MLP or 28×28 DCGAN) and save a checkpoint")
    gan.add_argument("--out", required=True, help="checkpoint file to write")
    _add_training_options(gan)
    gan.set_defaults(run=commands["train-gan"])

    score = subparsers.add_parser("train-score", help="train the book's score model of the 8×8 digits and save a checkpoint")
    score.add_argument("--out", required=True, help="checkpoint file to write")
    score.add_argument("--steps", type=_positive, default=None,
                       help=f"training steps, at most {MAX_STEPS:,} (default: the book's)")  # fmt: skip
    score.add_argument("--classifier-steps", type=_bounded(0, MAX_STEPS, "an integer"), default=None,
                       help="training steps of the noise-conditional classifier that sample --label climbs "
                            "(default: the book's 3,000; 0: no classifier)")  # fmt: skip
    score.add_argument("--seed", type=_seed, default=0, help=f"from 0 to {MAX_SEED:,}")
    score.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(run=commands["train-score"])

    smp = subparsers.add_parser("sample", help="draw digits from a GAN or score-model checkpoint into a .npy file")
    smp.add_argument("--checkpoint", required=True)
    smp.add_argument("--n", type=_bounded(1, MAX_SAMPLES, "a positive integer"), required=True,
                     help=f"number of samples, at most {MAX_SAMPLES:,}")  # fmt: skip
    smp.add_argument("--out", required=True, help=".npy file to write: float32, shape (N, 1, 8, 8) or (N, 1, 28, 28), in [0, 1]")
    smp.add_argument("--seed", type=_seed, default=0, help=f"from 0 to {MAX_SEED:,}")
    smp.add_argument("--device", default=None)
    smp.add_argument("--quiet", action="store_true", help="no progress bar (a score model's sampling shows one)")
    smp.add_argument("--label", type=_bounded(0, 9, "a digit"), default=None,
                     help="score checkpoints: draw this digit, by classifier guidance")  # fmt: skip
    smp.add_argument("--guidance-scale", type=_scale, default=None,
                     help=f"with --label: the guidance scale w, from 0 (ignore the label) to {MAX_GUIDANCE:g}; 1 is the exact "
                          "conditional when both models are exact; default 2, which the book's models need to draw the class")  # fmt: skip
    smp.add_argument("--sampler", choices=tuple(SAMPLERS), default=None,
                     help="score checkpoints: annealed Langevin (the default), ancestral diffusion, or deterministic DDIM")  # fmt: skip
    smp.add_argument("--num-steps", type=_bounded(2, MAX_STEPS, "an integer"), default=None,
                     help="score checkpoints: noise levels (one network evaluation each; Langevin: 100 steps each); "
                          "default 10 for langevin, 1000 for ancestral, 50 for ddim")  # fmt: skip
    smp.set_defaults(run=commands["sample"])

    ae = subparsers.add_parser("train-ae", help="train a digits autoencoder and save a checkpoint")
    ae.add_argument("--latent-dim", type=_bounded(1, MAX_LATENT, "a positive integer"), required=True,
                    help=f"length K of the code, at most {MAX_LATENT}")  # fmt: skip
    ae.add_argument("--out", required=True, help="checkpoint file to write")
    ae.add_argument("--loss", choices=("l1", "l2"), default="l2", help="reconstruction error (default: l2)")
    _add_training_options(ae)
    ae.set_defaults(run=commands["train-ae"])

    rec = subparsers.add_parser("reconstruct", help="reconstruct digits from a .npy file with an autoencoder checkpoint")
    rec.add_argument("--checkpoint", required=True)
    rec.add_argument("--input", required=True, help=".npy file: float32, shape (N, 1, 8, 8) or (N, 1, 28, 28) as the model reads, in [0, 1]")
    rec.add_argument("--out", required=True, help=".npy file to write, same shape and range")
    rec.add_argument("--device", default=None)
    rec.set_defaults(run=commands["reconstruct"])

    from gaedu.restoration import METHODS, TASKS  # only here: --help need not load the restoration package

    res = subparsers.add_parser(
        "restore", help="restore a grayscale photograph: denoise, inpaint, deblur or super-resolve"
    )
    res.add_argument("--task", required=True, choices=TASKS)
    res.add_argument("--input", required=True,
                     help="2-D grayscale .png (8 or 16 bit) or .npy float array in [0, 1], at most 2048×2048 pixels")  # fmt: skip
    res.add_argument("--out", required=True, help=".png (16 bit) or .npy (float32) to write, values in [0, 1]")
    res.add_argument("--noise-std", type=float, default=None,
                     help=f"the noise's standard deviation σ (pixels in [0, 1]), at most {MAX_NOISE_STD:g}")  # fmt: skip
    res.add_argument("--blur-std", type=float, default=None,
                     help=f"deblur: the Gaussian blur's standard deviation in pixels, at most {MAX_BLUR_STD:g}")  # fmt: skip
    res.add_argument("--factor", type=_bounded(2, MAX_FACTOR, "an integer"), default=None,
                     help=f"super-resolution: the input is the mean of each F×F block; the output is F times larger (2 to {MAX_FACTOR})")  # fmt: skip
    res.add_argument(
        "--mask", default=None, help="inpaint: .npy bool or .png, nonzero = observed, same shape as the input"
    )
    res.add_argument(
        "--method",
        choices=METHODS,
        default="prior",
        help="prior (default: the learned prior), tv, dip, or red (the same denoiser climbed as a gradient)",
    )
    res.add_argument("--seed", type=_seed, default=0, help="the seed of --method dip")
    res.add_argument("--device", default=None, help="cpu (restore runs on the CPU; GAEDU_DEVICE is honoured)")
    res.add_argument("--quiet", action="store_true", help="no progress bar")
    res.set_defaults(run=commands["restore"])

    cache = subparsers.add_parser("cache", help="train and cache the models the book loads (minutes, once per machine)")
    cache.add_argument("--quiet", action="store_true", help="no progress bars")
    cache.add_argument("--jobs", type=_bounded(1, MAX_JOBS, "a positive integer"), default=1,
                       help="train on this many worker processes of one thread each, longest first (default 1)")
    cache.add_argument("--plan", action="store_true", help="print what is missing and its expected time; train nothing")
    cache.add_argument("--check", action="store_true", help="as --plan, and fail (status 2) if anything is missing")
    cache.set_defaults(run=commands["cache"])
    return parser
