"""Elementwise math against PyTorch: broadcasting, promotion, layouts, special values, gradients."""
import math

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close, check_op, gradcheck_op

BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((), ()), ((0, 3), (3,)), ((1,), (2, 3))]


@pytest.mark.parametrize("shape_a, shape_b", BINARY_SHAPES)
@pytest.mark.parametrize("name, op", [
    ("add", lambda lib, a, b: a + b),
    ("sub", lambda lib, a, b: a - b),
    ("mul", lambda lib, a, b: a * b),
    ("div", lambda lib, a, b: a / (b.abs() + 0.5)),
    ("pow", lambda lib, a, b: (a.abs() + 0.5) ** b),
    ("maximum", lambda lib, a, b: lib.maximum(a, b)),
    ("minimum", lambda lib, a, b: lib.minimum(a, b)),
    ("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5)),
    ("where", lambda lib, a, b: lib.where(a > b, a, b * 2)),
    ("chain", lambda lib, a, b: (a * b + a).relu() - a / (b * b + 1)),
])
def test_binary(name, op, shape_a, shape_b):
    check_op(op, shape_a, shape_b)


@pytest.mark.parametrize("name, op, low, high", [
    ("neg", lambda lib, a: -a, -2, 2),
    ("exp", lambda lib, a: a.exp(), -3, 3),
    ("log", lambda lib, a: a.log(), 0.1, 3),
    ("sqrt", lambda lib, a: a.sqrt(), 0.1, 3),
    ("rsqrt", lambda lib, a: a.rsqrt(), 0.1, 3),
    ("abs", lambda lib, a: a.abs(), -2, 2),
    ("sign", lambda lib, a: a.sign(), -2, 2),
    ("sin", lambda lib, a: lib.sin(a), -3, 3),
    ("cos", lambda lib, a: lib.cos(a), -3, 3),
    ("tanh", lambda lib, a: a.tanh(), -3, 3),
    ("sigmoid", lambda lib, a: a.sigmoid(), -8, 8),
    ("relu", lambda lib, a: a.relu(), -2, 2),
    ("pow_scalar", lambda lib, a: a ** 3, -2, 2),
    ("pow_fraction", lambda lib, a: a ** 0.5, 0.1, 2),
    ("rpow", lambda lib, a: 2.0 ** a, -2, 2),
    ("clamp", lambda lib, a: a.clamp(-0.5, 0.7), -2, 2),
    ("clamp_min", lambda lib, a: a.clamp_min(0.1), -2, 2),
    ("clamp_max", lambda lib, a: lib.clamp(a, max=0.3), -2, 2),
    ("scalar_ops", lambda lib, a: (1 - a) * 3 / 2 + 4 - a / 5, -2, 2),
    ("rdiv", lambda lib, a: 1 / (a.abs() + 1), -2, 2),
])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (), (1,), (0, 4)])
def test_unary(name, op, low, high, shape):
    check_op(op, shape, low=low, high=high)


@pytest.mark.parametrize("op, shapes, low, high", [
    (lambda lib, a, b: a * b + lib.sin(a) / (b * b + 1), [(2, 3), (3,)], -2, 2),
    (lambda lib, a: (a.exp() + a.sigmoid() * a.tanh()) ** 2, [(2, 3)], -2, 2),
    (lambda lib, a: a.log() + a.sqrt() + a.rsqrt(), [(4,)], 0.5, 2),
    (lambda lib, a, b: lib.maximum(a, b) - lib.minimum(a, b), [(3,), (3,)], -2, 2),
    (lambda lib, a, b: a ** b, [(3,), (3,)], 0.5, 2),
    (lambda lib, a: a.clamp(-0.5, 0.5).abs(), [(5,)], -2, 2),
])
def test_gradcheck(op, shapes, low, high):
    gradcheck_op(op, *shapes, low=low, high=high)


