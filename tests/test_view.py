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
    ((2, 3, 4), lambda t: t.view(size=(6, 4))),
    ((2, 3, 4), lambda t: t.view(np.int64(24))),
    ((2, 3, 4), lambda t: t.view(2, np.int32(12))),
    ((2, 3, 4), lambda t: t.reshape(shape=(4, 6))),
    ((2, 3, 4), lambda t: t.permute(dims=(2, 0, 1))),
    ((3, 1), lambda t: t.expand(size=(2, 3, 5))),
    ((2, 3, 4), lambda t: t.transpose(np.int64(0), -1)),
    ((2, 3, 4), lambda t: t.mT),
    ((), lambda t: t.flatten()),
    ((), lambda t: t.flatten(-1, 0)),
    # No elements: contiguous whatever the strides, as in torch.
    ((2, 3), lambda t: t[:0, ::2]),
    ((2, 3), lambda t: t.t()[:, :0]),
    ((4, 6), lambda t: t[1:1, ::3].t()),
    # Steps past the end leave one element; its stride is torch's, and where torch's product would
    # overflow int64 (torch then fails) the old stride stays.
    ((2, 3, 4), lambda t: t[1::2 ** 58]),
    ((5, 6), lambda t: t[:, 2::7]),
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


# clone(), to(dtype) and the dtype shortcuts keep a tensor's layout as torch's preserve_format
# does: the same strides when dense, else dense strides in the same order of dims.
@pytest.mark.parametrize("layout", [
    lambda t: t, lambda t: t.t(), lambda t: t.reshape(2, 3, 2).permute(2, 0, 1), lambda t: t[:, ::2],
    lambda t: t[::2].t(), lambda t: t.reshape(2, 3, 2).permute(2, 0, 1)[1:], lambda t: t[:1].expand(4, 3),
    lambda t: t.reshape(3, 1, 4).transpose(0, 1), lambda t: t.t()[:, :0], lambda t: t.reshape(12, 1).t(),
])
@pytest.mark.parametrize("copy", [
    lambda lib, t: t.clone(), lambda lib, t: lib.clone(t), lambda lib, t: t.to(lib.float64), lambda lib, t: t.double(),
    lambda lib, t: t.int(), lambda lib, t: t.to(lib.float32, copy=True), lambda lib, t: t.type(lib.int64),
    lambda lib, t: t.to("cpu", lib.int64),
])
def test_copies_preserve_the_layout(layout, copy):
    ours, theirs = pair((4, 3))
    mine, torchs = copy(tg, layout(ours)), copy(torch, layout(theirs))
    assert mine.shape == torchs.shape and mine.stride() == torchs.stride()
    assert mine.tolist() == torchs.tolist() and mine.data_ptr() != ours.data_ptr()


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
    (lambda t: t.view([24.0]), TypeError, r"\[view\] sizes must be integers"),
    (lambda t: t.view(True), TypeError, r"\[view\]"),
    (lambda t: t.view(None), TypeError, r"\[view\]"),
    (lambda t: t.view("a"), TypeError, r"\[view\]"),
    (lambda t: t.size(3), IndexError, r"\[size\]"),
    (lambda t: t.transpose(True, 0), TypeError, r"\[transpose\] argument 'dim' must be int, not bool"),
    (lambda t: t.transpose(0.0, 1), TypeError, r"\[transpose\]"),
    (lambda t: t.unsqueeze(2.0), TypeError, r"\[unsqueeze\]"),
    (lambda t: t.squeeze("a"), TypeError, r"\[squeeze\]"),
    (lambda t: t.sum().flatten(1), IndexError, r"\[flatten\] dimension out of range"),
    (lambda t: t.sum().flatten(0, 1), IndexError, r"\[flatten\]"),
    (lambda t: t.flatten(0).mT, RuntimeError, r"\[mT\] tensor.mT is only supported on matrices"),
])
def test_view_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make(tg.zeros(2, 3, 4))
    with pytest.raises(error):
        make(torch.zeros(2, 3, 4))


