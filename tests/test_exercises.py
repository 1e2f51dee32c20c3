"""gaedu.exercises: every checker accepts right answers and gives hints, never tracebacks, otherwise."""

import inspect

import numpy as np
import pytest
import torch

import gaedu.exercises as ex
from gaedu.data import load_digits
from gaedu.decoder import masked_similarity
from gaedu.metrics import psnr


def _seeded_draw():
    return torch.rand(5, generator=torch.Generator().manual_seed(ex.SEEDED_DRAW_SEED))


def _mean_three(split="train"):
    X, y = load_digits(split)
    return X[y == 3].mean(dim=0)


def _right_kinds():
    kinds = {}
    for task in ex.TASKS:
        generated = any(word in task for word in ("nobody", "synthetic", "sample a new"))
        kinds[task] = "generation" if generated else "reconstruction"
    return kinds


def _flip_one(kinds):
    task = ex.TASKS[0]
    other = "generation" if kinds[task] == "reconstruction" else "reconstruction"
    return {**kinds, task: other}


def _good_step(objective, theta, lr):
    theta = theta.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(theta), theta)
    return theta.detach() + lr * grad


def _good_d_step(discriminator, x_real, x_fake, lr):
    from gaedu.gan import value

    params = list(discriminator.parameters())
    objective = value(discriminator, x_real, x_fake)
    grads = torch.autograd.grad(objective, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(lr * g)  # ascent by hand; lr < 0 descends


def _good_psnr(x, y):
    return 10 * torch.log10(1 / (x - y).pow(2).flatten(1).mean(1))  # PSNR by hand, peak value 1


def _good_similarity(x_hat, observed, mask):
    return -((x_hat - observed).pow(2) * mask).flatten(1).sum(1) / mask.flatten(1).sum(1)


def _good_pixel_step(classifier, images, targets, lr):
    x = images.clone().requires_grad_(True)
    scores = classifier(x)[torch.arange(len(targets)), targets]  # each image's target logit
    (grad,) = torch.autograd.grad(scores.sum(), x)
    return images + lr * grad


# checker -> (right answers, wrong answers with a hint to expect, wrong-kind answers with a hint)
CASES = {
    "check_seeded_draw": (
        [_seeded_draw(), _seeded_draw().numpy(), _seeded_draw().tolist()],
        [(torch.rand(5, generator=torch.Generator().manual_seed(1)), "set_seed\\(2024\\)")],
        [(None, "None"), (torch.rand(4), "five numbers"), ("abc", "could not read"), (torch.rand, "function")],
    ),
    "check_mean_digit": (
        [_mean_three(), _mean_three().squeeze(), _mean_three().numpy()],
        [
            (_mean_three() * 16, "16 times"),
            (_mean_three("test"), "test split"),
            (load_digits("train")[0].mean(dim=0), "every digit"),
            (torch.zeros(8, 8), "label is 3"),
        ],
        [(None, "None"), (torch.zeros(64), "8×8"), (torch.full((8, 8), float("nan")), "NaN")],
    ),
    "check_task_kinds": (
        [_right_kinds(), {task: kind.upper() for task, kind in _right_kinds().items()}],
        [(_flip_one(_right_kinds()), "5 of 6 are right")],
        [
            (None, "dict"),
            (["generation"] * 6, "dict"),
            ({}, "no label"),
            ({task: "maybe" for task in ex.TASKS}, "'maybe'"),
        ],
    ),
    "check_negated_objective": (
        [lambda t: -ex.bowl_objective(t), lambda t: (t - 2) ** 2 - 1, lambda t: (t - 2) ** 2 + 40],
        [(ex.bowl_objective, "downhill"), (lambda t: (t - 1) ** 2, "slope")],
        [
            (None, "function was expected"),
            (lambda t: 1 / 0, "raised ZeroDivisionError"),
            (lambda t: t.item(), "torch tensor"),
            (lambda t: torch.stack([t, t]), "single number"),
            (lambda t: torch.tensor(1.0), "does not depend"),
        ],
    ),
    "check_supergradient": (
        [0.0, -1, 1, 0.5, torch.tensor(-0.25), np.float32(0.9)],
        [(1.5, "right|left"), (-3, "right|left")],
        [(None, "None"), ([0.1, 0.2], "one number"), (float("inf"), "infinite")],
    ),
    "check_ascent_step": (
        [_good_step, lambda objective, theta, lr: _good_step(objective, theta, lr).numpy()],
        [
            (lambda objective, theta, lr: theta, "did not move"),
            (lambda objective, theta, lr: 2 * theta - _good_step(objective, theta, lr), "downhill"),
            (lambda objective, theta, lr: _good_step(objective, theta, 2 * lr), "lands elsewhere"),
        ],
        [
            (None, "function was expected"),
            (lambda objective, theta, lr: None, "None"),
            (lambda objective, theta, lr: theta[:1], "2 numbers"),
            (lambda objective, theta: theta, "raised TypeError"),
        ],
    ),
    "check_max_stable_lr": (
        [0.5, torch.tensor(0.5), 2 / float(ex.stability_quadratic().eigenvalues.max())],
        [(4.0, "flat direction"), (0.25, "without oscillating"), (0.6, "diverges"), (0.3, "a little above")],
        [(None, "None"), ([0.1, 0.2], "one learning rate"), (float("nan"), "NaN")],
    ),
    "check_supergradient_at_kink": (
        [[0.0, -2.0], [1.0, -2.0], [-1, -2], np.array([0.3, -2.0])],
        [([0.0, 2.0], "coordinate 2"), ([1.5, -2.0], "coordinate 1"), ([0.0, 0.0], "coordinate 2")],
        [(None, "None"), ([1.0], "2 here"), ("g", "could not read")],
    ),
    "check_constant_step_band": (
        [[-0.05, 0.05], [0.05, -0.05], np.array([0.05, -0.05])],
        [([0.0, 0.1], "final bounce"), ([-0.1, 0.1], "final bounce")],
        [(None, "None"), ([0.05], "two points")],
    ),
    "check_simultaneous_radius": (
        [1.01**25, torch.tensor(1.01**25), np.sqrt(1.01) ** 50],
        [(1.0, "does not stay the same"), (1.01**50, "square root"), (2.0, "factor one step")],
        [(None, "None"), ([1.0, 2.0], "one distance")],
    ),
    "check_discriminator_step": (
        [_good_d_step],
        [
            (lambda d, x_real, x_fake, lr: None, "did not change"),
            (lambda d, x_real, x_fake, lr: _good_d_step(d, x_real, x_fake, -lr), "descends"),
            (lambda d, x_real, x_fake, lr: _good_d_step(d, x_real, x_fake, 2 * lr), "not one plain ascent step"),
        ],
        [(None, "function was expected"), (lambda d, x_real: None, "raised TypeError")],
    ),
    "check_missing_classes": (
        [[1, 4, 7], (7, 4, 1), np.array([1, 4, 7])],
        [([1, 4, 7, 9], "often enough"), ([4], "not the right set")],
        [(None, "None"), (3, "list of digits"), (["one"], "list of digits")],
    ),
    "check_psnr_by_hand": (
        [_good_psnr, lambda x, y: _good_psnr(x, y).numpy(), lambda x, y: _good_psnr(x, y).tolist(), psnr],
        [
            (lambda x, y: -_good_psnr(x, y), "wrong sign"),
            (lambda x, y: 2 * _good_psnr(x, y), "times the right ones"),
            (lambda x, y: _good_psnr(x, y) / np.log(10), "times the right ones"),
            (lambda x, y: 10 * torch.log10(1 / (x - y).pow(2).flatten(1).sum(1)), "same"),
            (lambda x, y: 10 * torch.log10(1 / (x - y).abs().flatten(1).mean(1)), "by hand"),
        ],
        [
            (None, "function was expected"),
            (lambda x, y: None, "None"),
            (lambda x, y: _good_psnr(x, y).mean(), "one PSNR per image"),
            (lambda x: x, "raised TypeError"),
        ],
    ),
    "check_masked_similarity": (
        [_good_similarity, masked_similarity, lambda a, b, m: _good_similarity(a, b, m).numpy()],
        [
            (lambda a, b, m: -_good_similarity(a, b, m), "higher must be better"),
            (lambda a, b, m: -(a - b).pow(2).flatten(1).mean(1), "missing pixels"),
            (lambda a, b, m: -((a - b).pow(2) * m).flatten(1).mean(1), "divide"),
            (lambda a, b, m: -((a - b).pow(2) * m).flatten(1).sum(1), "divide"),
            (lambda a, b, m: -((a - b).abs() * m).flatten(1).sum(1) / m.flatten(1).sum(1), "by hand"),
        ],
        [
            (None, "function was expected"),
            (lambda a, b, m: None, "None"),
            (lambda a, b, m: _good_similarity(a, b, m).sum(), "one number per image"),
            (lambda a, b: a, "raised TypeError"),
        ],
    ),
    "check_pixel_ascent_step": (
        [_good_pixel_step, lambda c, x, t, lr: _good_pixel_step(c, x, t, lr).numpy()],
        [
            (lambda c, x, t, lr: x, "did not move"),
            (lambda c, x, t, lr: 2 * x - _good_pixel_step(c, x, t, lr), "downhill"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, t, lr).clamp(0, 1), "do not clamp"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, t, lr / len(t)), "sum the scores"),
            (lambda c, x, t, lr: torch.from_numpy(ex._log_probability_step(c, x, t, lr)), "log-probability"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, (t + 1) % 10, lr), "land elsewhere"),
        ],
        [
            (None, "function was expected"),
            (lambda c, x, t, lr: None, "None"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, t, lr)[:, 0], "shape"),
            (lambda c, x, t: x, "raised TypeError"),
        ],
    ),
    "check_regularization_weight": (
        [0.5, 1.0, torch.tensor(0.8), np.float64(1.4)],
        [(0.3, "more than real digits"), (0.0, "more than real digits"), (2.0, "logistic regression"), (10, "even the")],
        [(None, "None"), (-1.0, ">= 0"), ([0.5, 1.0], "one penalty weight"), (float("nan"), "NaN")],
    ),
}