@pytest.mark.parametrize("op", [
    lambda lib, a, b: a < b, lambda lib, a, b: a <= b, lambda lib, a, b: a > b,
    lambda lib, a, b: a >= b, lambda lib, a, b: a == b, lambda lib, a, b: a != b,
    lambda lib, a, b: a < 0.5, lambda lib, a, b: 0.5 > a, lambda lib, a, b: lib.eq(a, b),
])
def test_comparisons_give_bool(op):
    check_op(op, (3, 4), (4,), grad=False)
    check_op(op, (3, 4), (4,), dtypes=(tg.int64, tg.int32), grad=False)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1, 2, 3]) + lib.tensor([1.5, 2.5, 3.5]),
    lambda lib: lib.tensor([1, 2, 3]) * 2,
    lambda lib: lib.tensor([1, 2, 3]) * 2.5,
    lambda lib: lib.tensor([1, 2, 3]) / 2,
    lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32) + lib.tensor([1, 2, 3]),
    lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32) + 5,
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float32) + lib.tensor(1.0, dtype=lib.float64),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor(1.5, dtype=lib.float64),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64) * lib.tensor([2.0, 3.0], dtype=lib.float32),
    lambda lib: lib.tensor([True, False]) + lib.tensor([True, True]),
    lambda lib: lib.tensor([True, False]) * 3,
    lambda lib: lib.tensor([True, False]) * 1.5,
    lambda lib: lib.tensor([2, 3]) ** 2,
    lambda lib: lib.tensor([2, 3]) ** lib.tensor([3, 2]),
    lambda lib: lib.tensor([1, 2, 3]) < 2.5,
    lambda lib: lib.tensor([-3, 0, 4]).abs(),
    lambda lib: lib.tensor([-3, 0, 4]).sign(),
    lambda lib: lib.tensor([-3, 0, 4]).relu(),
    lambda lib: lib.tensor([1, 2, 4]).exp(),
    lambda lib: lib.tensor([1, 2, 4]).sqrt(),
    lambda lib: lib.tensor([1, 5, 9]).clamp(2, 6),
    lambda lib: lib.maximum(lib.tensor([1, 5]), lib.tensor([3.0, 2.0])),
    lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), 0.5),
    lambda lib: lib.where(lib.tensor([True, False]), 1.0, lib.tensor([1, 2])),
    lambda lib: ~lib.tensor([True, False]),
    lambda lib: lib.logical_not(lib.tensor([0.0, 2.0])),
])
def test_type_promotion(make):
    assert_close(make(tg), make(torch), 1e-6, 1e-6, what="promotion")


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-30, 1e30, -50.0, 50.0])


@pytest.mark.parametrize("op", [
    lambda lib, a: a.exp(), lambda lib, a: a.log(), lambda lib, a: a.sqrt(), lambda lib, a: a.rsqrt(),
    lambda lib, a: a.abs(), lambda lib, a: a.sign(), lambda lib, a: a.tanh(), lambda lib, a: a.sigmoid(),
    lambda lib, a: a.relu(), lambda lib, a: lib.sin(a), lambda lib, a: a.clamp(-1, 1), lambda lib, a: a * 0,
    lambda lib, a: 1 / a, lambda lib, a: lib.maximum(a, -a),
    lambda lib, a: lib.minimum(a, -a), lambda lib, a: a ** 2, lambda lib, a: a < 1,
])
def test_special_values(op):
    with np.errstate(all="ignore"):
        check_op(op, inputs=[SPECIAL], grad=False, layouts=("contiguous", "strided"))


def test_relu_and_clamp_boundaries_follow_torch():
    # relu's gradient at 0 is 0; clamp passes the gradient at its bounds (inclusive).
    check_op(lambda lib, a: a.relu(), inputs=[np.array([-1.0, 0.0, 1.0])])
    check_op(lambda lib, a: a.clamp(-1.0, 1.0), inputs=[np.array([-2.0, -1.0, 0.0, 1.0, 2.0])])
    check_op(lambda lib, a: a.abs(), inputs=[np.array([-1.0, 0.0, 1.0])])


def test_maximum_ties_split_gradient():
    check_op(lambda lib, a, b: lib.maximum(a, b), inputs=[np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 3.0])])
    check_op(lambda lib, a, b: lib.minimum(a, b), inputs=[np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])])


def test_pow_gradient_at_zero_base():
    check_op(lambda lib, a, b: a ** b, inputs=[np.array([0.0, 2.0, 0.0]), np.array([2.0, 0.5, 0.0])],
             layouts=("contiguous",))


