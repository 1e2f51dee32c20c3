"""gaedu.optim.GradientAscent: the same steps as torch.optim.SGD(maximize=True), and clear errors."""

import copy

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
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
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
    for p, q in zip(model.parameters(), clone.parameters(), strict=True):
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


def test_a_rejected_group_is_not_added():
    theta, extra = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = GradientAscent([theta], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        opt.add_param_group({"params": [extra], "momentum": 2.0})
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["params"] == [theta]
    opt.add_param_group({"params": [extra], "momentum": 0.5})  # the same parameter is still free to add
    assert len(opt.param_groups) == 2


def test_positional_arguments_follow_sgd():
    """GradientAscent(ps, 0.1, 0.9, 0, 1e-4) is SGD(ps, 0.1, 0.9, 0, 1e-4, maximize=True): weight decay, no Nesterov."""
    torch.manual_seed(3)
    ours = _mlp().double()
    theirs = copy.deepcopy(ours)
    x = torch.randn(8, 5, dtype=torch.float64)
    opt_ours = GradientAscent(ours.parameters(), 0.1, 0.9, 0, 1e-4)
    opt_theirs = torch.optim.SGD(theirs.parameters(), 0.1, 0.9, 0, 1e-4, maximize=True)
    assert opt_ours.param_groups[0]["nesterov"] is False and opt_ours.param_groups[0]["weight_decay"] == 1e-4
    _assert_same_steps(ours, opt_ours, theirs, opt_theirs, x, num_steps=20)


def _steps(model, opt, x, num_steps):
    for _ in range(num_steps):
        opt.zero_grad()
        _objective(model, x).backward()
        opt.step()


@pytest.mark.parametrize("settings", [dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
                                      dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.1)])
@pytest.mark.parametrize("direction", ["ours to SGD", "SGD to ours"])
def test_state_dicts_move_between_sgd_and_gradient_ascent(settings, direction):
    """Train 10 steps with one optimizer, load its state into the other, train 10 more: the same as 20 steps."""
    torch.manual_seed(2)
    reference = _mlp().double()
    x = torch.randn(16, 5, dtype=torch.float64)
    moved = copy.deepcopy(reference)
    make_sgd = lambda m: torch.optim.SGD(m.parameters(), maximize=True, **settings)  # noqa: E731
    make_ours = lambda m: GradientAscent(m.parameters(), **settings)  # noqa: E731
    first, second = (make_ours, make_sgd) if direction == "ours to SGD" else (make_sgd, make_ours)
    opt_reference = first(reference)
    _steps(reference, opt_reference, x, 20)
    opt_first = first(moved)
    _steps(moved, opt_first, x, 10)
    opt_second = second(moved)
    opt_second.load_state_dict(opt_first.state_dict())
    _steps(moved, opt_second, x, 10)
    for p, q in zip(moved.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-10)


def test_the_momentum_buffer_has_sgds_sign():
    """SGD keeps the descent direction in its buffer: after one ascent step on gradient g it holds −g."""
    theta = torch.zeros(2, requires_grad=True)
    opt = GradientAscent([theta], lr=0.1, momentum=0.9)
    theta.grad = torch.tensor([1.0, -2.0])
    opt.step()
    assert torch.equal(opt.state[theta]["momentum_buffer"], torch.tensor([-1.0, 2.0]))
    assert torch.equal(theta.detach(), torch.tensor([0.1, -0.2]))


def test_a_descending_group_is_refused():
    opt = GradientAscent([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="maximize must be True"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "maximize": False})


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
    assert torch.equal(theta.detach(), torch.ones(2))


def test_update_ema_warms_up_then_forgets_at_the_target_rate():
    from torch import nn

    from gaedu.optim import update_ema

    model, average = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
        average.weight.fill_(0.0)
    update_ema(average, model, target=0.999, step=0)  # decay min(0.999, 1/10): mostly the new weights
    assert average.weight.item() == pytest.approx(0.9)
    update_ema(average, model, target=0.5, step=10_000)  # decay 0.5 once warmed up
    assert average.weight.item() == pytest.approx(0.95)
    assert not average.weight.requires_grad or average.weight.grad is None
