"""Elementwise math against PyTorch: broadcasting, promotion, layouts, special values, gradients."""
import math

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import TORCH_DTYPES, assert_close, check_op, gradcheck_op

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


# One line per unary op: name, the op on lib's tensors, the input range. Each runs forward and
# backward against PyTorch (test_unary) and through gradcheck in float64 (test_unary_gradcheck).
UNARY = [
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
    ("atan", lambda lib, a: lib.atan(a), -3, 3),
    ("asin", lambda lib, a: a.asin(), -0.9, 0.9),
    ("acos", lambda lib, a: a.acos(), -0.9, 0.9),
    ("tan", lambda lib, a: a.tan(), -1.2, 1.2),
    ("sinh", lambda lib, a: a.sinh(), -3, 3),
    ("cosh", lambda lib, a: lib.cosh(a), -3, 3),
    ("log1p", lambda lib, a: a.log1p(), -0.9, 3),
    ("expm1", lambda lib, a: a.expm1(), -3, 3),
    ("log2", lambda lib, a: a.log2(), 0.1, 3),
    ("log10", lambda lib, a: lib.log10(a), 0.1, 3),
    ("exp2", lambda lib, a: a.exp2(), -3, 3),
    ("erf", lambda lib, a: lib.erf(a), -3, 3),
    ("floor", lambda lib, a: a.floor(), -3, 3),
    ("ceil", lambda lib, a: lib.ceil(a), -3, 3),
    ("round", lambda lib, a: a.round(), -3, 3),
    ("trunc", lambda lib, a: lib.trunc(a), -3, 3),
    ("frac", lambda lib, a: a.frac(), -3, 3),
    ("reciprocal", lambda lib, a: a.reciprocal(), 0.2, 3),
    ("square", lambda lib, a: lib.square(a), -2, 2),
]


@pytest.mark.parametrize("name, op, low, high", UNARY)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (), (1,), (0, 4)])
def test_unary(name, op, low, high, shape):
    check_op(op, shape, low=low, high=high)


@pytest.mark.parametrize("name, op, low, high", UNARY)
def test_unary_gradcheck(name, op, low, high):
    gradcheck_op(op, (2, 3), low=low, high=high)


# 1 / a differs (PyTorch records a reciprocal times the number), and so does the composite.
@pytest.mark.parametrize("name, op, low, high", [row for row in UNARY if row[0] not in ("rdiv", "scalar_ops")])
def test_unary_grad_fn_names_match_torch(name, op, low, high):
    x = tg.full((2,), (low + high) / 2, dtype=tg.float64, requires_grad=True)
    tx = torch.full((2,), (low + high) / 2, dtype=torch.float64, requires_grad=True)
    assert op(tg, x).grad_fn.name() == op(torch, tx).grad_fn.name()


def test_round_halves_to_even():
    check_op(lambda lib, a: a.round(), inputs=[np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 1e20])])


@pytest.mark.parametrize("op", [lambda lib, a: a.floor(), lambda lib, a: a.ceil(), lambda lib, a: a.round(),
                                lambda lib, a: a.trunc(), lambda lib, a: a.frac()])
def test_rounding_refuses_what_torch_refuses(op):
    with pytest.raises(RuntimeError):
        op(torch, torch.tensor([True]))
    with pytest.raises(NotImplementedError, match=r"^\[(floor|ceil|round|trunc|frac)\] not implemented for dtype bool"):
        op(tg, tg.tensor([True]))
    with pytest.raises(RuntimeError):
        torch.tensor([1]).frac()
    with pytest.raises(NotImplementedError, match=r"^\[frac\] not implemented for dtype int64"):
        tg.tensor([1]).frac()


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
    lambda lib, a: a.atan(), lambda lib, a: a.asin(), lambda lib, a: a.acos(), lambda lib, a: a.tan(),
    lambda lib, a: a.sinh(), lambda lib, a: a.cosh(), lambda lib, a: a.log1p(), lambda lib, a: a.expm1(),
    lambda lib, a: a.log2(), lambda lib, a: a.log10(), lambda lib, a: a.exp2(), lambda lib, a: a.erf(),
    lambda lib, a: a.floor(), lambda lib, a: a.ceil(), lambda lib, a: a.round(), lambda lib, a: a.trunc(),
    lambda lib, a: a.frac(), lambda lib, a: a.reciprocal(), lambda lib, a: a.square(),
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


