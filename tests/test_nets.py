"""gaedu.nets: the MLP's layers and shapes, seeded construction, device_of and frozen."""

import pytest
import torch
from torch import nn

from gaedu.nets import device_of, frozen, mlp, seeded


def _weights(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_mlp_has_depth_hidden_layers_and_maps_inputs_to_outputs(depth):
    net = mlp(5, 7, depth, 3)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    expected = [(5, 3)] if depth == 0 else [(5, 7)] + [(7, 7)] * (depth - 1) + [(7, 3)]
    assert [(m.in_features, m.out_features) for m in linears] == expected
    activations = [m for m in net if isinstance(m, nn.LeakyReLU)]
    assert len(activations) == depth and all(a.negative_slope == 0.2 for a in activations)
    assert isinstance(net[-1], nn.Linear)  # the output is linear, no activation after it
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    assert net(x).shape == (4, 3)


def test_mlp_computes_linear_leaky_relu_linear():
    net = mlp(3, 4, 1, 2)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(1))
    first, last = net[0], net[2]
    h = x @ first.weight.T + first.bias
    expected = torch.where(h > 0, h, 0.2 * h) @ last.weight.T + last.bias
    assert torch.allclose(net(x), expected, atol=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 8, 1, 2), r"^inputs must be an integer >= 1, got 0$"),
        ((3, 8, 1, 0), r"^outputs must be an integer >= 1, got 0$"),
        ((3, 0, 1, 2), r"^hidden must be an integer >= 1, got 0$"),
        ((3, 8, -1, 2), r"^depth must be an integer >= 0, got -1$"),
        ((3.0, 8, 1, 2), r"^inputs must be an integer, got float 3.0$"),
        ((3, 8, True, 2), r"^depth must be an integer, got bool True$"),
        ((3, "8", 1, 2), r"^hidden must be an integer, got str '8'$"),
    ],
)
def test_mlp_refuses_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        mlp(*args)


def test_seeded_weights_depend_on_the_seed_alone_and_leave_the_global_state_alone():
    def factory():
        return mlp(4, 6, 2, 3)

    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = seeded(factory, 7)
    assert torch.equal(torch.get_rng_state(), before)  # the global random state is untouched
    torch.manual_seed(999)
    torch.rand(17)  # whatever ran before
    b = seeded(factory, 7)
    c = seeded(factory, 8)
    for p, q in zip(_weights(a), _weights(b), strict=True):
        assert torch.equal(p, q)
    assert not all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(c), strict=True))
    torch.manual_seed(7)
    reference = factory()  # what torch.manual_seed(7) gives
    for p, q in zip(_weights(a), _weights(reference), strict=True):
        assert torch.equal(p, q)


def test_seeded_restores_the_global_state_when_the_factory_raises():
    torch.manual_seed(5)
    before = torch.get_rng_state()

    def factory():
        torch.rand(3)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        seeded(factory, 1)
    assert torch.equal(torch.get_rng_state(), before)


def test_seeded_returns_what_the_factory_returns():
    pair = seeded(lambda: (nn.Linear(2, 2), nn.Linear(3, 1)), 0)
    assert isinstance(pair, tuple) and [m.in_features for m in pair] == [2, 3]


def test_device_of():
    assert device_of(nn.Linear(2, 3)) == torch.device("cpu")
    assert device_of(nn.ReLU()) == torch.device("cpu")  # no parameters: the CPU
    assert device_of(nn.Sequential()) == torch.device("cpu")
    if torch.cuda.is_available():
        assert device_of(nn.Linear(2, 3).to("cuda")).type == "cuda"
        assert device_of(nn.Sequential(nn.ReLU(), nn.Linear(2, 2).to("cuda"))).type == "cuda"
    meta = nn.Linear(2, 3, device="meta")  # a device other than the CPU, on every machine
    assert device_of(meta) == torch.device("meta")


def _net_with_one_fixed_layer():
    net = seeded(lambda: mlp(3, 4, 1, 2), 0)
    net[0].bias.requires_grad_(False)  # this one was already off, and must stay off
    return net


def _flags(net):
    return [p.requires_grad for p in net.parameters()]


def test_frozen_turns_gradients_off_inside_and_restores_each_flag():
    net = _net_with_one_fixed_layer()
    flags = _flags(net)
    assert flags == [True, False, True, True]
    with frozen(net) as inside:
        assert inside is net
        assert _flags(net) == [False] * 4
    assert _flags(net) == flags


def test_frozen_restores_the_flags_when_the_block_raises():
    net = _net_with_one_fixed_layer()
    with pytest.raises(KeyError):
        with frozen(net):
            raise KeyError("inside")
    assert _flags(net) == [True, False, True, True]


def test_frozen_lets_gradients_flow_to_the_input_and_not_to_the_weights():
    net = seeded(lambda: mlp(3, 4, 1, 2), 0)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(2), requires_grad=True)
    with frozen(net):
        net(x).sum().backward()
    assert all(p.grad is None for p in net.parameters())
    # the reference: the same gradient computed by autograd with the weights as constants
    x_ref = x.detach().clone().requires_grad_(True)
    w0, b0, w1, b1 = (p.detach() for p in net.parameters())
    h = x_ref @ w0.T + b0
    (torch.where(h > 0, h, 0.2 * h) @ w1.T + b1).sum().backward()
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-6)
    net(x).sum().backward()  # after the block the weights learn again
    assert all(p.grad is not None for p in net.parameters())
