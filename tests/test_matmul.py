"""matmul, mm, bmm, dot, @, linear and einsum against PyTorch, and the GEMM under them on every
micro-kernel path this CPU has."""
import itertools
import threading

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import check_op, gradcheck_op

INTEGER = (tg.int64, tg.int32)


def linear_of(lib):
    return tg.linear if lib is tg else torch.nn.functional.linear


# ---- matmul with torch.matmul's rules ----------------------------------------------------------

MATMUL_SHAPES = [
    ((5,), (5,)),                  # dot: 0-dim result
    ((3, 5), (5,)),                # matrix · vector
    ((5,), (5, 4)),                # vector · matrix
    ((3, 5), (5, 4)),
    ((2, 3, 5), (5, 4)),           # batch · shared matrix: one folded GEMM
    ((3, 5), (2, 5, 4)),           # shared matrix · batch
    ((2, 3, 5), (2, 5, 4)),
    ((2, 1, 3, 5), (4, 5, 2)),     # broadcast batch dims
    ((1, 3, 5), (2, 5, 4)),
    ((5,), (2, 5, 4)),             # 1-D left against a batch
    ((2, 3, 5), (5,)),             # 1-D right against a batch
    ((3, 2, 3, 5), (5,)),
    ((1, 1), (1, 1)),              # one element
    ((1,), (1,)),
    ((1, 1, 1), (1, 1)),
]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES)
def test_matmul(shape_a, shape_b):
    check_op(lambda lib, a, b: lib.matmul(a, b), shape_a, shape_b)


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES)
def test_matmul_operator_and_method(shape_a, shape_b):
    check_op(lambda lib, a, b: a @ b + a.matmul(b), shape_a, shape_b, layouts=("contiguous", "transposed"))


@pytest.mark.parametrize("shape_a, shape_b", [
    ((0, 5), (5, 4)), ((3, 5), (5, 0)), ((3, 0), (0, 4)), ((0,), (0,)), ((2, 0, 5), (5, 4)),
    ((0, 3, 5), (0, 5, 4)), ((2, 3, 0), (0, 4)), ((0,), (0, 3)),
])
def test_matmul_zero_size(shape_a, shape_b):
    check_op(lambda lib, a, b: lib.matmul(a, b), shape_a, shape_b)


def test_matmul_empty_depth_gives_zeros():
    out = tg.matmul(tg.ones(3, 0), tg.ones(0, 4))
    assert out.shape == (3, 4) and not out.numpy().any()


@pytest.mark.parametrize("shape_a, shape_b", [((3, 5), (5, 4)), ((2, 3, 5), (2, 5, 4)), ((4, 5), (5,))])
def test_matmul_integer(shape_a, shape_b):
    check_op(lambda lib, a, b: lib.matmul(a, b), shape_a, shape_b, dtypes=INTEGER, low=-9, high=9)


def test_matmul_integer_overflow_wraps_like_torch():
    big = np.array([[2**62, 2**62]], dtype=np.int64)
    ours = tg.matmul(tg.tensor(big), tg.tensor(big.T.copy()))
    theirs = torch.matmul(torch.tensor(big), torch.tensor(big.T.copy()))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_rmatmul_and_not_implemented():
    a, b = tg.randn(3, 4), tg.randn(4, 2)
    np.testing.assert_allclose(b.__rmatmul__(a).numpy(), (a @ b).numpy())
    assert a.__matmul__(3) is NotImplemented
    with pytest.raises(TypeError):
        a @ 3
    with pytest.raises(TypeError, match=r"\[matmul\]"):
        tg.matmul(a, [[1.0]])


@pytest.mark.parametrize("layout_a, layout_b", list(itertools.product(["contiguous", "transposed", "sliced", "every_other"], repeat=2)))
def test_matmul_views(layout_a, layout_b):
    """Transposed, sliced and doubly strided operands (the GEMM reads the first two in place)."""
    def make(lib, data, layout):
        base = lib.tensor(data)
        if layout == "transposed":
            return lib.tensor(np.ascontiguousarray(data.T)).t()
        rows, cols = data.shape
        if layout == "sliced":
            return lib.tensor(np.pad(data, ((1, 0), (0, 3)))).narrow(0, 1, rows).narrow(1, 0, cols)
        if layout == "every_other":  # x[::2, ::2]
            spread = np.zeros((2 * rows, 2 * cols))
            spread[::2, ::2] = data
            return lib.tensor(spread).view(rows, 2, cols, 2).select(3, 0).select(1, 0)
        return base

    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((17, 33)), rng.standard_normal((33, 9))
    ours = tg.matmul(make(tg, a, layout_a), make(tg, b, layout_b))
    theirs = torch.matmul(make(torch, a, layout_a), make(torch, b, layout_b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_matmul_expanded_batch_operand():
    """A batch dim of stride 0 (expand) is read in place for every batch element."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((1, 4, 6)), rng.standard_normal((3, 6, 5))
    ours = tg.matmul(tg.tensor(a).expand(3, 4, 6), tg.tensor(b))
    np.testing.assert_allclose(ours.numpy(), a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_matmul_many_small_products_split_across_threads(threads):
    """A batch of products each too small for the GEMM's threads is split across threads instead."""
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((8, 12, 32, 48)), rng.standard_normal((12, 48, 40))
    previous = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        ours = tg.matmul(tg.tensor(a).transpose(-1, -2).contiguous().transpose(-1, -2), tg.tensor(b))
    finally:
        tg.set_num_threads(previous)
    np.testing.assert_allclose(ours.numpy(), a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)),
                                              ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3))])
