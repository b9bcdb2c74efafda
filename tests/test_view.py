"""Views: shapes, strides, offsets and shared storage against PyTorch; gradients through them."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import check_op


def pair(shape, dtype=np.float32):
    data = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    return tg.tensor(data), torch.tensor(data)


def assert_same_view(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.is_contiguous() == theirs.is_contiguous()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


VIEW_CASES = [
    ((2, 3, 4), lambda t: t.view(6, 4)),
    ((2, 3, 4), lambda t: t.view(-1)),
    ((2, 3, 4), lambda t: t.view(2, -1, 2)),
    ((2, 3, 4), lambda t: t.reshape(4, 6)),
    ((2, 3, 4), lambda t: t.transpose(0, 2)),
    ((2, 3, 4), lambda t: t.transpose(-1, -2)),
    ((3, 4), lambda t: t.t()),
    ((3, 4), lambda t: t.T),
    ((5,), lambda t: t.t()),
    ((2, 3, 4), lambda t: t.permute(2, 0, 1)),
    ((2, 3, 4), lambda t: t.permute((1, 2, 0))),
    ((1, 3, 1, 4), lambda t: t.squeeze()),
    ((1, 3, 1, 4), lambda t: t.squeeze(2)),
    ((1, 3, 1, 4), lambda t: t.squeeze(1)),
    ((3, 4), lambda t: t.unsqueeze(0)),
    ((3, 4), lambda t: t.unsqueeze(-1)),
    ((3, 4), lambda t: t.unsqueeze(1)),
    ((3, 1), lambda t: t.expand(2, 3, 5)),
    ((3, 1), lambda t: t.expand(-1, 4)),
    ((2, 3, 4), lambda t: t.flatten()),
    ((2, 3, 4), lambda t: t.flatten(1)),
    ((2, 3, 4), lambda t: t.flatten(0, 1)),
    ((5, 6), lambda t: t.narrow(1, 2, 3)),
    ((5, 6), lambda t: t.narrow(0, -2, 2)),
    ((5, 6), lambda t: t.select(1, -1)),
    ((2, 3, 4), lambda t: t.transpose(0, 1).select(0, 2)),
    ((2, 3, 4), lambda t: t.permute(2, 1, 0).narrow(0, 1, 2).transpose(1, 2)),
    ((4, 6), lambda t: t.t().narrow(1, 1, 2).unsqueeze(0).expand(3, 6, 2)),
    ((0, 3), lambda t: t.view(3, 0)),
    ((0, 3), lambda t: t.transpose(0, 1)),
    ((2, 0, 3), lambda t: t.flatten()),
    ((), lambda t: t.view(1, 1)),
    ((), lambda t: t.unsqueeze(0)),
    ((1,), lambda t: t.view(())),
]


@pytest.mark.parametrize("shape, make", VIEW_CASES)
def test_view_matches_torch(shape, make):
    ours, theirs = pair(shape)
    assert_same_view(make(ours), make(theirs))


@pytest.mark.parametrize("shape, make", VIEW_CASES)
def test_view_shares_storage(shape, make):
    ours, _ = pair(shape)
    view = make(ours)
    if view.numel() == 0:
        return
    assert view.data_ptr() >= ours.data_ptr()
    # A write into the base shows through the view (and bumps the shared version counter).
    before = ours._version
    ours.mul_(2.0)
    assert view._version == before + 1
    _, theirs = pair(shape)
    np.testing.assert_array_equal(view.numpy(), make(theirs * 2).numpy())


@pytest.mark.parametrize("shape, make", VIEW_CASES)
def test_view_remembers_its_base_as_torch(shape, make):
    for lib, base in zip((tg, torch), pair(shape)):
        view = make(base)
        assert view._is_view() and view._base is base and base._base is None
        assert make(base).unsqueeze(0)[0]._base is base  # a view of a view has the first one's base
        assert not view.detach()._is_view() and view.detach()._base is None


def test_write_through_view_reaches_base():
    base = tg.zeros(3, 4)
    base.transpose(0, 1).select(0, 2).fill_(7.0)
    expected = np.zeros((3, 4), np.float32)
    expected[:, 2] = 7
    np.testing.assert_array_equal(base.numpy(), expected)


@pytest.mark.parametrize("shape, transform, target", [
    ((4, 6), lambda t: t.t(), (24,)),
    ((4, 6), lambda t: t.t(), (3, 8)),
    ((4, 6), lambda t: t.t(), (6, 2, 2)),
    ((2, 3, 4), lambda t: t.transpose(0, 1), (3, 8)),
    ((2, 3, 4), lambda t: t.transpose(0, 1), (6, 4)),
    ((2, 3, 4), lambda t: t.permute(1, 0, 2), (3, 2, 2, 2)),
    ((4, 6), lambda t: t.narrow(1, 0, 3), (12,)),
    ((4, 6), lambda t: t.narrow(1, 0, 3), (2, 2, 3)),
    ((4, 6), lambda t: t.narrow(0, 1, 2), (12,)),
    ((3, 1), lambda t: t.expand(3, 4), (12,)),
    ((3, 1), lambda t: t.expand(3, 4), (3, 2, 2)),
])
def test_view_legal_exactly_where_torch_is(shape, transform, target):
    ours, theirs = pair(shape)
    try:
        expected = transform(theirs).view(*target)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=r"\[view\].*reshape"):
            transform(ours).view(*target)
        # reshape copies instead, with the same values.
        np.testing.assert_array_equal(transform(ours).reshape(*target).numpy(), transform(theirs).reshape(*target).numpy())
        return
    assert_same_view(transform(ours).view(*target), expected)


def test_reshape_views_when_possible_and_copies_otherwise():
    x = tg.zeros(4, 6)
    assert x.reshape(24).data_ptr() == x.data_ptr()
    y = x.t().reshape(24)
    y.fill_(1.0)
    assert x.sum().item() == 0.0  # it was a copy


def test_contiguous_clone_to():
    base, theirs = pair((3, 4))
    ours = base.t()
    assert ours.contiguous().is_contiguous()
    np.testing.assert_array_equal(ours.contiguous().numpy(), theirs.t().contiguous().numpy())
    assert base.contiguous() is base
    copy = base.clone()
    assert copy.data_ptr() != base.data_ptr()
    for method, dtype in [("double", tg.float64), ("long", tg.int64), ("int", tg.int32), ("bool", tg.bool), ("float", tg.float32)]:
        converted = getattr(ours, method)()
        assert converted.dtype == dtype
        np.testing.assert_array_equal(converted.numpy(), getattr(theirs.t(), method)().numpy())
    assert base.to(tg.float32) is base
    assert base.to(tg.float32, copy=True) is not base
    assert base.to(tg.float64).dtype == tg.float64


@pytest.mark.parametrize("make, error, pattern", [
    (lambda t: t.view(5, 5), RuntimeError, r"\[view\] shape \(5, 5\) is invalid for input of size 24"),
    (lambda t: t.view(-1, -1), RuntimeError, r"\[view\] only one dimension can be inferred"),
    (lambda t: t.transpose(0, 3), IndexError, r"\[transpose\] dimension out of range"),
    (lambda t: t.permute(0, 1), RuntimeError, r"\[permute\] number of dims don't match"),
    (lambda t: t.permute(0, 0, 1), RuntimeError, r"\[permute\] repeated dim"),
    (lambda t: t.expand(3, 4), RuntimeError, r"\[expand\]"),
    (lambda t: t.expand(2, 5, 4), RuntimeError, r"\[expand\] the expanded size of the tensor \(5\) must match"),
    (lambda t: t.narrow(1, 2, 5), RuntimeError, r"\[narrow\]"),
    (lambda t: t.narrow(1, 7, 1), IndexError, r"\[narrow\]"),
    (lambda t: t.select(0, 2), IndexError, r"\[select\] index 2 is out of bounds"),
    (lambda t: t.unsqueeze(4), IndexError, r"\[unsqueeze\]"),
    (lambda t: t.squeeze(5), IndexError, r"\[squeeze\]"),
    (lambda t: t.flatten(2, 1), RuntimeError, r"\[flatten\]"),
    (lambda t: t.t(), RuntimeError, r"\[t\] expects a tensor with <= 2 dimensions"),
    (lambda t: t.view(2.5, 3), TypeError, r"\[view\] sizes must be integers"),
    (lambda t: t.size(3), IndexError, r"\[size\]"),
])
def test_view_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make(tg.zeros(2, 3, 4))


@pytest.mark.parametrize("make, shape", [
    (lambda lib, a: a.contiguous().view(4, 3) * 2, (3, 4)),
    (lambda lib, a: a.reshape(2, 6) * a.reshape(2, 6), (3, 4)),
    (lambda lib, a: a.transpose(0, 1).sin(), (3, 4)),
    (lambda lib, a: a.t() * 3, (3, 4)),
    (lambda lib, a: a.permute(2, 0, 1).exp(), (2, 3, 4)),
    (lambda lib, a: a.unsqueeze(1).squeeze(1).tanh(), (3, 4)),
    (lambda lib, a: a.unsqueeze(0).expand(5, 3, 4) * 1.5, (3, 4)),
    (lambda lib, a: a.narrow(1, 1, 2) * a.narrow(1, 0, 2), (3, 4)),
    (lambda lib, a: a.select(0, 1) + a.select(1, 2).sum(), (3, 4)),
    (lambda lib, a: a.flatten().exp(), (2, 3, 4)),
    (lambda lib, a: a.contiguous().clone() * 2, (3, 4)),
    (lambda lib, a: a.transpose(0, 1).narrow(0, 1, 2).select(1, 0).sigmoid(), (3, 4)),
])
def test_view_gradients(make, shape):
    check_op(make, shape)


def test_double_backward_through_strided_view():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tg.float64, requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    (g,) = tg.autograd.grad((x.narrow(1, 1, 2) ** 3).sum(), x, create_graph=True)
    (tgrad,) = torch.autograd.grad((tx.narrow(1, 1, 2) ** 3).sum(), tx, create_graph=True)
    (gg,) = tg.autograd.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tgrad * tgrad).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy())


@pytest.mark.parametrize("make", [
    lambda a: a.as_strided((2, 3), (3, 1), 1),
    lambda a: a.as_strided((2, 2), (1, 1)),                  # elements seen twice
    lambda a: a.as_strided((3, 2), (0, 2), 2),               # a repeated row (stride 0)
    lambda a: a.t().as_strided((3, 2), (1, 3)),              # input not contiguous
    lambda a: a.t()[1:].as_strided((2, 2), (1, 4), 0),       # reaching storage outside the input
    lambda a: a[1:, 1:].as_strided((2,), (5,), 5),           # input with gaps
    lambda a: a[0:1, 0:2].expand(3, 2).as_strided((2,), (1,), 0),  # input seeing one element thrice
])
def test_as_strided_gradients_match_torch(make):
    values = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    upstream = None
    grads = []
    for lib in (tg, torch):
        a = lib.tensor(values, requires_grad=True)
        out = make(a)
        if upstream is None:
            upstream = np.random.default_rng(0).uniform(-1, 1, size=tuple(out.shape))
        (grad,) = lib.autograd.grad((out * out * lib.tensor(upstream)).sum(), a, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad * lib.tensor(values)).sum(), a)
        grads.append((out.detach().numpy(), grad.detach().numpy(), second.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
