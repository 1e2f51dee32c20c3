"""gaedu.optim.GradientAscent: the same steps as torch.optim.SGD(maximize=True), and clear errors."""

import copy
import math

import pytest
import torch
from torch import nn

from gaedu.optim import GradientAscent


def _mlp():
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))


def _conv():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))


def _objective(model, x):
    # something to maximize: minus a smooth loss, so ascent has a finite top
    return -(model(x) ** 2).mean() + model(x).mean()


def _assert_same_steps(ours, opt_ours, theirs, opt_theirs, x, num_steps=100):
    for _ in range(num_steps):
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            _objective(model, x).backward()
            opt.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


SETTINGS = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.01),
    dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.1),
]


def _groups(model, split):
    params = list(model.parameters())
    if not split:
        return params
    # two groups, the second with its own learning rate and momentum
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.01, "momentum": 0.3}]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("make_model, shape", [(_mlp, (32, 5)), (_conv, (16, 1, 8, 8))])
@pytest.mark.parametrize("split", [False, True])
def test_same_steps_as_sgd_maximize(settings, make_model, shape, split):
    if split and settings.get("nesterov"):
        settings = {**settings, "dampening": 0.0}
    torch.manual_seed(0)
    ours = make_model().double()
    theirs = copy.deepcopy(ours)
    x = torch.randn(*shape, dtype=torch.float64)
    opt_ours = GradientAscent(_groups(ours, split), **settings)
    opt_theirs = torch.optim.SGD(_groups(theirs, split), maximize=True, foreach=True, **settings)
    _assert_same_steps(ours, opt_ours, theirs, opt_theirs, x)


def test_matches_sgd_on_float32_too():
    torch.manual_seed(1)
    ours = _mlp()
    theirs = copy.deepcopy(ours)
    x = torch.randn(8, 5)
    opt_ours = GradientAscent(ours.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3, maximize=True)
    _assert_same_steps(ours, opt_ours, theirs, opt_theirs, x)


def test_ascends_a_concave_objective_to_its_maximum():
    theta = torch.zeros(2, requires_grad=True)
    opt = GradientAscent([theta], lr=0.1, momentum=0.5)
    for _ in range(200):
        opt.zero_grad()
        (-(theta - torch.tensor([1.0, -2.0])).pow(2).sum()).backward()
        opt.step()
    torch.testing.assert_close(theta.detach(), torch.tensor([1.0, -2.0]))


def test_one_step_is_theta_plus_lr_grad():
    theta = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = GradientAscent([theta], lr=0.5)
    (theta**2).sum().backward()  # gradient 2θ
    opt.step()
    torch.testing.assert_close(theta.detach(), torch.tensor([2.0, 4.0]))


def test_gradient_is_not_modified_and_params_without_grad_are_skipped():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    opt = GradientAscent([a, b], lr=1.0, weight_decay=0.5, momentum=0.9)
    a.sum().backward()
    grad_before = a.grad.clone()
    opt.step()
    assert torch.equal(a.grad, grad_before)
    assert torch.equal(b.detach(), torch.ones(3)) and "momentum_buffer" not in opt.state[b]


def test_closure_value_is_returned():
    theta = torch.ones(1, requires_grad=True)
    opt = GradientAscent([theta], lr=0.1)

    def closure():
        opt.zero_grad()
        value = -(theta**2).sum()
        value.backward()
        return value

    assert opt.step(closure).item() == -1.0


def test_state_dict_round_trip_continues_identically():
    torch.manual_seed(2)
    model = _mlp()
    x = torch.randn(4, 5)
    opt = GradientAscent(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        _objective(model, x).backward()
        opt.step()
    clone = copy.deepcopy(model)
    opt_clone = GradientAscent(clone.parameters(), lr=0.1, momentum=0.9)
    opt_clone.load_state_dict(copy.deepcopy(opt.state_dict()))  # a live state_dict shares its tensors
    for m, o in ((model, opt), (clone, opt_clone)):
        o.zero_grad()
        _objective(m, x).backward()
        o.step()
    for p, q in zip(model.parameters(), clone.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(lr=-0.1), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(lr=float("inf")), "lr"),
        (dict(lr="0.1"), "lr"),
        (dict(lr=0.1, momentum=-0.1), "momentum"),
        (dict(lr=0.1, momentum=1.0), "momentum"),
        (dict(lr=0.1, momentum=float("nan")), "momentum"),
        (dict(lr=0.1, dampening=1.5), "dampening"),
        (dict(lr=0.1, weight_decay=-1e-3), "weight_decay"),
        (dict(lr=0.1, nesterov=True), "nesterov"),
        (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    ],
)
def test_invalid_hyperparameters_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b") as info:
        GradientAscent([torch.zeros(1, requires_grad=True)], **kwargs)
    assert "\n" not in str(info.value)


def test_invalid_group_hyperparameters_are_caught_too():
    opt = GradientAscent([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "momentum": 2.0})


def test_sparse_gradients_are_refused():
    emb = nn.Embedding(5, 2, sparse=True)
    opt = GradientAscent(emb.parameters(), lr=0.1)
    emb(torch.tensor([1])).sum().backward()
    with pytest.raises(ValueError, match="sparse"):
        opt.step()


def test_zero_lr_is_allowed_and_does_nothing():
    theta = torch.ones(2, requires_grad=True)
    opt = GradientAscent([theta], lr=0.0)
    theta.sum().backward()
    opt.step()
    assert torch.equal(theta.detach(), torch.ones(2)) and math.isclose(opt.param_groups[0]["lr"], 0.0)
