"""Reductions and the softmax family against PyTorch: values, gradients, layouts, edge cases."""
import math

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close, check_op, gradcheck_op

SHAPE = (3, 4, 5)
DIMS = [None, 0, 1, 2, -1, -3, (0, 2), (-1, 0), (0, 1, 2), (1,)]


def reduce_call(name, dim, keepdim):
    if dim is None:
        return lambda lib, a: getattr(lib, name)(a)
    return lambda lib, a: getattr(lib, name)(a, dim, keepdim=keepdim)


# ---- sum, mean, prod -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean_dims(name, dim, keepdim):
    check_op(reduce_call(name, dim, keepdim), SHAPE)


@pytest.mark.parametrize("shape, dim", [((7,), 0), ((1,), None), ((), None), ((), 0), ((1, 1), 1), ((0,), None),
                                        ((0, 3), 0), ((3, 0), 1), ((2, 0, 3), (0, 2)), ((300, 40), 0),
                                        ((40, 300), 1), ((2, 3, 700), (0, 2))])
def test_sum_shapes(shape, dim):
    check_op(reduce_call("sum", dim, False), shape)
    check_op(reduce_call("sum", dim, True), shape) if dim is not None else None


def test_sum_of_empty_is_zero():
    assert tg.zeros(0).sum().item() == 0
    assert tg.zeros(2, 0).sum(1).tolist() == [0.0, 0.0]
    assert tg.zeros(0, dtype=tg.int64).prod().item() == 1


@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.bool])
@pytest.mark.parametrize("name", ["sum", "prod"])
def test_integer_sum_prod_to_int64(dtype, name):
    check_op(lambda lib, a: getattr(lib, name)(a), (2, 3), dtypes=(dtype,), low=-3, high=3)
    check_op(lambda lib, a: getattr(lib, name)(a, 1, keepdim=True), (2, 3), dtypes=(dtype,), low=-3, high=3)


def test_sum_dtype_argument():
    check_op(lambda lib, a: a.sum(0, dtype=lib.float64), (3, 4), dtypes=(tg.float32,))
    check_op(lambda lib, a: lib.sum(a, dtype=lib.float64), (3, 4), dtypes=(tg.int64,))


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_dims(dim, keepdim):
    check_op(reduce_call("prod", dim, keepdim) if not isinstance(dim, tuple) else
             lambda lib, a: a.prod(0, keepdim=keepdim).prod(0, keepdim=keepdim), (3, 4), low=0.5, high=1.5)


@pytest.mark.parametrize("values", [[[1.0, 0.0, 3.0], [2.0, 4.0, 5.0]], [[0.0, 0.0, 3.0], [0.0, 4.0, 0.0]],
                                    [[0.0, 2.0, 3.0], [0.0, 0.0, 0.0]]])
def test_prod_gradient_with_zeros(values):
    check_op(lambda lib, a: a.prod(), inputs=[values], layouts=("contiguous",))
    check_op(lambda lib, a: a.prod(1), inputs=[values], layouts=("contiguous",))
    check_op(lambda lib, a: a.prod(0, keepdim=True), inputs=[values], layouts=("contiguous",))


def test_prod_over_several_dims_matches_nested():
    x = tg.randn(3, 4, 5)
    assert_close(x.prod((0, 2)), x.prod(2).prod(0), 1e-5, 1e-4)


# ---- max, min, amax, amin, argmax, argmin ---------------------------------------------------------

@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_full_extremes(name):
    check_op(lambda lib, a: getattr(lib, name)(a), SHAPE)
    check_op(lambda lib, a: getattr(a, name)(), (1,))