# ---- integer and bool operands, where PyTorch allows them ----------------------------------------

INTEGER = (tg.int32, tg.int64)
BOOLS = [np.array([[True, False, True], [False, False, True]]), np.array([True, False, False])]


@pytest.mark.parametrize("name, op", [
    ("add", lambda lib, a, b: a + b),
    ("sub", lambda lib, a, b: a - b),
    ("mul", lambda lib, a, b: a * b),
    ("div", lambda lib, a, b: a / (b.abs() + 1)),
    ("pow", lambda lib, a, b: a ** b.abs()),
    ("pow_negative_tensor", lambda lib, a, b: a ** b),
    ("maximum", lambda lib, a, b: lib.maximum(a, b)),
    ("minimum", lambda lib, a, b: lib.minimum(a, b)),
    ("floor_divide", lambda lib, a, b: a // (b.abs() + 1)),
    ("remainder", lambda lib, a, b: a % (b + 3 * (b >= 0) - 3 * (b < 0))),
    ("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=3)),
    ("sub_alpha", lambda lib, a, b: a.sub(b, alpha=-2)),
    ("where", lambda lib, a, b: lib.where(a > b, a, b)),
    ("compare", lambda lib, a, b: (a < b, a >= b, a == b, a != b)),
])
def test_binary_integer(name, op):
    check_op(op, (3, 4), (4,), dtypes=INTEGER, grad=False, low=-5, high=5)


@pytest.mark.parametrize("op", [
    lambda lib, a, b: a + b, lambda lib, a, b: a * b, lambda lib, a, b: lib.maximum(a, b),
    lambda lib, a, b: lib.minimum(a, b), lambda lib, a, b: (a ** True, a ** False, a ** 2), lambda lib, a, b: a / b,
    lambda lib, a, b: lib.where(a, b, a), lambda lib, a, b: (a == b, a < b), lambda lib, a, b: a + 2,
    lambda lib, a, b: a * 1.5, lambda lib, a, b: a // 2, lambda lib, a, b: lib.add(a, b, alpha=True),
])
def test_binary_bool(op):
    check_op(op, inputs=BOOLS, dtypes=(tg.bool,), grad=False, layouts=("contiguous", "transposed", "strided"))


@pytest.mark.parametrize("op", [
    lambda lib, a: -a, lambda lib, a: a.abs(), lambda lib, a: a.sign(), lambda lib, a: a.relu(),
    lambda lib, a: a.exp(), lambda lib, a: a.sigmoid(), lambda lib, a: a.tanh(), lambda lib, a: lib.sin(a),
    lambda lib, a: a.clamp(-2, 3), lambda lib, a: a.clamp(min=0.5), lambda lib, a: a ** 2, lambda lib, a: 2 ** a.abs(),
    lambda lib, a: a.logical_not(), lambda lib, a: a * 2 - 1, lambda lib, a: 1 - a, lambda lib, a: a % 3,
    lambda lib, a: a.atan(), lambda lib, a: a.sinh(), lambda lib, a: a.exp2(), lambda lib, a: a.erf(),
    lambda lib, a: a.floor(), lambda lib, a: a.ceil(), lambda lib, a: a.round(), lambda lib, a: a.trunc(),
    lambda lib, a: a.reciprocal(), lambda lib, a: a.square(), lambda lib, a: (a.abs() + 1).log2(),
])
def test_unary_integer(op):
    check_op(op, (3, 4), dtypes=INTEGER, grad=False, low=-5, high=5, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("op", [
    lambda lib, a: a.sign(), lambda lib, a: a.exp(), lambda lib, a: a.logical_not(), lambda lib, a: ~a,
    lambda lib, a: a.sigmoid(), lambda lib, a: a.clamp(0, 1), lambda lib, a: a.clamp(min=lib.tensor(False)),
    lambda lib, a: a.atan(), lambda lib, a: a.square(), lambda lib, a: a.reciprocal(),
])
def test_unary_bool(op):
    check_op(op, inputs=BOOLS[:1], dtypes=(tg.bool,), grad=False)


# ---- add/sub with alpha, floor division and remainder --------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1]).add_(5),
    lambda lib: lib.tensor([1]).add(5, alpha=2),
    lambda lib: lib.tensor([1]).add(lib.tensor([5]), alpha=-3),
    lambda lib: lib.tensor([1.5]).add(2, alpha=2.5),
    lambda lib: lib.tensor([1.5]).add_(2, alpha=2.5),
    lambda lib: lib.tensor([1]).sub(5, alpha=2),
    lambda lib: lib.tensor([1]).sub_(5, alpha=2),
    lambda lib: lib.tensor([1.5]).sub_(lib.tensor([2.0]), alpha=2),
    lambda lib: lib.sub(lib.tensor([1, 2]), lib.tensor([3, 4]), alpha=2),
    lambda lib: lib.tensor([True]).add(True, alpha=True),
    lambda lib: lib.tensor([1], dtype=lib.int32).add(2, alpha=3),
])
def test_add_sub_alpha_keep_integer_types(make):
    assert_close(make(tg), make(torch), 0, 0, what="alpha")


@pytest.mark.parametrize("name, op", [
    ("add_scalar", lambda lib, a, b: lib.add(a, 1.5, alpha=-2)),
    ("sub_tensor", lambda lib, a, b: lib.sub(a, b, alpha=0.5)),
    ("sub_method", lambda lib, a, b: a.sub(b, alpha=3)),
    ("floor_divide", lambda lib, a, b: a // (b.abs() + 0.25)),
    ("rfloordiv", lambda lib, a, b: 3.5 // (a.abs() + 0.25)),
    ("floor_divide_function", lambda lib, a, b: lib.floor_divide(a, 0.75)),
    ("remainder", lambda lib, a, b: a % (b.abs() + 0.25)),
    ("remainder_negative_divisor", lambda lib, a, b: lib.remainder(a, -(b.abs() + 0.25))),
    ("rmod", lambda lib, a, b: 2.5 % (a.abs() + 0.25)),
    ("div_floor", lambda lib, a, b: lib.div(a, b.abs() + 0.25, rounding_mode="floor")),
    ("div_trunc", lambda lib, a, b: a.div(b.abs() + 0.25, rounding_mode="trunc")),
    ("div_none", lambda lib, a, b: a.div(b.abs() + 0.25, rounding_mode=None)),
])
def test_alpha_and_rounding_division(name, op):
    # floor_divide has no derivative in PyTorch either (backward through it raises); number % tensor
    # has none in PyTorch (ours is -floor(number / tensor), checked by gradcheck below).
    check_op(op, (3, 4), (4,), grad=not name.startswith(("floor_divide", "rfloordiv", "rmod")))


def test_remainder_gradients():
    gradcheck_op(lambda lib, a, b: a % (b.abs() + 0.5), (4,), (4,), low=-3, high=3)
    gradcheck_op(lambda lib, a: 2.5 % (a.abs() + 0.5), (4,), low=-3, high=3)


@pytest.mark.parametrize("op", [
    lambda lib, a, b: a // b, lambda lib, a, b: a % b, lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
])
def test_rounding_division_special_values(op):
    values = np.array([5.0, -5.0, 5.0, -5.0, 0.0, -0.0, 7.5, np.inf, -np.inf, np.nan, 1.0, 0.5])
    divisors = np.array([3.0, 3.0, -3.0, -3.0, 3.0, 3.0, 0.0, 2.0, 2.0, 2.0, np.inf, 0.1])
    with np.errstate(all="ignore"):
        check_op(op, inputs=[values, divisors], grad=False, layouts=("contiguous",))
    integers = [np.array([5, -5, 5, -5, 0, 7, -2**62]), np.array([3, 3, -3, -3, 3, -1, -1])]
    check_op(op, inputs=integers, dtypes=(tg.int64,), grad=False, layouts=("contiguous",))


def test_integer_division_by_minus_one_wraps_instead_of_trapping():
    extremes = [-2**63, 2**63 - 1]
    for op in (lambda a: a // -1, lambda a: a % -1):
        assert_close(op(tg.tensor(extremes)), op(torch.tensor(extremes)), 0, 0)
    # (PyTorch's own trunc division traps here, so it cannot be the oracle.)
    assert tg.tensor(extremes).div(-1, rounding_mode="trunc").tolist() == [-2**63, -(2**63 - 1)]


def test_floor_divide_has_no_derivative():
    x = tg.ones(2, requires_grad=True)
    y = x // 2
    assert y.requires_grad
    with pytest.raises(RuntimeError, match=r"\[floor_divide\] the derivative for floor_divide is not implemented"):
        y.sum().backward()


# ---- clamp with tensor bounds, NaN, and bounds out of range --------------------------------------

@pytest.mark.parametrize("shapes, op", [
    (((3, 4), (3, 4), (3, 4)), lambda lib, a, lo, hi: a.clamp(lo - 0.5, hi + 0.5)),
    (((3, 4), (4,), (3, 1)), lambda lib, a, lo, hi: lib.clamp(a, min=lo, max=hi)),
    (((3, 4), (4,), (3, 1)), lambda lib, a, lo, hi: lib.clamp(a, min=lo - 1, max=hi + 1)),
    (((3, 4), (), (4,)), lambda lib, a, lo, hi: a.clamp(min=lo)),
    (((3, 4), (4,), ()), lambda lib, a, lo, hi: a.clamp(max=hi)),
    (((3, 4), (3, 4), (4,)), lambda lib, a, lo, hi: a.clamp_min(lo) + a.clamp_max(hi)),
    (((3, 4), (4,), (4,)), lambda lib, a, lo, hi: lib.clamp_max(a, hi) * lib.clamp_min(a, lo)),
    (((2, 4), (4,), (1, 4)), lambda lib, a, lo, hi: a.clip(min=lo, max=hi)),
])
def test_clamp_with_tensor_bounds(shapes, op):
    # Gradients reach the bounds too, as in PyTorch.
    check_op(op, *shapes)


def test_clamp_bounds_broadcast_the_input():
    # Forward only: PyTorch's own backward fails for bounds of a larger shape than the input.
    check_op(lambda lib, a, lo, hi: a.clip(min=lo, max=hi), (4,), (2, 4), (4,), grad=False)


def test_clamp_tensor_bound_gradients_where_bounds_cross():
    # min > max: the result is max everywhere; min gets no gradient, max all of it.
    x, low, high = [0.0, 2.0, 5.0], [3.0, 3.0, 3.0], [1.0, 1.0, 1.0]
    check_op(lambda lib, a, lo, hi: a.clamp(lo, hi), inputs=[x, low, high], layouts=("contiguous",))
    check_op(lambda lib, a, lo, hi: a.clamp(lo, hi), inputs=[[1.0, 2.0, 3.0], [1.0, 0.0, 3.0], [2.0, 2.0, 3.0]],
             layouts=("contiguous",))


def test_clamp_tensor_bounds_gradcheck():
    gradcheck_op(lambda lib, a, lo, hi: a.clamp(lo, hi + 1.5), (5,), (5,), (5,))


@pytest.mark.parametrize("op", [
    lambda lib, a: a.clamp(min=math.nan), lambda lib, a: a.clamp(max=math.nan), lambda lib, a: a.clamp(-1, math.nan),
    lambda lib, a: a.clamp(min=lib.tensor([math.nan, 0.0, 1.0, 0.0])),
    lambda lib, a: a.clamp(max=lib.tensor([0.0, math.nan, 1.0, 0.0])),
    lambda lib, a: lib.where(a > 0, a, lib.tensor(math.nan)), lambda lib, a: lib.where(a > 0, math.nan, a),
])
def test_nan_propagates(op):
    check_op(op, inputs=[np.array([2.0, np.nan, -1.0, 0.5])], grad=False, layouts=("contiguous", "strided"))


def test_pow_tensor_tensor_with_nan():
    base = np.array([np.nan, 2.0, 1.0, np.nan, 0.0])
    exponent = np.array([2.0, np.nan, np.nan, 0.0, np.nan])
    check_op(lambda lib, a, b: a ** b, inputs=[base, exponent], grad=False, layouts=("contiguous", "strided"))


def test_method_forms():
    check_op(lambda lib, a, b: a.where(a > 0, b), (3, 4), (4,))
    check_op(lambda lib, a, b: a.where(b > 0, 2.5), (3, 4), (4,))
    check_op(lambda lib, a, b: lib.where(a > b, 1.0, 0.0), (3, 4), (4,), grad=False)
    check_op(lambda lib, a, b: lib.where(a > b, 1, 0), (3, 4), (4,), grad=False)
    check_op(lambda lib, a, b: a.clamp_max(0.5) + a.clamp_min(-0.5), (3, 4), (4,))
    check_op(lambda lib, a, b: a.mul(b).sub(a).add(b, alpha=2).div(2).pow(2), (3, 4), (4,))


# ---- exception types follow PyTorch's ------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([True]) - lib.tensor([False]),
    lambda lib: 1 - lib.tensor([True]),
    lambda lib: lib.tensor([True]) - 1,
    lambda lib: lib.tensor([1.0]) - True,
    lambda lib: lib.tensor([1]).sub(lib.tensor([True]), alpha=2),
    lambda lib: -lib.tensor([True]),
    lambda lib: lib.tensor([True]).neg(),
    lambda lib: lib.tensor([True]).abs(),
    lambda lib: lib.tensor([True]).relu(),
    lambda lib: lib.tensor([True]).clamp(min=False),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32).clamp(max=2**40),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32).clamp(min=-2**40),
    lambda lib: lib.tensor([1.0]).clamp(min=1e300),
    lambda lib: lib.tensor([2]) ** -1,
    lambda lib: lib.tensor([2], dtype=lib.int32).pow(-2),
    lambda lib: lib.tensor([True]) ** -1,
    lambda lib: lib.tensor([True]) ** lib.tensor([False]),
    lambda lib: True ** lib.tensor([False]),
    lambda lib: lib.where(lib.ones(2), lib.ones(2), lib.ones(2)),
    lambda lib: lib.tensor([1]).add(5, alpha=2.5),
    lambda lib: lib.tensor([1]).add(lib.tensor([5]), alpha=2.5),
    lambda lib: lib.tensor([1]).add_(2, alpha=2.5),
    lambda lib: lib.tensor([1.0]).add(5, alpha=True),
    lambda lib: lib.tensor([1]).add_(2.5),
    lambda lib: lib.tensor([5]) // 0,
    lambda lib: lib.tensor([5]) % lib.tensor([0]),
    lambda lib: lib.div(lib.tensor([5]), 0, rounding_mode="trunc"),
    lambda lib: lib.div(lib.tensor([5.0]), 2, rounding_mode="round"),
    lambda lib: lib.tensor([True]) // lib.tensor([True]),
    lambda lib: lib.tensor([True]) % lib.tensor([True]),
    lambda lib: lib.eq(lib.ones(1), "a"),
    lambda lib: lib.ones(1).lt("a"),
    lambda lib: lib.ones(1).ge(None),
    lambda lib: lib.isclose(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-1),
    lambda lib: lib.ones(4).clamp(min=lib.zeros(3)),
    lambda lib: lib.ones(4).clamp(),
])
def test_errors_match_torch(make):
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(expected.type, match=r"^\["):
        make(tg)


