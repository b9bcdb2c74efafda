"""The tensor ops of issue #14 against PyTorch: scatter/gather family, sorting and scans, the
rearranging copies and views, norms, the composed pointwise ops and the new_* constructors."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close, check_op, gradcheck_op

NO_EXPAND = ("contiguous", "transposed", "strided")


def node_name(tensor):
    fn = tensor.grad_fn
    return fn.name() if isinstance(fn, tg.Node) else type(fn).__name__


def same_node(fn, *shapes, seed=0):
    """fn's output has the grad_fn torch's has."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, size=s) for s in shapes]
    ours = fn(tg, *[tg.tensor(a, requires_grad=True) for a in arrays])
    theirs = fn(torch, *[torch.tensor(a, requires_grad=True) for a in arrays])
    ours = ours[0] if isinstance(ours, (tuple, list)) else ours
    theirs = theirs[0] if isinstance(theirs, (tuple, list)) else theirs
    assert node_name(ours) == node_name(theirs)


# ---- scatter, gather, index_add, masked_select, take_along_dim --------------------------------------

def test_scatter():
    index = lambda lib: lib.tensor([[0, 1, 2, 0], [2, 0, 1, 1]])  # noqa: E731  (no place twice in a column)
    check_op(lambda lib, a, s: a.scatter(0, index(lib)[:1], s[:1]), (3, 4), (3, 4))
    check_op(lambda lib, a: a.scatter(1, lib.tensor([[3, 0], [1, 2], [0, 0]])[:, :1], 2.5), (3, 4))
    check_op(lambda lib, a, s: lib.scatter(a, -1, lib.tensor([[2], [0], [1]]), s), (3, 4), (3, 1))
    check_op(lambda lib, a: a.scatter(0, lib.tensor([[0, 1, 2, 0]]), value=-1.0), (3, 4), dtypes=(tg.int64, tg.float32))
    gradcheck_op(lambda lib, a, s: a.scatter(1, lib.tensor([[1, 0], [2, 3]]), s), (2, 4), (2, 2))
    same_node(lambda lib, a, s: a.scatter(0, lib.tensor([[0, 1, 2]]), s), (3, 3), (1, 3))
    same_node(lambda lib, a: a.scatter(0, lib.tensor([[0, 1, 2]]), 1.0), (3, 3))


def test_scatter_add():
    index = lambda lib: lib.tensor([[0, 1, 2, 0], [2, 0, 0, 0]])  # noqa: E731  (repeated places sum)
    check_op(lambda lib, a, s: a.scatter_add(0, index(lib), s), (3, 4), (2, 4))
    check_op(lambda lib, a, s: lib.scatter_add(a, 1, lib.tensor([[0, 0, 3]]), s), (2, 4), (1, 3))
    check_op(lambda lib, a, s: a.scatter_add(0, index(lib), s), (3, 4), (2, 4), dtypes=(tg.int64, tg.int32))
    check_op(lambda lib, a, s: a.scatter(0, index(lib), s, reduce="add"), (3, 4), (2, 4), grad=False)
    gradcheck_op(lambda lib, a, s: a.scatter_add(0, lib.tensor([[0, 0], [1, 0]]), s), (2, 2), (2, 2))
    same_node(lambda lib, a, s: a.scatter_add(0, lib.tensor([[0, 0, 1]]), s), (2, 3), (1, 3))