@pytest.mark.parametrize("name", ["amax", "amin", "logsumexp"])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 2), (2, 1), (0, 1, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_amax_amin_logsumexp_dims(name, dim, keepdim):
    check_op(reduce_call(name, dim, keepdim), SHAPE)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim(name, dim, keepdim):
    check_op(lambda lib, a: tuple(getattr(lib, name)(a, dim, keepdim=keepdim)), SHAPE)
    check_op(lambda lib, a: tuple(getattr(a, name)(dim=dim, keepdim=keepdim)), SHAPE, dtypes=(tg.int64, tg.int32))


def test_max_returns_named_tuple():
    x = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
    result = x.max(1)
    values, indices = result
    assert result.values.tolist() == values.tolist() == [5.0, 7.0]
    assert result.indices.tolist() == indices.tolist() == [1, 0]
    assert indices.dtype == tg.int64
    assert tg.min(x, dim=0).indices.tolist() == [0, 1]


def test_max_with_tensor_is_maximum():
    check_op(lambda lib, a, b: lib.max(a, b), (3, 4), (4,))
    check_op(lambda lib, a, b: a.min(b), (3, 4), (3, 4))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(name, dim, keepdim):
    fn = lambda lib, a: getattr(lib, name)(a, dim=dim, keepdim=keepdim)  # noqa: E731
    check_op(fn, (4, 6), grad=False)
    check_op(fn, (4, 6), dtypes=(tg.int64,), low=-2, high=2)  # integers give many ties


TIES = [[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -5.0, -5.0, -1.0]]


@pytest.mark.parametrize("fn", [
    lambda lib, a: a.max(), lambda lib, a: a.min(), lambda lib, a: a.amax(1), lambda lib, a: a.amin(0),
    lambda lib, a: a.amax((0, 1), keepdim=True), lambda lib, a: tuple(a.max(1)), lambda lib, a: tuple(a.min(0)),
    lambda lib, a: tuple(a.max(-1, keepdim=True)), lambda lib, a: a.argmax(), lambda lib, a: a.argmin(1),
    lambda lib, a: a.argmax(0, keepdim=True),
])
def test_ties_values_indices_and_gradients(fn):
    check_op(fn, inputs=[TIES], layouts=("contiguous", "transposed"))


def test_max_min_integer_and_bool():
    check_op(lambda lib, a: (a.max(), a.amin(1)), (3, 4), dtypes=(tg.int64, tg.int32, tg.bool), low=-3, high=3)


NONFINITE = [[1.0, float("nan"), 3.0], [float("inf"), -float("inf"), 0.0], [-float("inf"), -float("inf"), 2.0]]


@pytest.mark.parametrize("fn", [
    lambda lib, a: a.sum(1), lambda lib, a: a.prod(0), lambda lib, a: a.max(), lambda lib, a: a.amax(1),
    lambda lib, a: a.amin(0), lambda lib, a: tuple(a.max(1)), lambda lib, a: tuple(a.min(0)), lambda lib, a: a.argmax(1),
    lambda lib, a: a.argmin(0), lambda lib, a: a.argmax(), lambda lib, a: a.logsumexp(1), lambda lib, a: a.softmax(1),
    lambda lib, a: a.log_softmax(0), lambda lib, a: a.mean(0), lambda lib, a: a.var(1),
])
def test_nan_and_inf_forward(fn):
    check_op(fn, inputs=[NONFINITE], layouts=("contiguous", "transposed"), grad=False)


def test_nan_propagates_in_long_rows():
    x = np.random.default_rng(0).normal(size=(3, 1000)).astype(np.float32)
    x[1, 777] = np.nan
    for fn in (lambda lib, a: a.amax(1), lambda lib, a: a.max(0).values, lambda lib, a: a.amin(), lambda lib, a: a.argmax(1)):
        check_op(fn, inputs=[x], layouts=("contiguous", "transposed"), grad=False)


# ---- var, std ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std(name, dim, keepdim):
    check_op(lambda lib, a: getattr(a, name)(dim, keepdim=keepdim), SHAPE)
    check_op(lambda lib, a: getattr(lib, name)(a, dim, unbiased=False, keepdim=keepdim), SHAPE)
    check_op(lambda lib, a: getattr(lib, name)(a, dim, correction=0, keepdim=keepdim), SHAPE)


def test_var_of_one_element_is_nan():
    check_op(lambda lib, a: a.var(), (1,), grad=False)
    check_op(lambda lib, a: (a.var(False), a.std(0, unbiased=True)), (1,), grad=False)


# ---- logsumexp -----------------------------------------------------------------------------------

def test_logsumexp_is_stable():
    check_op(lambda lib, a: a.logsumexp(1), inputs=[[[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]]],
             layouts=("contiguous",))
    check_op(lambda lib, a: lib.logsumexp(a, 0), (0, 3), grad=False)  # empty: -inf
    check_op(lambda lib, a: lib.logsumexp(a, (0, 1)), (2, 3), dtypes=(tg.int64,), atol=1e-6, rtol=1e-6)


# ---- softmax, log_softmax ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), 2), ((3, 4, 5), -1), ((6,), 0),
                                        ((), 0), ((1,), -1), ((2, 0), 1), ((0, 3), 1), ((4, 1000), 1), ((1000, 4), 0)])