def test_matmul_gradcheck(shape_a, shape_b):
    gradcheck_op(lambda lib, a, b: lib.matmul(a, b), shape_a, shape_b)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)),
                                              ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (3, 4, 2))])
def test_matmul_double_backward(shape_a, shape_b):
    """Gradients of a function of the first gradients, against torch's."""
    rng = np.random.default_rng(3)
    data = [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]
    results = {}
    for lib in (tg, torch):
        a, b = (lib.tensor(d, requires_grad=True) for d in data)
        out = lib.matmul(a, b)
        upstream = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        grad_a, grad_b = lib.autograd.grad((out * upstream).sum(), (a, b), create_graph=True)
        ((grad_a * grad_a).sum() + (grad_b * grad_a.sum()).sum()).backward()
        results[lib] = [t.detach().numpy() for t in (grad_a, grad_b, a.grad, b.grad)]
    for ours, theirs in zip(results[tg], results[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_matmul_grad_fn_names():
    a, b = tg.randn(3, 4, requires_grad=True), tg.randn(4, 2, requires_grad=True)
    assert "MmBackward0" in repr((a @ b).grad_fn)
    assert "MvBackward0" in repr((a @ b.select(1, 0)).grad_fn)
    assert "DotBackward0" in repr(tg.dot(a.select(0, 0), a.select(0, 1)).grad_fn)


def test_matmul_saved_operand_modified_in_place():
    a, b = tg.randn(3, 4, requires_grad=True), tg.randn(4, 2)
    out = a @ b
    b.mul_(2)
    with pytest.raises(RuntimeError):
        out.sum().backward()


# ---- mm, bmm, dot ------------------------------------------------------------------------------

def test_mm():
    check_op(lambda lib, a, b: lib.mm(a, b) + a.mm(b), (3, 5), (5, 4))


def test_bmm():
    check_op(lambda lib, a, b: lib.bmm(a, b) + a.bmm(b), (2, 3, 5), (2, 5, 4))


def test_dot():
    check_op(lambda lib, a, b: lib.dot(a, b) + a.dot(b), (7,), (7,))


# ---- errors ------------------------------------------------------------------------------------

def test_matmul_shape_mismatch_message():
    with pytest.raises(RuntimeError, match=r"^\[matmul\] shapes \(3, 4\) and \(5, 2\) cannot be multiplied \(4 != 5\)$"):
        tg.matmul(tg.ones(3, 4), tg.ones(5, 2))
    with pytest.raises(RuntimeError, match=r"\[matmul\] shapes \(3,\) and \(4,\) cannot be multiplied"):
        tg.ones(3) @ tg.ones(4)
    with pytest.raises(RuntimeError, match=r"\[matmul\]"):
        tg.matmul(tg.ones(2, 3, 4), tg.ones(3, 4, 2))  # batch 2 vs 3 does not broadcast


def test_matmul_zero_dim_operand():
    with pytest.raises(RuntimeError, match=r"\[matmul\] both arguments need to be at least 1-D"):
        tg.matmul(tg.ones(()), tg.ones(3))
    with pytest.raises(RuntimeError, match=r"\[matmul\]"):
        tg.ones(3) @ tg.ones(())


def test_matmul_dtype_mismatch():
    with pytest.raises(RuntimeError, match=r"\[matmul\] expected both operands to have the same dtype, got float32"):
        tg.ones(2, 2) @ tg.ones(2, 2, dtype=tg.float64)
    with pytest.raises(RuntimeError, match=r"\[mm\] expected both operands to have the same dtype"):
        tg.mm(tg.ones(2, 2, dtype=tg.int64), tg.ones(2, 2))
    with pytest.raises(NotImplementedError, match=r"\[matmul\] not implemented for bool"):
        tg.ones(2, 2, dtype=tg.bool) @ tg.ones(2, 2, dtype=tg.bool)


def test_mm_bmm_dot_errors():
    with pytest.raises(RuntimeError, match=r"\[mm\] expected two 2-D tensors"):
        tg.mm(tg.ones(2, 3, 4), tg.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"\[bmm\] expected two 3-D tensors"):
        tg.bmm(tg.ones(3, 4), tg.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"\[bmm\] batch sizes differ"):
        tg.bmm(tg.ones(2, 3, 4), tg.ones(1, 4, 2))
    with pytest.raises(RuntimeError, match=r"\[dot\] expected two 1-D tensors"):
        tg.dot(tg.ones(2, 2), tg.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"\[dot\] inconsistent tensor sizes"):
        tg.dot(tg.ones(3), tg.ones(4))


# ---- linear ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape_x, shape_w, shape_b", [
    ((4, 5), (3, 5), (3,)),
    ((2, 4, 5), (3, 5), (3,)),       # batched input: one GEMM over all rows
    ((5,), (3, 5), (3,)),
    ((4, 5), (3, 5), (4, 3)),        # a bias of the output's full shape
    ((4, 5), (3, 5), ()),
    ((0, 5), (3, 5), (3,)),
    ((4, 0), (3, 0), (3,)),          # no input features: the output is the bias
    ((4, 5), (1, 5), (1,)),
])
def test_linear_with_bias(shape_x, shape_w, shape_b):
    check_op(lambda lib, x, w, b: linear_of(lib)(x, w, b), shape_x, shape_w, shape_b)