def test_operator_with_a_string_is_not_equal():
    # The operator protocol: == falls back to identity, < raises Python's own TypeError.
    assert (tg.ones(1) == "a") is False
    with pytest.raises(TypeError):
        tg.ones(1) < "a"


# ---- isclose, allclose, equal, is_tensor ---------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda lib, a, b: lib.isclose(a, b),
    lambda lib, a, b: lib.isclose(a, b, rtol=0.1, atol=0.5),
    lambda lib, a, b: lib.isclose(a, b, equal_nan=True),
    lambda lib, a, b: a.isclose(b, rtol=0, atol=0),
    lambda lib, a, b: lib.allclose(a, b),
    lambda lib, a, b: lib.allclose(a, a.clone(), equal_nan=True),
    lambda lib, a, b: a.allclose(a + 1e-7),
    lambda lib, a, b: lib.equal(a, b),
    lambda lib, a, b: lib.equal(a, a.clone()),
    lambda lib, a, b: a.equal(b[:3]),
])
def test_closeness(call):
    a = np.array([1.0, np.inf, -np.inf, np.nan, 0.0, 1e-9, 2.0, np.inf])
    b = np.array([1.0 + 1e-6, np.inf, np.inf, np.nan, -0.0, 0.0, 2.2, 1e300])
    for dtype in (tg.float32, tg.float64):
        expected = call(torch, torch.tensor(a, dtype=TORCH_DTYPES[dtype]), torch.tensor(b, dtype=TORCH_DTYPES[dtype]))
        ours = call(tg, tg.tensor(a, dtype=dtype), tg.tensor(b, dtype=dtype))
        if isinstance(expected, bool):
            assert ours is expected
        else:
            assert_close(ours, expected, 0, 0, what="isclose")