@pytest.mark.parametrize("make_inplace, make_outofplace", [
    (lambda t: t.add_(2.0), lambda t: t + 2.0),
    (lambda t: t.sub_(tg.tensor([1.0, 2.0, 3.0])), lambda t: t - tg.tensor([1.0, 2.0, 3.0])),
    (lambda t: t.mul_(tg.tensor(3.0)), lambda t: t * 3.0),
    (lambda t: t.div_(4), lambda t: t / 4),
    (lambda t: t.clamp_(0.0, 0.5), lambda t: t.clamp(0.0, 0.5)),
    (lambda t: t.relu_(), lambda t: t.relu()),
    (lambda t: t.add_(tg.ones(3), alpha=2), lambda t: t + 2),
])
def test_inplace_matches_out_of_place(make_inplace, make_outofplace):
    data = np.array([[-1.0, 0.25, 2.0], [3.0, -0.5, 0.75]], np.float32)
    target = tg.tensor(data)
    view = target.t()
    version = target._version
    result = make_inplace(target)
    assert result is target
    assert target._version == version + 1
    np.testing.assert_allclose(target.numpy(), make_outofplace(tg.tensor(data)).numpy())
    np.testing.assert_allclose(view.numpy(), target.numpy().T)


def test_augmented_assignment_keeps_identity_and_writes_views():
    base = tg.zeros(2, 3)
    column = base.t()
    alias = column
    column += 1
    column *= tg.tensor([1.0, 2.0])
    column -= 0.5
    column /= 2
    assert column is alias
    np.testing.assert_allclose(base.numpy(), [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]])


def test_inplace_on_strided_destination_with_broadcast():
    base = tg.zeros(4, 6)
    window = base.narrow(1, 1, 3)
    window.add_(tg.tensor([1.0, 2.0, 3.0]))
    expected = np.zeros((4, 6), np.float32)
    expected[:, 1:4] = [1, 2, 3]
    np.testing.assert_array_equal(base.numpy(), expected)


@pytest.mark.parametrize("make, error, pattern", [
    (lambda: tg.ones(2, 3) + tg.ones(4), RuntimeError, r"\[add\] shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: tg.ones(2, 3) * tg.ones(2, 2), RuntimeError, r"\[mul\]"),
    (lambda: tg.ones(2) + "a", TypeError, None),
    (lambda: tg.ones(2).add("a"), TypeError, r"\[add\] expected a tensor or a number"),
    (lambda: tg.ones(3, dtype=tg.int64).add_(1.5), RuntimeError, r"\[add_\] result type float32 can't be cast"),
    (lambda: tg.ones(3, dtype=tg.int64).div_(2), RuntimeError, r"\[div_\]"),
    (lambda: tg.ones(3).add_(tg.ones(2, 3)), RuntimeError, r"\[add_\] output with shape \(3,\) doesn't match"),
    (lambda: -tg.tensor([True]), RuntimeError, r"\[neg\]"),
    (lambda: tg.tensor([True]) - tg.tensor([False]), RuntimeError, r"\[sub\]"),
    (lambda: tg.ones(2).clamp(), RuntimeError, r"\[clamp\] at least one"),
    (lambda: tg.where(tg.ones(2), tg.ones(2), tg.ones(2)), RuntimeError, r"\[where\] condition must be a bool"),
    (lambda: tg.ones(2, dtype=tg.int64).exp() + tg.ones(2).sin(tg.ones(2)), TypeError, None),
])
def test_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_large_elementwise_uses_threads_and_matches():
    data = np.random.default_rng(0).standard_normal((512, 1024)).astype(np.float32)
    ours, theirs = tg.tensor(data), torch.tensor(data)
    for make in (lambda lib, a: a * 2 + 1, lambda lib, a: a.exp(), lambda lib, a: a.relu(), lambda lib, a: a.t() + a.t()):
        assert_close(make(tg, ours), make(torch, theirs), 1e-6, 1e-6)


def test_python_number_semantics():
    assert (tg.tensor(3.0) * 2).item() == 6.0
    assert isinstance(tg.tensor([7]).item(), int)
    assert math.isclose(float(tg.tensor(0.5)), 0.5)
    assert int(tg.tensor(3)) == 3
    assert bool(tg.tensor([1.0])) is True
    with pytest.raises(RuntimeError, match=r"\[bool\]"):
        bool(tg.ones(2))