@pytest.mark.parametrize("shape_x, shape_w", [((4, 5), (3, 5)), ((2, 4, 5), (3, 5)), ((5,), (3, 5)), ((4, 5), (5,))])
def test_linear_without_bias(shape_x, shape_w):
    check_op(lambda lib, x, w: linear_of(lib)(x, w), shape_x, shape_w)


def test_linear_mlp_shapes():
    check_op(lambda lib, x, w, b: lib.relu(linear_of(lib)(x, w, b)), (128, 784), (128, 784), (128,),
             layouts=("contiguous",), atol=1e-4)


def test_linear_integer():
    check_op(lambda lib, x, w, b: linear_of(lib)(x, w, b), (4, 5), (3, 5), (3,), dtypes=INTEGER, low=-9, high=9)


def test_linear_gradcheck_and_double_backward():
    gradcheck_op(lambda lib, x, w, b: linear_of(lib)(x, w, b), (2, 3, 4), (5, 4), (5,))
    rng = np.random.default_rng(4)
    data = [rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)]
    results = {}
    for lib in (tg, torch):
        x, w, b = (lib.tensor(d, requires_grad=True) for d in data)
        out = linear_of(lib)(x, w, b)
        grads = lib.autograd.grad((out * out).sum(), (x, w, b), create_graph=True)
        sum(g.sum() * g.sum() for g in grads).backward()
        results[lib] = [t.detach().numpy() for t in (*grads, x.grad, w.grad, b.grad)]
    for ours, theirs in zip(results[tg], results[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_linear_grad_fn_and_bias_gradient():
    x, w, b = tg.randn(4, 3), tg.randn(2, 3, requires_grad=True), tg.randn(2, requires_grad=True)
    out = tg.linear(x, w, b)
    assert "AddmmBackward0" in repr(out.grad_fn)
    out.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 4.0])
    assert x.grad is None


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"\[linear\] input shape \(4, 5\) and weight shape \(3, 6\) cannot be multiplied \(5 != 6\)"):
        tg.linear(tg.ones(4, 5), tg.ones(3, 6))
    with pytest.raises(RuntimeError, match=r"\[linear\] bias of shape \(4,\)"):
        tg.linear(tg.ones(4, 5), tg.ones(3, 5), tg.ones(4))
    with pytest.raises(RuntimeError, match=r"\[linear\] expected both operands to have the same dtype"):
        tg.linear(tg.ones(4, 5), tg.ones(3, 5), tg.ones(3, dtype=tg.float64))
    with pytest.raises(RuntimeError, match=r"\[linear\] weight must be 1-D or 2-D"):
        tg.linear(tg.ones(4, 5), tg.ones(1, 3, 5))
    with pytest.raises(TypeError, match=r"\[linear\] expected a tensor"):
        tg.linear(tg.ones(4, 5), "w")