def test_closeness_of_integers_bools_and_broadcasts():
    for call in (lambda lib: lib.isclose(lib.tensor([1, 5, 9]), lib.tensor([2, 5, 10]), atol=1),
                 lambda lib: lib.isclose(lib.tensor([1, 5, 9]), lib.tensor([2, 5, 10]), rtol=0.1),
                 lambda lib: lib.isclose(lib.tensor([1, 5, 9]), lib.tensor([2, 5, 10]))):
        assert_close(call(tg), call(torch), 0, 0)
    assert_close(tg.isclose(tg.tensor([True, False]), tg.tensor([True, True])),
                 torch.isclose(torch.tensor([True, False]), torch.tensor([True, True])), 0, 0)
    assert tg.allclose(tg.ones(2, 3), tg.ones(3)) is torch.allclose(torch.ones(2, 3), torch.ones(3))
    assert tg.equal(tg.ones(2), tg.ones(2, dtype=tg.float64)) is True
    assert tg.equal(tg.ones(2), tg.ones(3)) is False
    assert tg.is_tensor(tg.ones(1)) and not tg.is_tensor(1.0) and not tg.is_tensor(np.ones(1))


# ---- the vector kernels on every instruction set, and near overflow ------------------------------

NEAR_LIMITS = np.array([88.5, 88.7, 88.72, 88.73, 89.0, 100.0, -87.0, -87.5, -88.5, -95.0, -103.0, -103.9, -104.5,
                        -200.0, 0.0, -0.0, 1e-30, -1e-30, 20.0, -20.0, 9.0, -9.0, 0.625, -0.625, 0.6, np.inf,
                        -np.inf, np.nan], dtype=np.float32)