def test_softmax_family(name, shape, dim):
    check_op(lambda lib, a: getattr(lib, name)(a, dim), shape, low=-10, high=10)
    check_op(lambda lib, a: getattr(a, name)(dim=dim), shape)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_and_masks(name):
    big = [[1000.0, 999.0, -1000.0], [-float("inf"), 0.0, 1.0], [88.0, -88.0, 0.0]]
    check_op(lambda lib, a: getattr(a, name)(1), inputs=[big], layouts=("contiguous", "transposed"))
    check_op(lambda lib, a: getattr(a, name)(0), inputs=[big], layouts=("contiguous", "transposed"), grad=False)


def test_softmax_dtype_argument():
    check_op(lambda lib, a: lib.softmax(a, 1, dtype=lib.float64), (3, 4), dtypes=(tg.float32,))
    check_op(lambda lib, a: a.log_softmax(0, dtype=lib.float32), (3, 4), dtypes=(tg.int64,), grad=False, atol=1e-6,
             rtol=1e-6)


def test_softmax_grad_fn_names():
    x = tg.randn(2, 3, requires_grad=True)
    assert x.softmax(1).grad_fn.name() == "SoftmaxBackward0"
    assert x.log_softmax(1).grad_fn.name() == "LogSoftmaxBackward0"


# ---- gradcheck and second derivatives --------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda lib, a: a.sum((0, 2)), lambda lib, a: a.mean(1), lambda lib, a: a.prod(1), lambda lib, a: a.amax(0),
    lambda lib, a: a.max(1).values, lambda lib, a: a.min(), lambda lib, a: a.var(1), lambda lib, a: a.std((0, 1)),
    lambda lib, a: a.logsumexp(2), lambda lib, a: a.softmax(1), lambda lib, a: a.log_softmax(0),
    lambda lib, a: a.softmax(2).log_softmax(1),
])
def test_gradcheck(fn):
    gradcheck_op(fn, (2, 3, 4), low=0.5, high=1.5)


def second_derivatives(lib, fn, data, weights):
    x = lib.tensor(data, requires_grad=True)
    w = lib.tensor(weights)
    (grad,) = lib.autograd.grad((fn(lib, x) * w).sum(), [x], create_graph=True)
    (second,) = lib.autograd.grad((grad * grad).sum(), [x])
    return grad, second


@pytest.mark.parametrize("fn, out_shape", [
    (lambda lib, a: a.softmax(1), (3, 5)), (lambda lib, a: a.softmax(0), (3, 5)),
    (lambda lib, a: a.log_softmax(1), (3, 5)), (lambda lib, a: a.log_softmax(0), (3, 5)),
    (lambda lib, a: a.logsumexp(1), (3,)), (lambda lib, a: a.logsumexp((0, 1), keepdim=True), (1, 1)),
    (lambda lib, a: a.prod(1), (3,)), (lambda lib, a: a.var(0), (5,)), (lambda lib, a: a.std(1), (3,)),
])
def test_second_derivatives_match_torch(fn, out_shape):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(3, 5))
    weights = rng.normal(size=out_shape)
    ours = second_derivatives(tg, fn, data, weights)
    theirs = second_derivatives(torch, fn, data, weights)
    for a, b in zip(ours, theirs):
        assert_close(a, b, 1e-10, 1e-8)


def hessian(lib, fn, values):
    """Second derivatives of fn(x).sum() (each row: the gradient of one first-derivative element)."""
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    (grad,) = lib.autograd.grad(fn(x).sum(), x, create_graph=True)
    rows = []
    for i in range(grad.numel()):
        (row,) = lib.autograd.grad(grad.reshape(-1)[i], x, retain_graph=True)
        rows.append(row.detach().numpy().ravel())
    return grad.detach().numpy(), np.array(rows)


ZEROS = [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [[2.0, 0.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 5.0]],
         [[0.0, 2.0], [1.5, -1.0]]]


@pytest.mark.parametrize("values", ZEROS)
@pytest.mark.parametrize("fn", [lambda x: x.prod(), lambda x: x.prod(-1), lambda x: x.prod(0, keepdim=True),
                                lambda x: x.prod(0) * x.prod(-1, keepdim=True)])
