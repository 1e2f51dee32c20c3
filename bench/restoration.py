"""Restore the four test photographs with every method and every scikit-image baseline, in one run.

Usage: .venv/bin/python -m bench.restoration [--photos camera,astronaut,...] [--dip] [--tune] [--red-only]

For each photograph (128×128, grayscale) and task (denoising σ = 0.1; inpainting with
half the pixels missing; deblurring, Gaussian σ = 1.5 px, noise 0.01; super-resolution ×2 from
2×2 block means, noise 0.01) it prints PSNR,
SSIM and seconds of: the learned prior (the book's default), RED (the same denoiser climbed as a
gradient), TV-MAP by accelerated
ascent (weight by SURE or the discrepancy principle), scikit-image's TV with the same
weight and with the oracle weight, non-local means, wavelet denoising, biharmonic
inpainting, Richardson–Lucy, unsupervised Wiener and bicubic interpolation. ``--dip`` adds Deep Image Prior
(regularised, discrepancy stop; about a minute per restoration). ``--tune`` first
re-chooses the baselines' settings (non-local means' h, Richardson–Lucy's iterations)
and prints the learned prior's schedules on the *training* photographs, and chooses RED's σ and
number of steps there (``--red-only``: only that), and the learned prior's super-resolution schedule.

Targets (no look at the clean image, each restoration within 60 s): denoising at least
non-local means, within 0.5 dB of BM3D's level if possible; inpainting at least
biharmonic by 0.5 dB; deblurring 2 dB above the blurred input and above scikit-image's best;
super-resolution 1 dB above bicubic interpolation; RED at least TV-MAP in denoising and deblurring.
The learned prior is loaded from the model cache (trained there on first use).
"""

from __future__ import annotations

import numpy as np

from bench._common import preamble
from gaedu import restoration as R
from gaedu.data import load_photo
from gaedu.metrics import psnr, ssim
from gaedu.restoration import TASKS, classical, degrade
from gaedu.restoration.denoiser import TEST_PHOTOS, TRAIN_PHOTOS, load_denoiser

LIBRARY_BEST = {
    "denoise": ("nl-means",),
    "inpaint": ("biharmonic",),
    "deblur": ("richardson-lucy", "wiener"),
    "super-resolution": ("bicubic",),
}


def _arguments(parser) -> None:
    parser.add_argument("--photos", default=",".join(TEST_PHOTOS))
    parser.add_argument("--dip", action="store_true", help="add Deep Image Prior (slow)")
    parser.add_argument("--tune", action="store_true", help="re-choose the baselines' settings on training photographs")
    parser.add_argument("--red-only", action="store_true", help="only choose RED's settings on training photographs")


def quality(image, clean):
    a, b = image.double().clamp(0, 1)[None, None], clean.double()[None, None]
    return psnr(a, b).item(), ssim(a, b).item()


def tune() -> None:
    """Choose non-local means' h and Richardson–Lucy's iterations on the training photographs."""
    names = TRAIN_PHOTOS[:6]
    cleans = [load_photo(n).double() for n in names]
    scores = R.tuning_scores(cleans)
    best_h = max(scores["nl-means"], key=scores["nl-means"].get)
    best_n = max(scores["richardson-lucy"], key=scores["richardson-lucy"].get)
    print(
        "non-local means h/σ on",
        ", ".join(names),
        {k: round(v, 2) for k, v in scores["nl-means"].items()},
        "->",
        best_h,
    )
    print("Richardson–Lucy iterations", {k: round(v, 2) for k, v in scores["richardson-lucy"].items()}, "->", best_n)
    classical.NLM_H, classical.RL_ITERATIONS = best_h, best_n  # the module's settings, which baseline() reads
    print("learned prior schedules:", R.PRIOR_SCHEDULES)
    tune_super_resolution(names, cleans)
    tune_red(names, cleans)


def tune_super_resolution(names, cleans) -> None:
    """Choose the learned prior's super-resolution schedule on the training photographs (mean PSNR)."""
    model = load_denoiser(progress=True)
    problems = [degrade(c, "super-resolution") for c in cleans]
    grid = [(n, 0.1, 0.23) for n in (8, 16, 32, 64)] + [(32, s, c) for s in (0.05, 0.2) for c in (0.1, 0.23, 0.5)]
    scores = {}
    for n, s_max, coupling in grid:
        runs = [
            R.learned_prior(p, model, iterations=n, sigma_max=s_max, sigma_min=0.01, coupling=coupling)
            for p in problems
        ]
        scores[n, s_max, coupling] = float(np.mean([quality(r.image, c)[0] for r, c in zip(runs, cleans, strict=True)]))
    table = ", ".join(f"{k[0]} it., σ_max {k[1]:g}, coupling {k[2]:g}: {v:.2f}" for k, v in scores.items())
    print(f"learned prior, super-resolution on {', '.join(names)}: {table} -> {max(scores, key=scores.get)}")