def test_vector_kernels_on_every_isa(isa):
    rng = np.random.default_rng(7)
    # 1003 elements: whole vectors and a remainder on every instruction set.
    data = np.concatenate([rng.uniform(-90, 90, 1003 - NEAR_LIMITS.size).astype(np.float32), NEAR_LIMITS])
    for dtype in (np.float32, np.float64):
        ours, theirs = tg.tensor(data.astype(dtype)), torch.tensor(data.astype(dtype))
        other_ours, other_theirs = tg.tensor(data[::-1].astype(dtype)), torch.tensor(data[::-1].astype(dtype))
        for op in (lambda lib, a, b: a.exp(), lambda lib, a, b: a.tanh(), lambda lib, a, b: a.sigmoid(),
                   lambda lib, a, b: a + b, lambda lib, a, b: a - b, lambda lib, a, b: a * b,
                   lambda lib, a, b: a / b, lambda lib, a, b: a * 2.5, lambda lib, a, b: a - 1.5):
            with np.errstate(all="ignore"):
                assert_close(op(tg, ours, other_ours), op(torch, theirs, other_theirs), 0, 2e-6, what=f"{isa} {dtype}")


@pytest.mark.parametrize("op", [lambda lib, a: a.exp(), lambda lib, a: a.sigmoid(), lambda lib, a: a.tanh(),
                                lambda lib, a: (-a).sigmoid(), lambda lib, a: (a - 88).exp()])
