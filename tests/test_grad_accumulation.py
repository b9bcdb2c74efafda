"""Gradients that meet an existing .grad, side by side with PyTorch. A matrix product's gradient for
a leaf is added onto its .grad by the GEMM itself (AccumulateGrad::accumulate_in_place) where
nothing could tell the difference; each case here is one where something could, or the plain one."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close

LIBS = pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])


def values(*shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def leaves(lib, dtype, *shapes):
    kind = getattr(lib, dtype)
    return [lib.tensor(values(*shape, seed=i), dtype=kind, requires_grad=True) for i, shape in enumerate(shapes)]


def micro_batches(lib, dtype, step):
    """Three micro-batches through a linear layer, x @ w (both leaves) and w @ x, accumulated."""
    weight, bias, w, a = leaves(lib, dtype, (5, 7), (5,), (7, 3), (4, 7))
    for batch in range(3):
        x = lib.tensor(values(6, 7, seed=10 + batch), dtype=getattr(lib, dtype))
        out = step(lib, x, weight, bias, w, a)
        out.backward(lib.ones_like(out))
    return [weight.grad, bias.grad, w.grad, a.grad]


def forward(lib, x, weight, bias, w, a):
    return (lib.nn.functional.linear(x, weight, bias).sum() + (x @ w).square().sum()
            + (a @ x.t()).tanh().sum() + (a @ w).sum())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_accumulated_gradients_equal_torch(dtype):
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    for ours, theirs in zip(micro_batches(tg, dtype, forward), micro_batches(torch, dtype, forward)):
        assert_close(ours, theirs, tolerance, tolerance)


@LIBS
def test_a_held_grad_is_updated_in_place_and_its_version_moves(lib):
    weight = lib.ones(3, 2, requires_grad=True)
    x = lib.ones(4, 2)
    lib.nn.functional.linear(x, weight).sum().backward()
    held = weight.grad
    version = held._version
    lib.nn.functional.linear(x, weight).sum().backward()
    assert held.tolist() == [[8.0, 8.0]] * 3 and weight.grad.tolist() == held.tolist()
    assert held.data_ptr() == weight.grad.data_ptr() and held._version > version


@LIBS
def test_post_accumulate_hook_sees_the_whole_gradient_once(lib):
    weight = lib.ones(3, 2, requires_grad=True)
    x = lib.ones(4, 2)
    lib.nn.functional.linear(x, weight).sum().backward()
    seen = []
    weight.register_post_accumulate_grad_hook(lambda leaf: seen.append(leaf.grad.sum().item()))
    lib.nn.functional.linear(x, weight).sum().backward()
    assert seen == [48.0]


@LIBS
def test_a_leaf_hook_sees_the_incoming_gradient_not_the_sum(lib):
    weight = lib.ones(3, 2, requires_grad=True)
    x = lib.ones(4, 2)
    lib.nn.functional.linear(x, weight).sum().backward()
    seen = []
    weight.register_hook(lambda grad: seen.append(grad.sum().item()))
    lib.nn.functional.linear(x, weight).sum().backward()
    assert seen == [24.0] and weight.grad.sum().item() == 48.0


@LIBS
def test_a_weight_used_twice_gets_both_gradients(lib):
    weight = lib.ones(3, 2, requires_grad=True)
    x = lib.ones(4, 2)
    lib.nn.functional.linear(x, weight).sum().backward()
    (lib.nn.functional.linear(x, weight).sum() + (x @ weight.t()).sum() * 2).backward()
    assert weight.grad.tolist() == [[16.0, 16.0]] * 3


@LIBS
def test_autograd_grad_leaves_grad_alone(lib):
    weight = lib.ones(3, 2, requires_grad=True)
    x = lib.ones(4, 2)
    lib.nn.functional.linear(x, weight).sum().backward()
    (grad,) = lib.autograd.grad(lib.nn.functional.linear(x, weight).sum(), [weight])
    assert grad.tolist() == [[4.0, 4.0]] * 3 and weight.grad.tolist() == [[4.0, 4.0]] * 3


def second_order(lib):
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = lib.tensor([[1.0, -1.0], [0.5, 2.0]])
    (x @ w).sum().backward()
    (x @ w * w).sum().backward(create_graph=True)
    assert w.grad.grad_fn is not None
    return lib.autograd.grad(w.grad.sum(), [w])[0].tolist()


def test_create_graph_keeps_the_accumulated_gradient_differentiable():
    assert second_order(tg) == second_order(torch)


@LIBS
def test_a_transposed_grad_keeps_its_layout_and_values(lib):
    weight = lib.ones(3, 2, requires_grad=True)
    weight.grad = lib.zeros(2, 3).t()
    lib.nn.functional.linear(lib.ones(4, 2), weight).sum().backward()
    assert weight.grad.tolist() == [[4.0, 4.0]] * 3 and weight.grad.stride() == (1, 3)



def test_the_weight_gradient_is_added_by_the_gemm_not_by_add():
    """The point of accumulate_in_place: no gradient-sized temporary and no add_ pass for it."""
    weight, x = tg.ones(3, 2, requires_grad=True), tg.ones(4, 2)
    tg.nn.functional.linear(x, weight).sum().backward()
    with tg.profiler.profile() as prof:
        tg.nn.functional.linear(x, weight).sum().backward()
    kernels = [event.key for event in prof.key_averages()]
    assert "add" not in kernels and kernels.count("matmul") == 1, kernels
    weight.register_hook(lambda grad: grad)  # a leaf hook must see the gradient: the usual path
    with tg.profiler.profile() as prof:
        tg.nn.functional.linear(x, weight).sum().backward()
    assert "add" in [event.key for event in prof.key_averages()]