# Arguments past int64: a RuntimeError naming the op for sizes (torch: TypeError "failed to
# unpack"), an IndexError for dims (torch: ValueError "Overflow when unpacking long long").
@pytest.mark.parametrize("make, error, pattern", [
    (lambda t: t.view(2 ** 70), RuntimeError, r"\[view\] size 1180591620717411303424 does not fit in int64"),
    (lambda t: t.reshape(-2 ** 64, 1), RuntimeError, r"\[reshape\] size -18446744073709551616 does not fit"),
    (lambda t: t.expand(2 ** 70, 3, 4), RuntimeError, r"\[expand\] size 1180591620717411303424 does not fit"),
    (lambda t: t.squeeze(2 ** 70), IndexError, r"\[squeeze\] dimension out of range"),
    (lambda t: t.unsqueeze(2 ** 70), IndexError, r"\[unsqueeze\] dimension out of range"),
    (lambda t: t.transpose(0, -2 ** 70), IndexError, r"\[transpose\] dimension out of range"),
    (lambda t: t.permute(2 ** 70, 0, 1), IndexError, r"\[permute\] dimension out of range"),
    (lambda t: t.flatten(2 ** 70), IndexError, r"\[flatten\]"),
    (lambda t: t.select(2 ** 70, 0), IndexError, r"\[select\]"),
    (lambda t: t.select(0, 2 ** 70), RuntimeError, r"\[select\] argument 'index' is 1180591620717411303424"),
    (lambda t: t.narrow(0, 2 ** 70, 1), RuntimeError, r"\[narrow\] argument 'start'"),
    (lambda t: t.as_strided((2,), (1,), 2 ** 70), RuntimeError, r"\[as_strided\] argument 'storage_offset'"),
])
def test_view_argument_overflow(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make(tg.zeros(2, 3, 4))


def test_sizes_and_strides_that_overflow_are_refused():
    with pytest.raises(RuntimeError, match=r"\[expand\] shape \(4611686018427387904, 4611686018427387904, 3, 4\) "
                                           r"has more elements than int64 can count"):
        tg.zeros(3, 4).expand(2 ** 62, 2 ** 62, 3, 4)
    with pytest.raises(RuntimeError, match=r"\[expand\]"):
        tg.zeros(1, 4).expand(2 ** 63 - 1, 4)
    with pytest.raises(RuntimeError, match=r"\[view\] shape \(4294967296, 4294967296, 0\) is invalid for input of size 0"):
        tg.zeros(0).view(2 ** 32, 2 ** 32, 0)
    with pytest.raises(RuntimeError):
        torch.zeros(3, 4).expand(2 ** 62, 2 ** 62, 3, 4)


def test_slices_with_steps_past_int64_strides():
    ours, theirs = pair((2, 3, 4))
    for key in (slice(1, None, 2 ** 63 - 1), slice(None, None, 2 ** 62 + 1), slice(0, 1, 2 ** 70)):
        view = ours[key]
        assert view.shape == (1, 3, 4) and view.stride() == (12, 4, 1)
        assert view.tolist() == theirs[key.start or 0:(key.start or 0) + 1].tolist()
    assert ours.narrow(0, 1, 1)[::2 ** 63 - 1].tolist() == theirs[1:].tolist()
    leaf = tg.ones(2, 3, 4, requires_grad=True)
    (grad,) = tg.autograd.grad((leaf[1::2 ** 63 - 1] * 2).sum(), leaf)
    assert grad.tolist() == [[[0.0] * 4] * 3, [[2.0] * 4] * 3]


def test_mT_of_a_0d_tensor_is_the_tensor():
    scalar = tg.tensor(2.5)
    assert scalar.mT.item() == 2.5 and scalar.mT.dim() == 0  # torch: the identity, with a deprecation warning


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros([1] * 65), lambda lib: lib.zeros(1).view([1] * 65), lambda lib: lib.zeros(1).reshape([1] * 65),
    lambda lib: lib.zeros([1] * 64).unsqueeze(0), lambda lib: lib.zeros([1] * 64)[None],
    lambda lib: lib.zeros([1] * 64).expand([1] * 65), lambda lib: lib.zeros([1] * 64).view([1] * 64).unsqueeze(-1),
])
def test_tensors_have_at_most_64_dims(make):
    with pytest.raises(RuntimeError, match=r"tensors can have at most 64 dims, got 65"):
        make(tg)
    assert tg.zeros([1] * 64).dim() == tg.zeros(1).view([1] * 64).dim() == 64
    assert tg.zeros([2] + [1] * 63)[0].unsqueeze(0).dim() == 64


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
    (lambda lib, a: a.t().clone().exp(), (3, 4)),
    (lambda lib, a: a.permute(2, 0, 1).to(lib.float64).sin(), (2, 3, 4)),
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