def test_near_overflow_and_subnormal_results(op):
    # Contiguous (vector kernels) and strided (scalar loops) agree with PyTorch, denormals included.
    # (PyTorch's strided exp flushes results below about 1e-40 to 0, hence the atol.)
    values = np.array([88.5, 88.72, 88.0, -88.5, -87.5, -95.0, -100.0, -103.0, 0.5, -0.5] * 4)
    check_op(op, inputs=[values], dtypes=(tg.float32,), grad=False, layouts=("contiguous", "strided"), atol=1e-40,
             rtol=2e-6)


# Both sides of vector_math::erf's branch at 0.875 and of its clamp at 4, the region where float32
# erf rounds to ±1, subnormal and huge inputs (x * x overflows), on a dense sweep.
ERF_SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-40, 1e-30, 0.87499994, 0.875, -0.875, 3.9,
                        3.92, 3.9999998, 4.0, -4.0, 9.0, 1e19, 1e30, -1e30, 3.4e38, -3.4e38], dtype=np.float32)
ERF_SWEEP = np.concatenate([np.linspace(-8, 8, 1 << 20, dtype=np.float32), ERF_SPECIAL])


def float32_tensor(values, layout):
    """Contiguous (the vector kernels' path) or strided, every other element of a wider tensor (the loops')."""
    if layout == "strided":
        return tg.tensor(np.stack([values, np.zeros_like(values)], axis=-1))[:, 0]
    return tg.tensor(values)


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_float32_erf_within_two_ulp(isa, layout):
    # Contiguous float32 runs vector_math::erf, strided std::erf. Ulps of the correctly rounded
    # result, from float64 erf.
    ours = tg.erf(float32_tensor(ERF_SWEEP, layout)).numpy()
    reference = torch.erf(torch.tensor(ERF_SWEEP, dtype=torch.float64)).numpy()
    nan = np.isnan(reference)
    assert np.array_equal(np.isnan(ours), nan)
    assert np.array_equal(np.signbit(ours[~nan]), np.signbit(reference[~nan]))  # -0 stays -0
    ulp = np.spacing(np.abs(reference.astype(np.float32))).astype(np.float64)
    errors = np.abs(ours.astype(np.float64) - reference) / ulp
    assert np.nanmax(errors) <= 2, f"{np.nanmax(errors):.2f} ulp at x = {ERF_SWEEP[np.nanargmax(errors)]!r}"


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("name, op", [("erf", lambda lib, a: lib.erf(a)),
                                      ("gelu", lambda lib, a: lib.nn.functional.gelu(a))])