#: The settings RED's tuning tries: the prior's noise level σ, and the number of steps.
RED_SIGMAS, RED_STEPS = (0.01, 0.02, 0.03, 0.04, 0.05, 0.1), (5, 8, 10, 15, 25, 50, 100)


def tune_red(names, cleans) -> None:
    """Choose RED's σ and number of steps per task on the training photographs (mean PSNR; steps recorded on the way)."""
    model = load_denoiser(progress=True)
    for task in TASKS:
        problems = [degrade(c, task) for c in cleans]
        scores = {}
        for sigma in RED_SIGMAS:
            runs = [R.red(p, model, sigma=sigma, num_steps=max(RED_STEPS), clean=c) for p, c in zip(problems, cleans, strict=True)]
            for n in RED_STEPS:
                scores[sigma, n] = float(np.mean([r.psnrs[n - 1] for r in runs]))
        best = max(scores, key=scores.get)
        table = ", ".join(f"σ {k[0]:g}/{k[1]}: {v:.2f}" for k, v in scores.items())
        print(f"RED {task} on {', '.join(names)}: {table} -> sigma {best[0]:g}, {best[1]} steps")


def main() -> None:
    args, device = preamble(__doc__, what="restoration", device_option=False, add_arguments=_arguments)
    if args.red_only:
        names = TRAIN_PHOTOS[:6]
        tune_red(names, [load_photo(n).double() for n in names])
        return
    if args.tune:
        tune()
    model = load_denoiser(progress=True)
    summary = {task: [] for task in TASKS}
    print(f"{'photo':10} {'task':16} {'method':28} {'PSNR':>6} {'SSIM':>6} {'s':>6}")
    for name in args.photos.split(","):
        clean = load_photo(name).double()
        for task in TASKS:
            problem = degrade(clean, task)
            rows = {"(observed)": (problem.start(), 0.0)}  # for super-resolution, each value copied over its block
            for label, r in (("learned prior", R.learned_prior(problem, model)), ("RED", R.red(problem, model)),
                             ("TV-MAP ascent", R.tv_restore(problem))):  # fmt: skip
                rows[label] = (r.image, r.seconds)
            if task == "denoise":
                w = R.tv_restore(problem).info["weight"]
                r = R.baseline(problem, "tv-chambolle", weight=w)
                rows["skimage TV (same weight)"] = (r.image, r.seconds)
                oracle = max(R.TV_WEIGHTS["denoise"], key=lambda v: quality(R.baseline(problem, "tv-chambolle", weight=v).image, clean)[0])
                rows["skimage TV (oracle weight)"] = (R.baseline(problem, "tv-chambolle", weight=oracle).image, 0.0)
            for b in R.BASELINES[task]:
                if b != "tv-chambolle":
                    r = R.baseline(problem, b)
                    rows[f"skimage {b}"] = (r.image, r.seconds)
            if args.dip:
                from gaedu.restoration.dip import deep_image_prior

                r = deep_image_prior(problem, num_steps=2000 if task != "inpaint" else 1500, seed=0, device=device)
                rows["Deep Image Prior"] = (r.image, r.seconds)
            results = {label: (*quality(image, clean), s) for label, (image, s) in rows.items()}
            for label, (p, q, s) in results.items():
                print(f"{name:10} {task:16} {label:28} {p:6.2f} {q:6.3f} {s:6.2f}")
            best_lib = max(results[f"skimage {b}"][0] for b in LIBRARY_BEST[task])
            summary[task].append((name, results["learned prior"][0], best_lib, results["(observed)"][0],
                                  results["RED"][0], results["TV-MAP ascent"][0]))  # fmt: skip
    print("\nlearned prior against the library's best (dB):")
    for task, rows in summary.items():
        for name, ours, lib, observed, _, _ in rows:
            extra = f", {ours - observed:+.2f} over the blurred input" if task == "deblur" else ""
            verdict = "beats" if ours > lib else "loses to"
            print(f"  {task:16} {name:10} {ours:6.2f} vs {lib:6.2f}: {verdict} it by {abs(ours - lib):.2f}{extra}")
    print("\nRED against TV-MAP (dB):")
    for task in ("denoise", "deblur"):
        print(f"  {task:16}", ", ".join(f"{name} {red - tv:+.2f}" for name, *_, red, tv in summary[task]))


if __name__ == "__main__":
    main()