def test_prod_second_derivatives_with_zeros_match_torch(values, fn):
    # x = [2, 0, 3]: the second derivatives are [[0, 3, 0], [3, 0, 2], [0, 2, 0]], not zero off the zero's row.
    ours, theirs = hessian(tg, fn, values), hessian(torch, fn, values)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_prod_over_several_dims_with_zeros_differentiates_twice():
    values = np.array([[[2.0, 0.0], [1.0, 3.0]], [[0.0, 2.0], [1.0, 4.0]]])
    ours = hessian(tg, lambda x: x.prod((0, 2)), values)
    theirs = hessian(torch, lambda x: x.prod(0).prod(1), values)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["_softmax_backward_data", "_log_softmax_backward_data"])
def test_fused_backward_gradcheck(name):
    rng = np.random.default_rng(2)
    output = tg.tensor(rng.uniform(0.1, 0.9, size=(3, 4)), requires_grad=True)
    grad = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda g, y: getattr(tg._C, name)(g, y, 1), [grad, output])


# ---- accuracy and large inputs ---------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["full", "rows", "columns"])
def test_large_float32_sum_is_accurate(layout):
    data = np.random.default_rng(3).uniform(0, 1, size=(1 << 24,)).astype(np.float32)
    x = tg.tensor(data)
    exact = data.astype(np.float64)
    if layout == "full":
        ours, expected = x.sum().item(), exact.sum()
    elif layout == "rows":
        ours, expected = x.view(16, -1).sum(1).numpy(), exact.reshape(16, -1).sum(1)
    else:
        ours, expected = x.view(-1, 16).sum(0).numpy(), exact.reshape(-1, 16).sum(0)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_large_reductions_with_threads_match_torch():
    check_op(lambda lib, a: (a.sum(0), a.sum(1), a.amax(0), a.softmax(1), a.log_softmax(0)), (300, 257),
             layouts=("contiguous", "transposed"))


# ---- all, any ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("dtype", [tg.bool, tg.int64, tg.float32])
def test_all_any(name, dtype):
    check_op(lambda lib, a: getattr(a, name)(), (3, 4), dtypes=(dtype,), low=-1, high=1)
    check_op(lambda lib, a: getattr(lib, name)(a, 1), (3, 4), dtypes=(dtype,), low=-1, high=1)
    check_op(lambda lib, a: getattr(a, name)(0, keepdim=True), (3, 4), dtypes=(dtype,), low=-1, high=1)


def test_all_any_of_empty():
    assert tg.zeros(0).all().item() is True
    assert tg.zeros(0).any().item() is False


def test_all_any_not_differentiable():
    x = tg.randn(3, requires_grad=True)
    assert not x.all().requires_grad


# ---- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "all", "any", "var", "std", "logsumexp"])
def test_bad_dim_is_index_error(name):
    with pytest.raises(IndexError, match=rf"\[{name}\]"):
        getattr(tg.zeros(2, 3), name)(2)
    with pytest.raises(IndexError, match=rf"\[{name}\]"):
        getattr(tg.zeros(2, 3), name)((0, -3))


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin", "softmax", "log_softmax"])
def test_bad_single_dim_is_index_error(name):
    with pytest.raises(IndexError, match=rf"\[{name}\]"):
        getattr(tg.zeros(2, 3), name)(dim=5)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_empty_extremes_raise(name):
    with pytest.raises((RuntimeError, IndexError), match=rf"\[{name}\]"):
        getattr(tg.zeros(0, 3), name)()
    with pytest.raises(IndexError, match=rf"\[{name}\]"):
        getattr(tg.zeros(0, 3), name)(0)
    # Reducing a non-empty dim of an empty tensor is fine.
    result = getattr(tg.zeros(0, 3), name)(1)
    assert (result[0] if name in ("max", "min") else result).shape == (0,)


def test_dtype_errors():
    with pytest.raises(RuntimeError, match=r"\[mean\]"):
        tg.zeros(3, dtype=tg.int64).mean()
    with pytest.raises(RuntimeError, match=r"\[var\]"):
        tg.zeros(3, dtype=tg.int64).var()
    with pytest.raises(NotImplementedError, match=r"\[softmax\]"):
        tg.zeros(3, dtype=tg.int64).softmax(0)
    with pytest.raises(TypeError, match=r"\[log_softmax\]"):
        tg.log_softmax(tg.zeros(3), dim=1.5)


def test_repeated_dim_is_error():
    with pytest.raises(RuntimeError, match=r"\[sum\]"):
        tg.zeros(2, 3).sum((1, 1))