def test_float32_erf_and_gelu_match_torch_on_a_dense_sweep(isa, layout, name, op):
    # Forward and backward (GELU's gradient takes erf and exp of the input). PyTorch's vectorised
    # float32 GELU overflows above 1.7e38 (inf at 2e38, nan at +inf); its scalar loop and float64
    # kernel give x there, as ours do.
    inputs = ERF_SWEEP[~(ERF_SWEEP > 1e38)] if name == "gelu" else ERF_SWEEP
    with np.errstate(all="ignore"):
        check_op(op, inputs=[inputs], dtypes=(tg.float32,), layouts=(layout,))
    if name == "gelu":
        large = np.array([2e38, 3.4e38, np.inf], dtype=np.float32)
        expected = torch.nn.functional.gelu(torch.tensor(large, dtype=torch.float64)).float()
        assert_close(tg.nn.functional.gelu(float32_tensor(large, layout)), expected, 0, 0)


def test_exp_and_sigmoid_near_float32_limits():
    assert tg.full((32,), 88.5).exp()[0].item() == pytest.approx(2.7231e38, rel=1e-4)
    assert tg.full((64,), 88.5)[::2].exp()[0].item() == pytest.approx(2.7231e38, rel=1e-4)
    assert tg.full((32,), -88.5).sigmoid()[0].item() == pytest.approx(3.6723e-39, rel=1e-4)
    assert tg.full((32,), -100.0).exp()[0].item() == pytest.approx(math.exp(-100.0), rel=1e-3)
    assert tg.full((64,), -100.0)[::2].exp()[0].item() == pytest.approx(math.exp(-100.0), rel=1e-3)


INT64_EXTREMES = [-2**63, -2**63 + 1, -2**32, -3, -1, 0, 1, 2, 3, 2**31, 2**32 + 1, 2**62, 2**63 - 1]


@pytest.mark.parametrize("name", ["mul", "add", "sub", "pow"])
def test_int64_arithmetic_wraps_as_torch(name):
    # Computed in unsigned arithmetic: the wrap is PyTorch's result and defined behaviour (the
    # sanitizer stage of .ci/run runs this under UBSan, which reported the signed overflow).
    left = [a for a in INT64_EXTREMES for _ in INT64_EXTREMES]
    right = INT64_EXTREMES * len(INT64_EXTREMES)
    if name == "pow":  # negative integer exponents are an error in torch
        right = [abs(b) % 130 for b in right]
    ours = getattr(tg, name)(tg.tensor(left, dtype=tg.int64), tg.tensor(right, dtype=tg.int64))
    theirs = getattr(torch, name)(torch.tensor(left, dtype=torch.int64), torch.tensor(right, dtype=torch.int64))
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("name", ["neg", "abs"])
def test_int64_negation_wraps_as_torch(name):
    ours = getattr(tg, name)(tg.tensor(INT64_EXTREMES, dtype=tg.int64))
    assert ours.tolist() == getattr(torch, name)(torch.tensor(INT64_EXTREMES, dtype=torch.int64)).tolist()
