"""gaedu.exercises: every checker accepts right answers and gives hints, never tracebacks, otherwise."""

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import gaedu.exercises as ex
from gaedu.data import load_digits
from gaedu.decoder import masked_similarity, reconstruction_error
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


def _drifting_loss():
    """A loss that is -J on its first call only, then J: the first step agrees, later ones do not."""
    calls = []

    def loss(model, x, y):
        calls.append(1)
        sign = -1.0 if len(calls) <= 2 else 1.0  # the checker calls it twice before the steps diverge
        return sign * ex.faq_log_likelihood(model, x, y)

    return loss


def _weighted_average(gradients, sizes):
    return sum(n * g for n, g in zip(sizes, gradients)) / sum(sizes)  # each share counts by its samples


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
    "check_descent_loss": (
        [
            lambda model, x, y: -ex.faq_log_likelihood(model, x, y),
            lambda model, x, y: torch.nn.functional.cross_entropy(model(x), y),
            lambda model, x, y: 3.0 - ex.faq_log_likelihood(model, x, y),
        ],
        [
            (ex.faq_log_likelihood, "downhill"),
            (lambda model, x, y: torch.nn.functional.cross_entropy(model(x), y, reduction="sum"), "32 times"),
            (lambda model, x, y: -0.5 * ex.faq_log_likelihood(model, x, y), "0.5 times"),
            (lambda model, x, y: torch.nn.functional.nll_loss(model(x), y), "not parallel"),
            (_drifting_loss(), "later ones drift"),
        ],
        [
            (None, "function was expected"),
            (lambda model, x, y: 1 / 0, "raised ZeroDivisionError"),
            (lambda model, x, y: -ex.faq_log_likelihood(model, x, y).item(), "torch tensor"),
            (lambda model, x, y: torch.nn.functional.cross_entropy(model(x), y, reduction="none"), "single number"),
            (lambda model, x, y: torch.tensor(1.0), "does not depend"),
        ],
    ),
    "check_gradient_average": (
        [_weighted_average, lambda g, s: (_weighted_average(g, s)).numpy(), lambda g, s: _weighted_average(g, s).tolist()],
        [
            (lambda g, s: sum(g) / len(g), "plain average"),
            (lambda g, s: sum(g), "all-reduced sum"),
            (lambda g, s: g[0], "one process"),
            (lambda g, s: 3 * _weighted_average(g, s), "not the gradient of the whole batch"),
        ],
        [
            (None, "function was expected"),
            (lambda g, s: None, "None"),
            (lambda g, s: 1 / 0, "raised ZeroDivisionError"),
            (lambda g, s: torch.cat(g), "numbers"),
        ],
    ),
    "check_scaled_lr": (
        [lambda lr, base, per, n: lr * per * n / base, lambda lr, base, per, n: torch.tensor(lr * n * per / base)],
        [
            (lambda lr, base, per, n: lr * n, "each keeps the base batch"),
            (lambda lr, base, per, n: lr * (per * n / base) ** 0.5, "square-root rule"),
            (lambda lr, base, per, n: lr * base / (per * n), "not lowers"),
            (lambda lr, base, per, n: lr, "compare the batch"),
        ],
        [
            (None, "function was expected"),
            (lambda lr, base, per, n: None, "None"),
            (lambda lr, base, per, n: [lr, lr], "one learning rate"),
        ],
    ),
    "check_multistart_starts": (
        [21, 21.0, np.int64(21), torch.tensor(21)],
        [(20, "just below"), (3, "chance that it succeeds"), (10, "only"), (30, "fewer")],
        [(None, "None"), (20.5, "whole number"), ([21, 22], "one number"), (0, "at least one")],
    ),
    "check_basin_share": (
        [ex._basin_shares()[2], torch.tensor(ex._basin_shares()[2]), np.float64(ex._basin_shares()[2])],
        [
            (ex._basin_shares()[0], "global maximum"),
            (ex._basin_shares()[1], "middle hill"),
            (round(ex._basin_shares()[2] * ex.BASIN_GRID**2), "number of starts"),
            (ex._basin_shares()[2] * 100, "percentage"),
            (0.5, "not the lowest"),
        ],
        [(None, "None"), ([0.1, 0.2], "one share"), (-0.1, "between 0 and 1"), (float("nan"), "NaN")],
    ),
    "check_d_objective": (
        [
            lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(-f).mean(),
            lambda r, f: (-F.softplus(-r).mean() - F.softplus(f).mean()).item(),
            lambda r, f: np.float64(F.logsigmoid(r.double()).mean() + F.logsigmoid(-f.double()).mean()),
        ],
        [
            (lambda r, f: torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean(), "NaN or infinite"),
            (lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean(), "NaN or infinite"),
            (lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()), "minus V"),
            (lambda r, f: F.logsigmoid(-r).mean() + F.logsigmoid(f).mean(), "swapped"),
            (lambda r, f: F.logsigmoid(r).sum() + F.logsigmoid(-f).sum(), "summing"),
            (lambda r, f: torch.cat([F.logsigmoid(r), F.logsigmoid(-f)]).mean(), "then add"),
            (lambda r, f: torch.log(torch.sigmoid(r).clamp(1e-7, 1 - 1e-7)).mean()
             + torch.log((1 - torch.sigmoid(f)).clamp(1e-7, 1)).mean(), "extreme ones"),
            (lambda r, f: r.mean() - f.mean(), "by hand"),
        ],
        [
            (None, "function was expected"),
            (lambda r, f: None, "None"),
            (lambda r, f: F.logsigmoid(r) + 0 * f.sum(), "one number"),
            (lambda r, f: "V", "could not read"),
            (lambda r: r, "raised TypeError"),
        ],
    ),
    "check_ae_loss": (
        [
            lambda model, x: (model(x) - x).pow(2).mean(),
            lambda model, x: F.mse_loss(model(x), x),
            lambda model, x: reconstruction_error(model.decoder(model.encoder(x)), x, "l2"),
        ],
        [
            (lambda model, x: (model(x) - model(x).detach()).pow(2).mean(), "zero"),
            (lambda model, x: (model(x) - x).abs().mean(), "L1"),
            (lambda model, x: (model(x) - x).pow(2).mean().sqrt(), "square root"),
            (lambda model, x: (model(x) - x).pow(2).sum(), "do not sum"),
            (lambda model, x: (model(x) - x).pow(2).flatten(1).sum(1).mean(), "do not sum"),
            (lambda model, x: (model(x) - x.mean()).pow(2).mean(), "compared with"),
            (lambda model, x: (model.decoder(model.encoder(x)) - model.encoder(x)).pow(2).mean(), "raised RuntimeError"),
        ],
        [
            (None, "function was expected"),
            (lambda model, x: None, "None"),
            (lambda model, x: (model(x) - x).pow(2).mean().item(), "not a float"),
            (lambda model, x: (model(x) - x).pow(2).mean().detach(), "no gradient"),
            (lambda model, x: (model(x) - x).pow(2).flatten(1).mean(1), "one number"),
        ],
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
