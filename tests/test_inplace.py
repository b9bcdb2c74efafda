"""In-place ops and views under autograd, against PyTorch: an in-place op on a view rewrites its
base's history (CopySlices), a view whose base changed derives its grad_fn again
(AsStridedBackward0), writes into self-overlapping tensors are refused, and the error cases."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import check_op, gradcheck_op


def leaf(lib, values, dtype=None):
    return lib.tensor(values, dtype=dtype or (tg.float64 if lib is tg else torch.float64), requires_grad=True)


def setitem(target, key, value):
    target[key] = value
    return target


def both(fn, *arrays):
    """fn(lib, *leaves) on tapegrad and torch float64 leaves holding `arrays`: (tapegrad leaves, torch leaves,
    tapegrad outputs, torch outputs)."""
    ours = [leaf(tg, a) for a in arrays]
    theirs = [leaf(torch, a) for a in arrays]
    return ours, theirs, fn(tg, *ours), fn(torch, *theirs)


# ---- values and gradients through every form of in-place-on-a-view --------------------------------
# Each case gets (lib, *inputs) and returns what to differentiate; check_op runs it on float32 and
# float64 inputs laid out contiguous, transposed, strided and expanded.

def base_changes_after_a_slice(lib, a):  # the audit's silent wrong gradient
    y = a * 1
    v = y[1:]
    y.mul_(2)
    return v * v


def base_changes_after_a_reshape(lib, a):
    y = a * 1
    v = y.view(5, 1)
    y.mul_(2)
    return v * v


def base_changes_after_a_transpose(lib, a):
    y = a * 1
    v = y.t()
    y.add_(y)
    return v.exp()


def add_into_column(lib, a):  # y[:, 0] += 1 without the setitem that follows it in Python
    y = a * 2
    y[:, 0].add_(1)
    return y


def augmented_assignments(lib, a):
    y = a * 2
    y[:, 0] += 1
    y[0] *= 2
    return y * y


def mul_into_rows(lib, a):
    y = a * 2
    y[0:2].mul_(2)
    return y * a


def add_into_transpose(lib, a):
    y = a * 2
    y.t().add_(1)
    return y * y


def mul_rows_by_operand(lib, a, b):
    y = a * 1
    y[1:].mul_(b)
    return y * y


def sub_operand_from_transposed_row(lib, a, b):
    y = a * 1
    y.t()[1].sub_(b)
    return y.exp()


def div_columns_by_operand(lib, a, b):
    y = a * 1
    y[:, 1:3].div_(b.exp())
    return y * a


def add_scaled_operand(lib, a, b):
    y = a * 1
    y[0].add_(b, alpha=-2.5)
    return y.sin()


def view_of_a_view(lib, a, b):  # backward through the base and through the other views
    y = a * 1
    v = y[1:]
    w = v[:, 1:]
    w.mul_(b)
    return v * v, y.sum(0), w.exp()


def two_views_of_one_base(lib, a, b):
    y = a * 1
    row, column = y[0], y[:, 1]
    row.mul_(b)
    return y.sum(1) * column


def inplace_through_permuted_views(lib, a):
    y = a * 1
    v = y.permute(1, 0, 2)
    v.transpose(0, 1)[0].mul_(3)
    return v.exp(), y * y


def alternating_base_and_views(lib, a, b):
    y = a * 1
    y[0].add_(b)
    y.mul_(2)
    y[:, 2].add_(y[1, 3])
    y[2].sub_(a[0])
    return y


def copy_into_rows(lib, a, b):
    y = a * 1
    y[1:].copy_(b)
    return y * a


def fill_and_zero_views(lib, a):
    y = a * 1
    y[0].fill_(2.0)
    y[:, 1].zero_()
    return y * a


def clamp_and_relu_views(lib, a):
    y = a * 1
    y[1:].clamp_(-0.5, 0.5)
    y[0].relu_()
    return y * y


def assign_through_tensor_key(lib, a, b):  # index_put_ into the view y[0]
    y = a * 1
    y[0, lib.tensor([0, 2])] = b
    return y * a


def masked_fill_row(lib, a):
    y = a * 1
    y[1].masked_fill_(lib.tensor([True, False, True, False]), 0.0)
    return y * y


def base_changes_after_an_expand(lib, a):  # the derived grad_fn sums over the repeated elements
    y = a * 1
    e = y.expand(3, 4)
    y.mul_(2)
    return e * e


@pytest.mark.parametrize("fn, shapes", [
    (base_changes_after_a_slice, [(5,)]),
    (base_changes_after_a_reshape, [(5,)]),
    (base_changes_after_a_transpose, [(3, 4)]),
    (add_into_column, [(3, 4)]),
    (augmented_assignments, [(3, 4)]),
    (mul_into_rows, [(3, 4)]),
    (add_into_transpose, [(3, 4)]),
    (mul_rows_by_operand, [(3, 4), (4,)]),
    (sub_operand_from_transposed_row, [(3, 4), (3,)]),
    (div_columns_by_operand, [(3, 4), (2,)]),
    (add_scaled_operand, [(3, 4), (4,)]),
    (view_of_a_view, [(3, 4), (3,)]),
    (two_views_of_one_base, [(3, 4), (4,)]),
    (inplace_through_permuted_views, [(2, 3, 4)]),
    (alternating_base_and_views, [(3, 4), (4,)]),
    (copy_into_rows, [(3, 4), (4,)]),
    (fill_and_zero_views, [(3, 4)]),
    (clamp_and_relu_views, [(3, 4)]),
    (assign_through_tensor_key, [(3, 4), (2,)]),
    (masked_fill_row, [(3, 4)]),
    (base_changes_after_an_expand, [(1, 4)]),
], ids=lambda value: getattr(value, "__name__", str(value)))
def test_inplace_on_views_matches_torch(fn, shapes):
    check_op(fn, *shapes)


def test_inplace_into_view_of_plain_tensor_with_grad_operand():
    def add_into_plain_rows(lib, w):
        p = lib.zeros(3, 2, dtype=w.dtype)
        p[0].add_(w)
        p[:, 1].mul_(w[1])
        return p * p

    ours, theirs, out, expected = both(add_into_plain_rows, [1.0, 2.0])
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy())


@pytest.mark.parametrize("make_base", [
    lambda lib: lib.zeros(4, 3, dtype=lib.float64).t().detach(),             # transposed storage
    lambda lib: lib.zeros(3, 8, dtype=lib.float64)[:, 1::2].detach(),        # gaps between elements
    lambda lib: lib.zeros(2, 3, 4, dtype=lib.float64).permute(2, 0, 1).detach()[1].detach(),
])
def test_inplace_on_views_of_non_contiguous_bases(make_base):
    # Bases that are not contiguous in their storage: the view's elements are found by their place there.
    rng = np.random.default_rng(0)
    w_value = rng.uniform(-1, 1, size=4)
    results = []
    for lib in (tg, torch):
        w = leaf(lib, w_value)
        base = make_base(lib)
        other_view = base[:, 1:].t()
        base[1].add_(w[:base.shape[1]])
        base.mul_(w[:base.shape[1]])
        base[:, 0].sub_(w[1] * 3)
        out = (other_view * other_view).sum() + base.reshape(-1).exp().sum()
        (grad,) = lib.autograd.grad(out, w, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad).sum(), w)
        results.append([base.detach().numpy(), other_view.detach().numpy(), grad.detach().numpy(), second.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def scale_rows(lib, a, b):
    y = a * 1
    y[1:].mul_(b)
    return (y * y * a).sum()


def scale_transposed_row(lib, a, b):
    y = a * a
    y.t()[0].mul_(b[:3])
    return (y.exp() * b).sum()


def scale_base_under_a_view(lib, a, b):
    y = a * 1
    v = y[:, 1:]
    y.mul_(b)
    return (v ** 3).sum()


def copy_and_divide_rows(lib, a, b):
    y = a * 1
    y[0].copy_(b * b)
    y[1:2].div_(b.exp())
    return (y * y).sum()


def assign_column(lib, a, b):
    y = a * 1
    y[:, 2] = a[:, 0] * b[0]
    return (y * y * y).sum()


SECOND_ORDER_CASES = [scale_rows, scale_transposed_row, scale_base_under_a_view, copy_and_divide_rows, assign_column]


@pytest.mark.parametrize("fn", SECOND_ORDER_CASES, ids=lambda fn: fn.__name__)
def test_second_order_gradients_through_inplace_on_views(fn):
    rng = np.random.default_rng(1)
    a_value, b_value = rng.uniform(0.5, 1.5, size=(3, 4)), rng.uniform(0.5, 1.5, size=4)
    ours, theirs, out, expected = both(fn, a_value, b_value)
    grads = tg.autograd.grad(out, ours, create_graph=True)
    expected_grads = torch.autograd.grad(expected, theirs, create_graph=True)
    for g, e in zip(grads, expected_grads):
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-10)
    weights = [rng.uniform(-1, 1, size=g.shape) for g in grads]
    second = tg.autograd.grad(sum((g * tg.tensor(w)).sum() for g, w in zip(grads, weights)), ours)
    expected_second = torch.autograd.grad(sum((g * torch.tensor(w)).sum() for g, w in zip(expected_grads, weights)), theirs)
    for g, e in zip(second, expected_second):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-9)


@pytest.mark.parametrize("fn", SECOND_ORDER_CASES, ids=lambda fn: fn.__name__)
def test_gradcheck_through_inplace_on_views(fn):
    gradcheck_op(fn, (3, 4), (4,), low=0.5, high=1.5)


def test_mixed_dtype_operand_into_view():
    results = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 4.0], dtype=lib.float64, requires_grad=True)
        y = x * 1
        y[0:2].add_(w)
        y[1:].mul_(w)
        (y * y).sum().backward()
        results.append((y.dtype == lib.float32, y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_backward_through_stale_view_with_autograd_grad():
    # The view's grad_fn is derived while the consumer's node is being built; grad() must still find it.
    for lib in (tg, torch):
        x, w = leaf(lib, [1.0, 2.0, 3.0]), leaf(lib, [2.0, 5.0])
        y = x * 1
        v = y[1:]
        y.mul_(2)
        (gx,) = lib.autograd.grad((v * w).sum(), x)
        np.testing.assert_allclose(gx.numpy(), [0.0, 4.0, 10.0])


def test_retain_graph_through_copy_slices():
    x, b = leaf(tg, [1.0, 2.0, 3.0]), leaf(tg, [2.0])
    y = x * 1
    y[1:].mul_(b)
    out = (y * y).sum()
    out.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph"):
        out.backward()


def test_inplace_on_view_under_no_grad_is_not_recorded():
    for lib in (tg, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 1
        with lib.no_grad():
            y[0:2].mul_(2)
        assert y.grad_fn.name().endswith("MulBackward0")
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0])


# ---- history bookkeeping: names, versions, bases, hooks -----------------------------------------

def test_grad_fn_names_and_versions_follow_torch():
    for lib in (tg, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 1
        v = y[1:]
        w = v[1:]
        assert v._base is y and w._base is y and v._is_view() and not y._is_view()
        w.mul_(3)
        assert y.grad_fn.name().endswith("CopySlices")
        assert v.grad_fn.name() == w.grad_fn.name() == "AsStridedBackward0"
        assert y._version == v._version == w._version == 1
        assert not v.is_leaf and v.requires_grad
        assert (x * 1).fill_(1.0).grad_fn.name() == "FillBackward2"
        assert (x * 1).zero_().grad_fn.name() == "ZeroBackward0"


def test_plain_base_takes_history_from_grad_operand():
    for lib in (tg, torch):
        p = lib.zeros(3, dtype=lib.float64)
        v = p[1:]
        w = leaf(lib, [2.0])
        p[0:1].add_(w)
        assert p.requires_grad and not p.is_leaf and p.grad_fn.name().endswith("CopySlices")
        assert v.requires_grad and v.grad_fn.name() == "AsStridedBackward0"


def test_hooks_stay_with_old_history_and_retain_grad_moves():
    results = []
    for lib in (tg, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 1
        v = y[0:2]
        seen_view, seen_base = [], []
        v.register_hook(lambda g: seen_view.append(g.tolist()))
        y.register_hook(lambda g: seen_base.append(g.tolist()))
        v.retain_grad()
        y.retain_grad()
        y[1:].mul_(2)   # through another view
        y.mul_(x)       # the base itself
        (v * v).sum().backward(retain_graph=True)
        results.append((seen_view, seen_base, v.grad.tolist(), y.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_view_created_in_no_grad_mode():
    for lib in (tg, torch):
        y = leaf(lib, [1.0, 2.0, 3.0]) * 1
        with lib.no_grad():
            v = y[0:2]
        assert v.requires_grad and v.grad_fn is None  # PyTorch's view of a base that requires grad
        with pytest.raises(RuntimeError, match="created in no_grad mode and is being modified inplace"):
            v.mul_(2)
        with pytest.raises(RuntimeError, match="created in no_grad mode and is being modified inplace"):
            v[0:1].mul_(2)  # a view of such a view
        y.mul_(2)
        with pytest.raises(RuntimeError, match="view was created in no_grad mode and its base .* modified inplace"):
            v * 2
    # Both inside no_grad: nothing is recorded, nothing refused.
    p = tg.zeros(3)
    with tg.no_grad():
        p[0:2].add_(leaf(tg, [1.0, 1.0], dtype=tg.float32))
    assert not p.requires_grad


def test_numpy_of_a_view_of_a_parameter_under_no_grad():
    for lib in (tg, torch):
        w = lib.ones(2, 2, requires_grad=True)
        with lib.no_grad():
            view = w.view(-1)
            assert view.requires_grad  # as its base, in PyTorch
            np.testing.assert_array_equal(view.numpy(), [1.0] * 4)
        with pytest.raises(RuntimeError, match="numpy"):
            view.numpy()


# ---- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, pattern", [
    (lambda lib: leaf(lib, [1.0, 2.0])[0:1].mul_(2), "view of a leaf"),
    (lambda lib: leaf(lib, [[1.0, 2.0]]).t().add_(1), "view of a leaf"),
    (lambda lib: setitem(leaf(lib, [1.0, 2.0]), 0, 1.0), "view of a leaf"),
    (lambda lib: leaf(lib, [1.0, 2.0]).mul_(2), "leaf"),
    (lambda lib: (leaf(lib, [1.0, 2.0]) * 2)[0:1].detach_(), "Can't detach views in-place"),
    (lambda lib: lib.zeros(3)[1:].detach_(), "Can't detach views in-place"),
    (lambda lib: setattr(leaf(lib, [1.0, 2.0]), "data", lib.tensor([1, 2])), "must be floating point"),
])
def test_inplace_errors_match_torch(make, pattern):
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match=pattern):
            make(lib)


def test_detach_and_data_setter_on_what_torch_allows():
    for lib in (tg, torch):
        y = leaf(lib, [1.0, 2.0]) * 2
        assert y.detach_() is y and y.grad_fn is None and not y.requires_grad
        plain = lib.tensor([1.0, 2.0])
        plain.data = lib.tensor([1, 2, 3])
        assert plain.dtype == lib.int64 and plain.tolist() == [1, 2, 3]
        w = leaf(lib, [1.0, 2.0], dtype=lib.float32)
        (w * 1).sum().backward()
        w.data = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        w.grad = None
        (w * 2).sum().backward()
        assert w.grad.dtype == lib.float64 and w.grad.tolist() == [2.0, 2.0, 2.0]
    view = tg.zeros(4)[1:]
    view.data = tg.ones(2)
    assert not view._is_view() and view._base is None


OVERLAP = "more than one element of the written-to tensor refers to a single memory location"


@pytest.mark.parametrize("write", [
    lambda lib: lib.zeros(1).expand(3).add_(1),
    lambda lib: lib.zeros(1).expand(3).sub_(lib.ones(3)),
    lambda lib: lib.zeros(1).expand(3).mul_(2),
    lambda lib: lib.zeros(1).expand(3).div_(2),
    lambda lib: lib.zeros(1).expand(3).clamp_(0.5, 1.0),
    lambda lib: lib.zeros(1).expand(3).relu_(),
    lambda lib: lib.zeros(2, 1).expand(2, 3).add_(1),
    lambda lib: lib.zeros(1).expand(3).copy_(lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: setitem(lib.zeros(1).expand(3), slice(None), lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: setitem(lib.zeros(1).expand(3), slice(None), 1.0),
    lambda lib: setitem(lib.zeros(1, 2).expand(3, 2), (slice(None), 0), lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: lib.zeros(2, 1).expand(2, 3).t()[1:].add_(1),
])
def test_writes_into_self_overlapping_tensors_are_refused(write):
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match=OVERLAP):
            write(lib)


def test_overlap_refusal_leaves_memory_untouched():
    x = tg.zeros(1)
    with pytest.raises(RuntimeError, match=r"\[__setitem__\] unsupported operation"):
        x.expand(3)[:] = tg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"\[index_put_\] unsupported operation"):
        x.expand(3)[tg.tensor([0, 1])] = tg.tensor([1.0, 2.0])  # PyTorch warns and writes; refused here
    assert x.tolist() == [0.0] and x._version == 0


def test_accumulating_into_expanded_grad_is_refused():
    for lib in (tg, torch):
        x = lib.zeros(2, requires_grad=True)
        x.grad = lib.zeros(1).expand(2)
        with pytest.raises(RuntimeError, match=OVERLAP):
            (x * 1).sum().backward()


@pytest.mark.parametrize("write", [
    lambda lib: lib.zeros(1).expand(3).fill_(2.0),
    lambda lib: lib.zeros(1).expand(3).zero_(),
    lambda lib: lib.zeros(1).expand(3).masked_fill_(lib.tensor([True, False, True]), 1.0),
    lambda lib: lib.zeros(1).expand(1, 1).add_(1),  # size-1 dims may have any stride
    lambda lib: lib.zeros(0).expand(2, 0).add_(1),
])
def test_idempotent_or_non_overlapping_writes_are_allowed(write):
    np.testing.assert_array_equal(write(tg).numpy(), write(torch).numpy())


# ---- saved tensors still catch in-place changes ---------------------------------------------------

def square_then_scale_a_slice(lib, x):
    y = x * 2
    z = y * y
    y[1:].mul_(2)
    return z


def exp_then_scale_a_slice(lib, x):  # ExpBackward0 saved its result
    y = x.exp()
    y[0:1].mul_(2)
    return y


def view_saved_then_base_scaled(lib, x):
    y = x * 1
    v = y[:2]
    w = v * v
    y.mul_(2)
    return w


def sin_of_a_view_then_copy_into_it(lib, x):
    y = (x * 1).view(3, 2).t()
    z = y.sin()
    y.t()[0].copy_(x[:2])
    return z


def pow_then_setitem(lib, x):
    y = x * 1
    z = y.pow(2)
    y[0] = 5.0
    return z


@pytest.mark.parametrize("make", [square_then_scale_a_slice, exp_then_scale_a_slice, view_saved_then_base_scaled,
                                  sin_of_a_view_then_copy_into_it, pow_then_setitem], ids=lambda fn: fn.__name__)
def test_saved_tensor_version_check_still_fires(make):
    for lib in (tg, torch):
        out = make(lib, leaf(lib, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
        with pytest.raises(RuntimeError, match="modified by an inplace operation|modified by an in-place operation"):
            out.sum().backward()


def test_zero_grad_after_create_graph_backward_through_a_view():
    # The first gradient of w arrives as a view (reshape of the incoming one); .grad keeps a copy,
    # so zero_grad's detach_() applies.
    w = tg.ones(2, 3, requires_grad=True)
    (w.view(6) * w.view(6)).sum().backward(create_graph=True)
    assert not w.grad._is_view()
    tg.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad.tolist() == [[0.0] * 3] * 2 and w.grad.grad_fn is None