def test_scatter_in_place():
    for lib in (tg, torch):
        x = lib.zeros(3, 4)
        x.scatter_(1, lib.tensor([[1], [0], [3]]), lib.ones(3, 1))
        x.scatter_add_(0, lib.tensor([[0, 0, 0, 0]]), lib.full((1, 4), 2.0))
        x.scatter_(0, lib.tensor([[2]]), 7.0)
        if lib is tg:
            ours = x.numpy()
        else:
            np.testing.assert_array_equal(ours, x.numpy())
    a, b = tg.ones(2, 3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    ya, yb = a * 2, b * 2
    ya.scatter_(0, tg.tensor([[1, 0, 1]]), tg.zeros(1, 3))
    yb.scatter_(0, torch.tensor([[1, 0, 1]]), torch.zeros(1, 3))
    assert node_name(ya) == node_name(yb) == "ScatterBackward0"
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_scatter_zero_size_and_0_dim():
    check_op(lambda lib, a, s: a.scatter(0, lib.zeros(0, 4, dtype=lib.int64), s), (3, 4), (1, 4))
    for lib in (tg, torch):
        got = lib.tensor(1.0).scatter(0, lib.tensor(0), lib.tensor(5.0))
        assert got.item() == 5.0 and got.dim() == 0


@pytest.mark.parametrize("op", ["scatter", "scatter_add", "gather"])
def test_scatter_errors(op):
    call = {"scatter": lambda x, i: x.scatter(0, i, tg.ones(2, 4)),
            "scatter_add": lambda x, i: x.scatter_add(0, i, tg.ones(2, 4)),
            "gather": lambda x, i: x.gather(0, i)}[op]
    x = tg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=rf"\[{op}\].*out of bounds for dimension 0 with size 3"):
        call(x, tg.tensor([[5, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match=rf"\[{op}\].*out of bounds"):
        call(x, tg.tensor([[-1, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match=rf"\[{op}\].*same number of dimensions"):
        call(x, tg.tensor([0, 1]))
    with pytest.raises(IndexError, match=rf"\[{op}\].*int64"):
        call(x, tg.tensor([[0.0, 1.0, 0.0, 0.0]]))
    if op != "gather":
        with pytest.raises(RuntimeError, match=rf"\[{op}\].*no larger than self \(3, 4\)"):
            call(x, tg.zeros(1, 5, dtype=tg.int64))
        with pytest.raises(RuntimeError, match=rf"\[{op}\].*dtype"):
            getattr(x, op)(0, tg.tensor([[0]]), tg.ones(1, 1, dtype=tg.float64))


def test_gather_node_and_take_along_dim():
    same_node(lambda lib, a: a.gather(1, lib.tensor([[0, 0], [1, 0]])), (2, 3))
    check_op(lambda lib, a: lib.take_along_dim(a, lib.tensor([[0], [2], [1]]), 1), (3, 4))
    check_op(lambda lib, a: lib.take_along_dim(a, lib.tensor([[0, 1, 2, 0]]), 0), (3, 4))
    check_op(lambda lib, a: a.take_along_dim(lib.tensor([[0, 1]]), dim=-1), (3, 4))  # broadcast over rows
    # PyTorch's dim=None form views the input flat, so it refuses the other layouts.
    check_op(lambda lib, a: lib.take_along_dim(a, lib.tensor([0, 11, 5])), (3, 4), layouts=("contiguous",))
    check_op(lambda lib, a: lib.take_along_dim(a, a.argsort(dim=0, stable=True), 0), (3, 4), layouts=NO_EXPAND)
    gradcheck_op(lambda lib, a: lib.take_along_dim(a, lib.tensor([[1], [1]]), 1), (2, 3))
    same_node(lambda lib, a: lib.take_along_dim(a, lib.tensor([[0], [1]]), 1), (2, 3))


def test_index_add():
    check_op(lambda lib, a, s: a.index_add(0, lib.tensor([0, 2, 0]), s), (3, 4), (3, 4))
    check_op(lambda lib, a, s: lib.index_add(a, -1, lib.tensor([3, 1]), s, alpha=2.5), (3, 4), (3, 2))
    check_op(lambda lib, a, s: a.index_add(1, lib.tensor([0, 0]), s, alpha=3), (2, 3), (2, 2), dtypes=(tg.int64,))
    check_op(lambda lib, a, s: a.index_add(0, lib.tensor([], dtype=lib.int64), s), (3, 4), (0, 4))
    gradcheck_op(lambda lib, a, s: a.index_add(0, lib.tensor([1, 1]), s, alpha=-2), (2, 3), (2, 3))
    same_node(lambda lib, a, s: a.index_add(0, lib.tensor([1]), s), (2, 3), (1, 3))
    for lib in (tg, torch):
        x = lib.zeros(3)
        x.index_add_(0, lib.tensor([2, 2]), lib.ones(2), alpha=2)
        assert x.tolist() == [0.0, 0.0, 4.0]
    with pytest.raises(RuntimeError, match=r"\[index_add_\].*source tensor shape must match.*\(3, 4\).*\(2, 3\)"):
        tg.zeros(3, 4).index_add(0, tg.tensor([0, 0]), tg.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"\[index_add_\].*out of bounds"):
        tg.zeros(3, 4).index_add(0, tg.tensor([0, 5]), tg.ones(2, 4))
    with pytest.raises(IndexError, match=r"\[index_add_\].*vector"):
        tg.zeros(3, 4).index_add(1, tg.tensor([[0, 1]]), tg.ones(3, 2))


def test_index_select_node():
    same_node(lambda lib, a: a.index_select(0, lib.tensor([1, 1, 0])), (2, 3))
    gradcheck_op(lambda lib, a: a.index_select(1, lib.tensor([2, 0, 2])), (2, 3))


def test_masked_select():
    check_op(lambda lib, a: a.masked_select(a > 0), (3, 4), layouts=NO_EXPAND)
    check_op(lambda lib, a: lib.masked_select(a, lib.tensor([True, False, True, True])), (3, 4))
    check_op(lambda lib, a: a.masked_select(lib.tensor([[True], [False], [True]])), (3, 4), dtypes=(tg.int64,))
    check_op(lambda lib, a: a.masked_select(a > 10), (0, 4))
    check_op(lambda lib, a: a.masked_select(lib.tensor(True)), ())
    gradcheck_op(lambda lib, a: a[0].masked_select(lib.tensor([[True, False], [True, True]])), (2, 2))
    same_node(lambda lib, a: a.masked_select(a > 0), (3, 4))
    with pytest.raises(RuntimeError, match=r"\[masked_select\].*bool"):
        tg.zeros(3, 4).masked_select(tg.ones(4))
    with pytest.raises(RuntimeError, match=r"\[masked_select\]"):
        tg.zeros(3, 4).masked_select(tg.ones(5, dtype=tg.bool))


# ---- sort, argsort, topk, cumsum, cumprod ------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(dim, descending):
    # stable=True on both sides: the indices of ties (the expanded layout) agree too.
    check_op(lambda lib, a: a.sort(dim=dim, descending=descending, stable=True), (3, 5))
    check_op(lambda lib, a: lib.sort(a, dim=dim, descending=descending, stable=True), (4, 3), dtypes=(tg.int64, tg.int32))
    check_op(lambda lib, a: a.argsort(dim=dim, descending=descending, stable=True), (3, 5), grad=False)


def test_sort_special_values():
    values = [3.0, float("nan"), -1.0, float("inf"), 3.0, -float("inf"), 0.0, float("nan")]
    for descending in (False, True):
        ours = tg.tensor(values).sort(descending=descending, stable=True)
        theirs = torch.tensor(values).sort(descending=descending, stable=True)
        assert_close(ours.values, theirs.values, 0, 0)
        assert ours.indices.tolist() == theirs.indices.tolist()
    ours = tg.tensor([True, False, True]).sort()
    assert ours.values.tolist() == [False, True, True] and ours.indices.tolist() == [1, 0, 2]


def test_sort_shapes_and_nodes():
    check_op(lambda lib, a: a.sort(dim=0, stable=True), (0, 3))
    check_op(lambda lib, a: a.sort(stable=True), ())
    gradcheck_op(lambda lib, a: a.sort(1, descending=True).values, (3, 4))
    same_node(lambda lib, a: a.sort(), (3, 4))
    assert type(tg.ones(2).sort()).__name__ == "sort" and tg.ones(2).sort()._fields == ("values", "indices")
    with pytest.raises(IndexError, match=r"\[sort\]"):
        tg.zeros(2, 3).sort(2)


@pytest.mark.parametrize("k, dim, largest", [(2, -1, True), (1, 0, False), (3, 1, False), (0, 1, True), (4, -1, True)])
def test_topk(k, dim, largest):
    # Random values are distinct, so the indices are defined.
    check_op(lambda lib, a: a.topk(k, dim, largest=largest), (3, 4), layouts=NO_EXPAND)
    check_op(lambda lib, a: lib.topk(a, k, dim=dim, largest=largest), (3, 4), dtypes=(tg.int64,), layouts=("contiguous",),
             inputs=[np.random.default_rng(1).permutation(12).reshape(3, 4)])


def test_topk_nodes_and_errors():
    gradcheck_op(lambda lib, a: a.topk(2, 0).values, (3, 4))
    same_node(lambda lib, a: a.topk(2), (3, 4))
    assert type(tg.ones(3).topk(1)).__name__ == "topk"
    # Values of ties agree whichever indices are returned.
    ours, theirs = tg.tensor([1.0, 3.0, 3.0, 2.0]).topk(2), torch.tensor([1.0, 3.0, 3.0, 2.0]).topk(2)
    assert ours.values.tolist() == theirs.values.tolist()
    with pytest.raises(RuntimeError, match=r"\[topk\].*k out of range.*k = 5"):
        tg.zeros(3, 4).topk(5)
    with pytest.raises(RuntimeError, match=r"\[topk\].*bool"):
        tg.ones(3, dtype=tg.bool).topk(1)


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_cumulative(op):
    check_op(lambda lib, a: getattr(a, op)(1), (3, 5))
    check_op(lambda lib, a: getattr(lib, op)(a, dim=-2), (4, 3))
    check_op(lambda lib, a: getattr(a, op)(0), (3, 4), dtypes=(tg.int64, tg.int32, tg.bool), low=-3, high=3)
    check_op(lambda lib, a: getattr(a, op)(0, dtype=lib.float64), (3, 4), dtypes=(tg.float32, tg.int64))
    check_op(lambda lib, a: getattr(a, op)(0), (0, 3))
    check_op(lambda lib, a: getattr(a, op)(0), ())
    gradcheck_op(lambda lib, a: getattr(a, op)(1), (2, 5))
    same_node(lambda lib, a: getattr(a, op)(0), (3, 4))
    with pytest.raises(IndexError, match=rf"\[{op}\]"):
        getattr(tg.zeros(2, 3), op)(2)


def test_cumprod_gradient_with_zeros():
    # One zero, two zeros, a zero first and last: PyTorch's special cases, exact here.
    rows = [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 4.0], [0.5, 1.5, -2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    check_op(lambda lib, a: a.cumprod(1), inputs=[np.array(rows)], layouts=NO_EXPAND)
    check_op(lambda lib, a: a.cumprod(0), inputs=[np.array(rows)], layouts=NO_EXPAND)
    x = tg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad(x.cumprod(0).sum(), [x])
    with pytest.raises(NotImplementedError, match="CumprodBackward0.*double backward"):
        tg.autograd.grad(x.cumprod(0).sum(), [x], create_graph=True)
    assert g.tolist() == [1.0, 3.0, 0.0]


def test_cumsum_double_backward():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = tg.autograd.grad((x.cumsum(0) ** 2).sum(), [x], create_graph=True)
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (gt,) = torch.autograd.grad((xt.cumsum(0) ** 2).sum(), [xt], create_graph=True)
    np.testing.assert_allclose(tg.autograd.grad(g.sum(), [x])[0].numpy(), torch.autograd.grad(gt.sum(), [xt])[0].numpy())


# ---- flip, roll, repeat, tile, repeat_interleave -------------------------------------------------------

def test_flip_and_roll():
    check_op(lambda lib, a: a.flip(0), (3, 4))
    check_op(lambda lib, a: lib.flip(a, (0, -1)), (3, 4), dtypes=(tg.float32, tg.int64, tg.bool))
    check_op(lambda lib, a: a.flip(1, 2), (2, 3, 4))
    check_op(lambda lib, a: (a.flip(dims=(0,)), a.flip([1])), (2, 3))
    check_op(lambda lib, a: (lib.fliplr(a), lib.flipud(a)), (3, 4))
    check_op(lambda lib, a: a.flip(0), (0, 3))
    check_op(lambda lib, a: a.roll(1, 0), (3, 4))
    check_op(lambda lib, a: lib.roll(a, (-5, 2), (1, 0)), (3, 4), dtypes=(tg.float64, tg.int32))
    check_op(lambda lib, a: a.roll(7), (3, 4))
    check_op(lambda lib, a: a.roll((1, 1), (0, 0)), (3, 4))
    check_op(lambda lib, a: a.roll(2, 1), (2, 0))
    gradcheck_op(lambda lib, a: a.flip(1).roll(2, 0), (3, 2))
    for fn in (lambda lib, a: a.flip(0), lambda lib, a: a.roll(1, 1), lambda lib, a: a.roll(3)):
        same_node(fn, (3, 4))
    with pytest.raises(RuntimeError, match=r"\[flip\].*repeat|\[flip\]"):
        tg.zeros(2, 3).flip(0, 0)
    with pytest.raises(RuntimeError, match=r"\[roll\].*same length"):
        tg.zeros(2, 3).roll((1, 2), 0)


def test_repeat_and_tile():
    check_op(lambda lib, a: a.repeat(2, 3), (2, 3))
    check_op(lambda lib, a: a.repeat(2, 1, 3), (2, 3), dtypes=(tg.float32, tg.float64, tg.int64))
    check_op(lambda lib, a: a.repeat((1, 0)), (2, 3))
    check_op(lambda lib, a: a.repeat(3), ())
    check_op(lambda lib, a: a.tile(2), (2, 3))
    check_op(lambda lib, a: lib.tile(a, (2, 1, 2)), (2, 3))
    gradcheck_op(lambda lib, a: a.repeat(2, 1, 2), (2, 3))
    same_node(lambda lib, a: a.repeat(2, 2), (2, 3))
    same_node(lambda lib, a: a.tile((2,)), (2, 3))
    with pytest.raises(RuntimeError, match=r"\[repeat\].*can not be smaller"):
        tg.zeros(2, 3).repeat(2)


def test_repeat_interleave():
    check_op(lambda lib, a: a.repeat_interleave(2), (2, 3))
    check_op(lambda lib, a: a.repeat_interleave(3, dim=1), (2, 3), dtypes=(tg.float32, tg.int64))
    check_op(lambda lib, a: lib.repeat_interleave(a, lib.tensor([1, 0, 2]), dim=-1), (2, 3))
    check_op(lambda lib, a: a.repeat_interleave(lib.tensor(2), dim=0), (2, 3))
    check_op(lambda lib, a: a.repeat_interleave(0, dim=0), (2, 3))
    gradcheck_op(lambda lib, a: a.repeat_interleave(lib.tensor([2, 1]), dim=0), (2, 3))
    same_node(lambda lib, a: a.repeat_interleave(2, dim=1), (2, 3))
    same_node(lambda lib, a: a.repeat_interleave(torch.tensor([1, 2]) if lib is torch else tg.tensor([1, 2]), dim=0), (2, 3))
    assert tg.repeat_interleave(tg.tensor([2, 0, 1])).tolist() == torch.repeat_interleave(torch.tensor([2, 0, 1])).tolist()
    with pytest.raises(RuntimeError, match=r"\[repeat_interleave\].*same size"):
        tg.zeros(2, 3).repeat_interleave(tg.tensor([1, 2]), dim=1)
    with pytest.raises(RuntimeError, match=r"\[repeat_interleave\].*negative"):
        tg.zeros(2, 3).repeat_interleave(tg.tensor([1, -1]), dim=0)


# ---- tril, triu, diag ---------------------------------------------------------------------------------

@pytest.mark.parametrize("diagonal", [0, 1, -1, 5, -5])
def test_triangles(diagonal):
    check_op(lambda lib, a: (a.tril(diagonal), lib.triu(a, diagonal=diagonal)), (3, 4))
    check_op(lambda lib, a: (lib.tril(a, diagonal), a.triu(diagonal)), (2, 4, 3), dtypes=(tg.float32, tg.int64, tg.bool))
    check_op(lambda lib, a: a.tril(diagonal), (0, 3))


def test_triangle_nodes_and_errors():
    gradcheck_op(lambda lib, a: a.tril(-1) + a.triu(1), (3, 3))
    same_node(lambda lib, a: a.tril(), (3, 3))
    same_node(lambda lib, a: a.triu(), (3, 3))
    with pytest.raises(RuntimeError, match=r"\[tril\].*at least 2 dimensions.*\(3,\)|\[tril\].*at least 2"):
        tg.zeros(3).tril()


@pytest.mark.parametrize("diagonal", [0, 1, -2, 4])
def test_diag(diagonal):
    check_op(lambda lib, a: lib.diag(a, diagonal), (3,))
    check_op(lambda lib, a: a.diag(diagonal), (3, 4))
    check_op(lambda lib, a: lib.diag(a, diagonal), (4, 3), dtypes=(tg.int64,))
    gradcheck_op(lambda lib, a: lib.diag(a, diagonal), (3,))
    gradcheck_op(lambda lib, a: lib.diag(a, diagonal), (3, 4))


def test_diag_nodes_and_errors():
    same_node(lambda lib, a: lib.diag(a), (3,))
    same_node(lambda lib, a: lib.diag(a), (3, 3))
    check_op(lambda lib, a: lib.diag(a), (0,))
    with pytest.raises(RuntimeError, match=r"\[diag\].*1-D or 2-D"):
        tg.diag(tg.zeros(2, 2, 2))


# ---- unbind, unflatten, movedim, the *stack family, meshgrid ----------------------------------------

def test_unbind_unflatten_movedim():
    check_op(lambda lib, a: a.unbind(), (3, 4))
    check_op(lambda lib, a: lib.unbind(a, dim=-1), (3, 4))
    check_op(lambda lib, a: a.unflatten(1, (2, -1)), (3, 4))
    check_op(lambda lib, a: lib.unflatten(a, -1, (1, 4, 1)), (3, 4))
    check_op(lambda lib, a: a.movedim(0, -1), (2, 3, 4))
    check_op(lambda lib, a: lib.movedim(a, (0, 1), (2, 0)), (2, 3, 4))
    check_op(lambda lib, a: lib.moveaxis(a, -1, 0), (2, 3, 4))
    same_node(lambda lib, a: a.unbind(1), (3, 4))
    same_node(lambda lib, a: a.unflatten(0, (1, 3)), (3, 4))
    same_node(lambda lib, a: a.movedim(1, 0), (3, 4))
    gradcheck_op(lambda lib, a: a.unbind(0)[1] * a.unbind(1)[0][:2].sum(), (3, 2))
    assert isinstance(tg.zeros(2, 3).unbind(), tuple) and tg.zeros(0, 3).unbind() == ()
    with pytest.raises(RuntimeError, match=r"\[unflatten\].*invalid for input of size 4"):
        tg.zeros(3, 4).unflatten(1, (3, 2))
    with pytest.raises(RuntimeError, match=r"\[movedim\]"):
        tg.zeros(3, 4).movedim((0, 1), 0)


def test_stacks():
    check_op(lambda lib, a, b: lib.hstack([a, b]), (3, 2), (3, 4))
    check_op(lambda lib, a, b: lib.hstack((a, b)), (3,), (2,))
    check_op(lambda lib, a, b: lib.vstack([a, b]), (4,), (4,))
    check_op(lambda lib, a, b: lib.vstack([a, b]), (2, 4), (1, 4))
    check_op(lambda lib, a, b: lib.dstack([a, b]), (2, 3), (2, 3))
    check_op(lambda lib, a, b: lib.column_stack([a, b]), (3,), (3, 2))
    gradcheck_op(lambda lib, a, b: lib.vstack([a, b]), (3,), (2, 3))
    same_node(lambda lib, a, b: lib.hstack([a, b]), (2,), (2,))
    with pytest.raises(RuntimeError, match=r"\[cat\].*sizes of tensors must match"):
        tg.vstack([tg.zeros(2), tg.zeros(3)])


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    check_op(lambda lib, a, b: lib.meshgrid(a, b, indexing=indexing), (3,), (4,))
    check_op(lambda lib, a, b, c: lib.meshgrid([a, b, c], indexing=indexing), (2,), (3,), (4,))
    check_op(lambda lib, a, b: lib.meshgrid(a, b, indexing=indexing), (), (0,))
    same_node(lambda lib, a, b: lib.meshgrid(a, b, indexing=indexing), (2,), (3,))
    with pytest.raises(ValueError, match=r"\[meshgrid\].*indexing"):
        tg.meshgrid(tg.zeros(2), indexing="ji")


# ---- norm ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2, 1, float("inf"), -float("inf"), 0, 3, 0.5, 1.5, "fro"])
def test_norm(p):
    check_op(lambda lib, a: a.norm(p), (3, 4), layouts=NO_EXPAND)
    check_op(lambda lib, a: lib.norm(a, p, dim=1), (3, 4), layouts=NO_EXPAND)
    check_op(lambda lib, a: a.norm(p=p, dim=(0, -1), keepdim=True), (2, 3, 4), layouts=NO_EXPAND)
    if p not in (float("inf"), -float("inf")):
        check_op(lambda lib, a: a.norm(p, dim=1), (0, 3))
    if p not in (0,):
        gradcheck_op(lambda lib, a: a.norm(p, dim=0), (3, 2))


def test_norm_special_cases():
    check_op(lambda lib, a: a.norm(), (3, 4))  # the expanded layout: tied maxima share the gradient
    check_op(lambda lib, a: a.norm(float("inf"), dim=0), (3, 4))
    # A zero vector has gradient zero, not NaN.
    check_op(lambda lib, a: (a * 0).norm(dim=1), (2, 3))
    check_op(lambda lib, a: a.norm(dtype=lib.float64), (2, 3), dtypes=(tg.float32,))
    same_node(lambda lib, a: a.norm(), (3, 4))
    same_node(lambda lib, a: a.norm(1, dim=0), (3, 4))
    x = tg.tensor([3.0, -4.0], requires_grad=True)
    (g,) = tg.autograd.grad(x.norm(), [x], create_graph=True)
    xt = torch.tensor([3.0, -4.0], requires_grad=True)
    (gt,) = torch.autograd.grad(xt.norm(), [xt], create_graph=True)
    np.testing.assert_allclose(tg.autograd.grad(g[0], [x])[0].numpy(), torch.autograd.grad(gt[0], [xt])[0].numpy())
    with pytest.raises(RuntimeError, match=r"\[norm\].*floating"):
        tg.tensor([1, 2]).norm()
    with pytest.raises(ValueError, match=r"\[norm\].*nuc"):
        tg.zeros(2, 2).norm("nuc")


# ---- pointwise: isnan, nan_to_num, logical ops, lerp, addcmul, addcdiv -------------------------------

SPECIAL = np.array([[0.0, -1.5, np.nan, np.inf], [-np.inf, 2.0, -0.0, np.nan]])


def test_classification():
    for name in ("isnan", "isinf", "isfinite"):
        check_op(lambda lib, a: (getattr(lib, name)(a), getattr(a, name)()), inputs=[SPECIAL], layouts=NO_EXPAND)
        check_op(lambda lib, a: getattr(lib, name)(a), (2, 3), dtypes=(tg.int64, tg.bool))
        check_op(lambda lib, a: getattr(lib, name)(a), (0, 3))


def test_nan_to_num():
    check_op(lambda lib, a: a.nan_to_num(), inputs=[SPECIAL], layouts=NO_EXPAND)
    check_op(lambda lib, a: lib.nan_to_num(a, nan=1.0, posinf=9.0, neginf=-9.0), inputs=[SPECIAL], layouts=NO_EXPAND)
    check_op(lambda lib, a: a.nan_to_num(posinf=5.0), (2, 3))
    check_op(lambda lib, a: a.nan_to_num(), (2, 3), dtypes=(tg.int64,))
    gradcheck_op(lambda lib, a: a.nan_to_num(), (2, 3))
    same_node(lambda lib, a: a.nan_to_num(), (2, 3))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical(name):
    rows = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0]])
    for dtype in (tg.float32, tg.int64, tg.bool):
        check_op(lambda lib, a, b: getattr(lib, name)(a, b), inputs=[rows, rows[::-1]], dtypes=(dtype,), layouts=NO_EXPAND)
    check_op(lambda lib, a, b: getattr(a, name)(b), (2, 3), (3,), grad=False)
    check_op(lambda lib, a: getattr(a, name)(lib.tensor([True, False, True])), (2, 3), dtypes=(tg.int32,))


def test_lerp():
    check_op(lambda lib, a, b: a.lerp(b, 0.3), (3, 4), (3, 4))
    check_op(lambda lib, a, b: lib.lerp(a, b, 0.8), (3, 4), (4,))
    check_op(lambda lib, a, b, w: lib.lerp(a, b, w), (3, 4), (3, 4), (4,), low=-1, high=1)
    check_op(lambda lib, a, b: a.lerp(b, 0.5), (0, 2), (0, 2))
    gradcheck_op(lambda lib, a, b, w: a.lerp(b, w), (2, 3), (2, 3), (2, 3))
    same_node(lambda lib, a, b: a.lerp(b, 0.5), (2,), (2,))
    same_node(lambda lib, a, b: a.lerp(b, b), (2,), (2,))
    with pytest.raises(RuntimeError, match=r"\[lerp\]"):
        tg.zeros(3, dtype=tg.int64).lerp(tg.ones(3, dtype=tg.int64), 0.5)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addc(name):
    low = 0.5  # positive divisors
    check_op(lambda lib, a, b, c: getattr(a, name)(b, c), (3, 4), (3, 4), (3, 4), low=low)
    check_op(lambda lib, a, b, c: getattr(lib, name)(a, b, c, value=-0.5), (3, 4), (4,), (3, 1), low=low)
    gradcheck_op(lambda lib, a, b, c: getattr(a, name)(b, c, value=2), (2, 3), (2, 3), (2, 3), low=low)
    same_node(lambda lib, a, b, c: getattr(a, name)(b, c), (2,), (2,), (2,), seed=3)
    if name == "addcmul":
        check_op(lambda lib, a, b, c: a.addcmul(b, c, value=2), (2, 3), (2, 3), (2, 3), dtypes=(tg.int64,))
    else:
        with pytest.raises(RuntimeError, match=r"\[addcdiv\].*integer division"):
            tg.zeros(2, dtype=tg.int64).addcdiv(tg.ones(2, dtype=tg.int64), tg.ones(2, dtype=tg.int64))


@pytest.mark.parametrize("name", ["lerp_", "addcmul_", "addcdiv_"])
def test_pointwise_in_place(name):
    def fn(lib, a, b, c):
        y = a * 1.0
        getattr(y, name)(b, c)  # a tensor weight for lerp_
        if name == "lerp_":
            y.lerp_(b, 0.25)
        else:
            getattr(y, name)(b, c, value=-2)
        return y
    check_op(fn, (3, 4), (3, 4), (4,), low=0.5)
    same_node(fn, (2,), (2,), (2,))
    for lib in (tg, torch):
        x = lib.ones(3)
        getattr(x, name)(lib.full((3,), 2.0), lib.full((3,), 0.5))
        if lib is tg:
            ours = x.tolist()
    assert ours == x.tolist()


# ---- new_*, type_as -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tg.float64, tg.int32])
def test_new_constructors(dtype):
    torch_dtype = getattr(torch, repr(dtype).split(".")[1])
    ours, theirs = tg.zeros(2, dtype=dtype), torch.zeros(2, dtype=torch_dtype)
    calls = [lambda x: x.new_zeros(2, 3), lambda x: x.new_ones((3,)), lambda x: x.new_full((2, 2), 7),
             lambda x: x.new_tensor([1, 2, 3]), lambda x: x.new_zeros(size=(1, 2)),
             lambda x: x.new_ones(2, dtype=x.dtype)]
    for call in calls:
        got, expected = call(ours), call(theirs)
        assert_close(got, expected, 0, 0)
    assert tuple(ours.new_empty(4, 0).shape) == (4, 0) and ours.new_empty(3).dtype == dtype
    assert ours.new_zeros(2, dtype=tg.bool).dtype == tg.bool
    made = ours.new_ones(2, dtype=tg.float32, requires_grad=True)
    assert made.requires_grad and made.is_leaf
    source = tg.tensor([1.0, 2.0], requires_grad=True)
    copied = ours.new_tensor(source)
    assert not copied.requires_grad and copied.dtype == dtype
    assert copied.data_ptr() != source.data_ptr()


def test_type_as():
    check_op(lambda lib, a: a.type_as(lib.zeros(1, dtype=lib.float64)), (2, 3), dtypes=(tg.float32, tg.int64))
    check_op(lambda lib, a: a.type_as(lib.zeros(1, dtype=lib.int32)), (2, 3), grad=False)
    same_node(lambda lib, a: a.float().type_as(lib.zeros(1, dtype=lib.float64)), (2,))
    x = tg.zeros(2)
    assert x.type_as(tg.ones(1)) is x