# ---- einsum ------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),            # implicit output
    ("bi,bj->ij", [(6, 3), (6, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),              # outer product
    ("ij,ij->i", [(3, 4), (3, 4)]),         # batched dot
    ("ij,j->i", [(3, 4), (4,)]),
    ("bhij,bhjk->bhik", [(2, 2, 3, 4), (2, 2, 4, 3)]),
    ("ik,jkl->ijl", [(3, 4), (2, 4, 5)]),   # a left-only dim summed away before the product
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("b...i,b...i->b...", [(2, 3, 4), (2, 3, 4)]),
    ("...ij,...jk->ik", [(2, 3, 4), (1, 4, 5)]),   # broadcast ellipsis dims, summed in the output
    ("ij->ji", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),                        # trace
    ("iij->ji", [(3, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES)
def test_einsum(equation, shapes):
    check_op(lambda lib, *operands: lib.einsum(equation, *operands), *shapes, layouts=("contiguous", "transposed"))


def test_einsum_list_form_and_gradcheck():
    a, b = tg.randn(3, 4), tg.randn(4, 2)
    np.testing.assert_allclose(tg.einsum("ij,jk->ik", [a, b]).numpy(), (a @ b).numpy(), rtol=1e-6)
    gradcheck_op(lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b), (2, 3, 4), (2, 4, 2))
    gradcheck_op(lambda lib, a: lib.einsum("ii->i", a), (3, 3))


def test_einsum_errors():
    with pytest.raises(RuntimeError, match=r"\[einsum\] equation 'ij,jk->ik': it names 2 operands but 1 were given"):
        tg.einsum("ij,jk->ik", tg.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"\[einsum\] .*operand 0 has shape \(2, 2, 2\)"):
        tg.einsum("ij->i", tg.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match=r"\[einsum\] .*invalid subscript '1'"):
        tg.einsum("i1->i", tg.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"\[einsum\] .*subscript 'j' has size 3 in one operand and 4"):
        tg.einsum("ij,jk->ik", tg.ones(2, 3), tg.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"\[einsum\] .*output subscript 'k' is not in any input"):
        tg.einsum("ij->k", tg.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"\[einsum\] .*output subscript 'i' appears more than once"):
        tg.einsum("ij->ii", tg.ones(2, 3))


# ---- the GEMM on every micro-kernel path (the `isa` fixture is in conftest.py) -------------------

def operand(data, transposed, dtype):
    """A tapegrad tensor equal to data, row-major or a transposed view of a column-major copy."""
    if transposed:
        return tg.tensor(np.ascontiguousarray(data.T), dtype=dtype).t()
    return tg.tensor(data, dtype=dtype)


def check_gemm(m, n, k, transpose_a, transpose_b, dtype, rng):
    a, b = rng.uniform(-1, 1, (m, k)), rng.uniform(-1, 1, (k, n))
    ours = tg.matmul(operand(a, transpose_a, dtype), operand(b, transpose_b, dtype)).numpy().astype(np.float64)
    expected = a.astype(np.float32 if dtype == tg.float32 else np.float64).astype(np.float64)
    expected = expected @ b.astype(np.float32 if dtype == tg.float32 else np.float64).astype(np.float64)
    # Rounding error of a k-term dot product is at most about k·u·(|a|·|b|), u the unit roundoff.
    unit = 2.0 ** -24 if dtype == tg.float32 else 2.0 ** -53
    bound = 2 * max(k, 1) * unit * (np.abs(a) @ np.abs(b)) + 1e-300
    error = np.abs(ours - expected)
    worst = np.unravel_index(np.argmax(error - bound), error.shape) if error.size else None
    assert error.size == 0 or np.all(error <= bound), (
        f"{m}x{n}x{k} transposes {transpose_a},{transpose_b} {dtype}: error {error[worst]} > bound {bound[worst]} at {worst}")


GEMM_SIZES = (1, 7, 17, 63, 65, 129, 257)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_gemm_sizes_and_transposes(isa, dtype):
    rng = np.random.default_rng(5)
    for (m, n, k), transpose_a, transpose_b in itertools.product(
            itertools.product((1, 7, 17, 65, 129), repeat=3), (False, True), (False, True)):
        check_gemm(m, n, k, transpose_a, transpose_b, dtype, rng)
    for size in GEMM_SIZES:
        check_gemm(size, size, size, False, False, dtype, rng)
        check_gemm(size, size, size, True, True, dtype, rng)


@pytest.mark.parametrize("m, n, k", [(1000, 7, 3), (7, 1000, 3), (3, 7, 1000), (1000, 1, 257), (1, 1000, 257),
                                     (257, 257, 1), (600, 513, 700)])
def test_gemm_tall_skinny_and_deep(isa, m, n, k):
    rng = np.random.default_rng(6)
    for dtype, (transpose_a, transpose_b) in itertools.product((tg.float32, tg.float64), [(False, False), (True, True), (False, True)]):
        check_gemm(m, n, k, transpose_a, transpose_b, dtype, rng)


def test_gemm_1000_once(isa):
    check_gemm(1000, 1000, 1000, False, True, tg.float32, np.random.default_rng(7))


def test_gemm_mlp_backward_shapes(isa):
    """The 784-128-10 MLP's products at batch 128, with the operand layouts backward uses."""
    rng = np.random.default_rng(8)
    for (m, n, k), transposes in [((128, 128, 784), (False, True)), ((128, 10, 128), (False, True)),
                                  ((128, 128, 10), (False, False)), ((10, 128, 128), (True, False)),
                                  ((128, 784, 128), (False, False)), ((128, 784, 128), (True, False))]:
        check_gemm(m, n, k, *transposes, tg.float32, rng)


@pytest.mark.parametrize("threads", [1, 2])
def test_gemm_shallow_products_split_by_rows(isa, threads):
    """Products of depth <= 16 with a large C (at batch 1 a weight's gradient is the outer product
    x^T·g) split C's rows across threads as an elementwise op would: every range, the uneven last
    one included, and the accumulating (beta = 1) path must come out right."""
    rng = np.random.default_rng(10)
    previous = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        for (m, n, k), transposes in itertools.product([(784, 128, 1), (1001, 129, 3), (257, 300, 16), (5, 30011, 2)],
                                                       [(False, False), (True, True), (True, False)]):
            check_gemm(m, n, k, *transposes, tg.float32, rng)
        x, w, b = rng.standard_normal((1001, 3)), rng.standard_normal((129, 3)), rng.standard_normal(129)
        ours = tg.linear(tg.tensor(x), tg.tensor(w), tg.tensor(b))
    finally:
        tg.set_num_threads(previous)
    np.testing.assert_allclose(ours.numpy(), x @ w.T + b, rtol=1e-12, atol=1e-12)


def test_gemm_accumulates_onto_the_bias(isa):
    """linear's beta = 1 path on each kernel, at an edge-tile size."""
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((37, 70)), rng.standard_normal((45, 70)), rng.standard_normal(45)
    ours = tg.linear(tg.tensor(x), tg.tensor(w), tg.tensor(b))
    np.testing.assert_allclose(ours.numpy(), x @ w.T + b, rtol=1e-12, atol=1e-12)


def test_set_cpu_isa_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"\[_set_cpu_isa\] unknown instruction set 'sse9'"):
        tg._C._set_cpu_isa("sse9")


def test_large_products_in_threads():
    """Large products run without the GIL; several threads at once must each get the right result."""
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((200, 150)), rng.standard_normal((150, 120))
    expected = a @ b
    results = [None] * 4

    def work(slot):
        results[slot] = tg.matmul(tg.tensor(a), tg.tensor(b)).numpy()

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 5), (5, 4)), ((13, 40), (40, 33)), ((2, 40), (40, 70))])
def test_matmul_nan_and_inf_propagate(shape_a, shape_b):
    rng = np.random.default_rng(12)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a[1, 2], b[3, 1], b[0, 2] = np.nan, np.inf, -np.inf
    check_op(lambda lib, a, b: lib.matmul(a, b), inputs=(a, b), grad=False, layouts=("contiguous", "transposed"))


@pytest.mark.parametrize("equation", ["ij->ij", "ij", "ij,jk,kl->il", "...ij,jk,k"])
def test_einsum_operand_count_mismatch_is_an_einsum_error(equation):
    # The GIL-release estimate reads the equation with einsum's own parser, so a mismatch is
    # einsum's error there too, not a failure of the estimate.
    with pytest.raises(RuntimeError, match=r"^\[einsum\] equation .* operands but 2 were given$"):
        tg.einsum(equation, tg.ones(2, 3), tg.ones(3, 4))


def test_einsum_large_products_agree_with_small_ones():
    # Big enough for the estimate to release the GIL.
    a, b = tg.rand(256, 64), tg.rand(64, 256)
    assert tg.allclose(tg.einsum("ij,jk->ik", a, b), a @ b, atol=1e-4)


def test_einsum_with_more_operands_than_its_equation_names_is_an_einsum_error():
    a, b, c = tg.ones(2, 3), tg.ones(3, 4), tg.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"^\[einsum\] equation 'ij,jk->ik': it names 2 operands but 3 were given$"):
        tg.einsum("ij,jk->ik", a, b, c)