def test_prod_backward_is_saved_tensor_checked():
    x = tg.randn(3, requires_grad=True)
    y = x * 1
    out = y.prod()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="version"):
        out.backward()


def test_math_sanity():
    assert math.isclose(tg.tensor([1.0, 2.0, 3.0]).std().item(), 1.0)


# ---- the dim-wise kernels on views of any layout -------------------------------------------------
# arg_reduce and softmax read views in place (or a block at a time); each view below takes a
# different path: rows in place, a strided dim, inner dims that do not merge, stride 0.

def permuted(lib, a):
    return a.permute(2, 0, 1)  # (5, 3, 4) with no dim contiguous in order


def sliced(lib, a):
    return a[:, 1:, ::2]  # rows with a gap, inner elements strided


def expanded(lib, a):
    return a[:, :1, :].expand(3, 4, 5)  # stride 0 along dim 1


VIEWS = [permuted, sliced, expanded, lambda lib, a: a.transpose(0, 2)[1:], lambda lib, a: a[1]]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_dim_wise_kernels_on_views(view, dim):
    check_op(lambda lib, a: lib.softmax(view(lib, a), dim), (3, 4, 5))
    check_op(lambda lib, a: view(lib, a).log_softmax(dim), (3, 4, 5))
    check_op(lambda lib, a: view(lib, a).max(dim), (3, 4, 5))
    check_op(lambda lib, a: (view(lib, a).argmin(dim), view(lib, a).argmax(dim, keepdim=True)), (3, 4, 5), grad=False)
    check_op(lambda lib, a: view(lib, a).min(dim, keepdim=True), (3, 4, 5), dtypes=(tg.int32, tg.int64), grad=False)


@pytest.mark.parametrize("name", ["_softmax_backward_data", "_log_softmax_backward_data"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_softmax_backward_kernel_on_views(name, dim):
    # grad and output of any layout (each pair below holds the same values in a different layout),
    # among them an expanded gradient, as sum's backward gives.
    rng = np.random.default_rng(4)
    output = rng.uniform(0.1, 0.9, size=(4, 3, 5))
    grad = rng.normal(size=(4, 3, 5))
    layouts = [
        (lambda lib, g: g.permute(1, 0, 2).contiguous().permute(1, 0, 2),
         lambda lib, y: y.permute(2, 0, 1).contiguous().permute(1, 2, 0)),
        (lambda lib, g: g[:1].expand(4, 3, 5), lambda lib, y: y.transpose(0, 1).contiguous().transpose(0, 1)),
        (lambda lib, g: lib.cat([g, g], 2)[:, :, ::2], lambda lib, y: y),
    ]
    for make_grad, make_output in layouts:
        ours = getattr(tg._C, name)(make_grad(tg, tg.tensor(grad)), make_output(tg, tg.tensor(output)), dim)
        theirs = getattr(torch.ops.aten, name)(make_grad(torch, torch.tensor(grad)),
                                               make_output(torch, torch.tensor(output)), dim, torch.float64)
        assert_close(ours, theirs, 1e-10, 1e-8)
    check_op(lambda lib, a: (a.softmax(dim) * 2).sum(dim), (4, 3, 5))


def test_softmax_of_views_with_large_blocks_uses_threads():
    check_op(lambda lib, a: (a.t().softmax(1), a.t().log_softmax(0), a[:, ::3].softmax(0), a.t().argmax(1)),
             (300, 257), layouts=("contiguous",), grad=False)


def test_reduction_and_softmax_kernels_on_every_isa(isa):
    check_op(lambda lib, a: (a.sum(), a.sum(0), a.sum(1), a.softmax(1), a.log_softmax(0), a.softmax(-1).sum(1)),
             (37, 301), layouts=("contiguous", "transposed"))
    special = [[1000.0, 999.0, -1000.0, -np.inf], [88.0, -88.0, 0.0, 89.0], [np.nan, 1.0, 2.0, 3.0]]
    check_op(lambda lib, a: (a.softmax(1), a.log_softmax(1)), inputs=[special], grad=False,
             layouts=("contiguous", "transposed"))


# ---- mean(dtype=), errors as PyTorch's, einsum's integer sums ------------------------------------

def test_mean_dtype_argument():
    check_op(lambda lib, a: a.mean(dtype=lib.float64), (3, 4), dtypes=(tg.int32, tg.int64), grad=False)
    check_op(lambda lib, a: lib.mean(a, 1, keepdim=True, dtype=lib.float64), (3, 4))
    check_op(lambda lib, a: a.mean((0, 1), dtype=lib.float32), (3, 4), dtypes=(tg.float64,), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1, 2]).mean(),
    lambda lib: lib.tensor([1, 2]).mean(dtype=lib.int64),
    lambda lib: lib.tensor([1.0, 2.0]).mean(dtype=lib.int32),
    lambda lib: lib.tensor([1, 2]).var(),
    lambda lib: lib.tensor([1, 2]).std(0),
    lambda lib: lib.tensor([True]).argmax(),
    lambda lib: lib.tensor([True, False]).argmin(0),
    lambda lib: lib.zeros(0).argmax(),
    lambda lib: lib.zeros(0, 3).argmin(),
    lambda lib: lib.zeros(0, 3).argmax(0),
    lambda lib: lib.zeros(0, 3).max(0),
    lambda lib: lib.tensor([1, 2]).softmax(0),
    lambda lib: lib.tensor([1, 2]).log_softmax(0),
    lambda lib: lib.ones(2).softmax(0, dtype=lib.int64),
    lambda lib: lib.ones(2, 3).max(2),
    lambda lib: lib.ones(2, 3).sum(dim=(0, 0)),
])
def test_errors_match_torch(make):
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(expected.type, match=r"^\["):
        make(tg)