CHECKERS = sorted(name for name, _ in inspect.getmembers(ex, inspect.isfunction) if name.startswith("check_"))


def test_every_checker_is_tested():
    assert sorted(CASES) == CHECKERS


def _cases(index):
    return [(name, case) for name, cases in CASES.items() for case in cases[index]]


@pytest.mark.parametrize("name, answer", _cases(0))
def test_right_answer_prints_one_confirmation(name, answer, capsys):
    assert getattr(ex, name)(answer) is None
    out = capsys.readouterr().out
    assert out.startswith("✓") and out.count("\n") == 1


@pytest.mark.parametrize("name, case", _cases(1) + _cases(2))
def test_wrong_answer_raises_a_hint(name, case):
    answer, hint = case
    with pytest.raises(AssertionError, match=hint) as info:
        getattr(ex, name)(answer)
    assert isinstance(info.value, ex.ExerciseFeedback)
    assert "\n" not in str(info.value)
    # a chained exception would print a second traceback under the hint
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert info.value._render_traceback_()[0].endswith(str(info.value))


def test_hints_do_not_reveal_the_task_kinds():
    with pytest.raises(AssertionError) as info:
        ex.check_task_kinds(_flip_one(_right_kinds()))
    assert ex.TASKS[0] not in str(info.value)