@pytest.mark.parametrize("equation, shapes", [
    ("ij->", [(2, 3)]), ("ij->i", [(2, 3)]), ("ij,jk->", [(2, 3), (3, 4)]), ("ij,j->j", [(2, 3), (3,)]),
    ("i,j->", [(2,), (3,)]), ("ii->", [(3, 3)]), ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]),
])
def test_einsum_sums_integers_to_int64(equation, shapes):
    # As sum does: a subscript summed out of one operand makes int64, as in PyTorch. (Products of
    # bool operands are not implemented, here as there.)
    dtypes = (tg.int32, tg.bool) if len(shapes) == 1 else (tg.int32,)
    check_op(lambda lib, *ops: lib.einsum(equation, *ops), *shapes, dtypes=dtypes, grad=False, layouts=("contiguous",))


@pytest.mark.parametrize("call", [
    lambda lib, a, dim: a.sum(dim),
    lambda lib, a, dim: a.sum((dim, 0)),
    lambda lib, a, dim: a.mean(dim=[dim]),
    lambda lib, a, dim: a.softmax(dim),
    lambda lib, a, dim: a.argmax(dim),
    lambda lib, a, dim: a.max(dim).values,
    lambda lib, a, dim: lib.logsumexp(a, dim),
])
def test_dims_given_as_numpy_integers(call):
    """Every reduction takes its dim arguments as the view ops do: any integer with __index__."""
    values = np.arange(12.0).reshape(3, 4)
    expected = call(torch, torch.tensor(values), np.int64(1))
    assert_close(call(tg, tg.tensor(values), np.int64(1)), expected, 1e-12, 1e-12)


@pytest.mark.parametrize("call", [lambda a: a.sum(1.0), lambda a: a.sum((0, "a")), lambda a: a.argmax(1.5)])
def test_dims_that_are_not_integers_are_refused(call):
    with pytest.raises(TypeError, match=r"argument 'dim' must be int"):
        call(tg.zeros(2, 3))


@pytest.mark.parametrize("reduction", [
    lambda x: x.max(), lambda x: x.min(), lambda x: x.amax(), lambda x: x.amin(), lambda x: x.amax(1),
    lambda x: x.amin(0), lambda x: x.max(1)[0], lambda x: x.min(0)[0],
], ids=["max", "min", "amax", "amin", "amax_dim", "amin_dim", "max_dim", "min_dim"])
@pytest.mark.parametrize("values", [[[1.0, math.nan, 3.0], [4.0, 5.0, math.nan]], [[math.nan, 2.0, 3.0], [4.0, 5.0, 6.0]]])
def test_extreme_gradients_with_nans_are_torchs(reduction, values):
    # The full max()/min() send the gradient to the NaNs (split between them); amax/amin give NaN
    # where a NaN won, as PyTorch's do; max(dim)/min(dim) send it to the NaN's index.
    ours, theirs = tg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    reduction(ours).sum().backward()
    reduction(theirs).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
