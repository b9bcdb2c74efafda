"""Indexing, assignment by index, cat/stack/split: values, views and gradients against PyTorch."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close, check_op, gradcheck_op

# ---- basic indexing: one view ------------------------------------------------------------------

BASIC_KEYS = [
    0, -1, 3, slice(None), slice(1, 3), slice(-3, None), slice(None, -1, 2), slice(10, 20), slice(-100, 100, 3),
    slice(3, 1), (1, 2), (-1, -2, -3), (slice(None), 0), (slice(None), slice(None), 1), (Ellipsis, 0),
    (0, Ellipsis), (Ellipsis,), (None,), (None, 0), (0, None, slice(1, None, 2)), (Ellipsis, None),
    (None, Ellipsis, None), (slice(1, None), None, slice(None, None, 3)), (1, Ellipsis, 2), (Ellipsis, slice(2, 4), 0),
    (slice(None), None, -1, None), (),
]


def _bases(lib, array):
    """The same values laid out contiguous, transposed and sliced, as (name, tensor)."""
    contiguous = lib.tensor(array)
    transposed = lib.tensor(np.ascontiguousarray(array.transpose(2, 1, 0))).permute(2, 1, 0)
    padded = np.zeros((array.shape[0] + 1,) + array.shape[1:-1] + (array.shape[-1] * 2,))
    padded[1:, ..., ::2] = array
    sliced = lib.tensor(padded)[1:, ..., ::2]
    return [("contiguous", contiguous), ("transposed", transposed), ("sliced", sliced)]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_key_matches_torch_view(key):
    array = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)
    for (name, ours), (_, theirs) in zip(_bases(tg, array), _bases(torch, array)):
        got, expected = ours[key], theirs[key]
        assert tuple(got.shape) == tuple(expected.shape), name
        assert got.stride() == expected.stride(), name
        assert got.storage_offset() == expected.storage_offset(), name
        np.testing.assert_array_equal(got.numpy(), expected.numpy(), err_msg=name)
        assert got.data_ptr() == ours.data_ptr() + (got.storage_offset() - ours.storage_offset()) * 8


def test_basic_view_writes_through_to_base():
    base = tg.zeros(4, 5)
    view = base[1:, ::2][1]
    view[...] = 7.0
    expected = np.zeros((4, 5))
    expected[2, ::2] = 7.0
    np.testing.assert_array_equal(base.numpy(), expected)
    base[3, 4] = -1.0
    assert base[3][4].item() == -1.0


def test_chain_of_views_over_non_contiguous_tensor():
    array = np.arange(120.0).reshape(4, 5, 6)
    ours, theirs = tg.tensor(array).transpose(0, 2)[1:, None, ::2], torch.tensor(array).transpose(0, 2)[1:, None, ::2]
    for key in [(Ellipsis, 1), (slice(None, None, 2), 0), (-1, slice(1, None))]:
        ours, theirs = ours[key], theirs[key]
        assert ours.stride() == theirs.stride() and ours.storage_offset() == theirs.storage_offset()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_zero_size_dims():
    array = np.zeros((0, 3, 4))
    for key in [slice(None), (slice(None), 1), (Ellipsis, slice(2, 2)), (None, slice(None), 0, 0)]:
        got, expected = tg.tensor(array)[key], torch.tensor(array)[key]
        # Strides of a zero-size tensor are arbitrary (torch.tensor gives (0, 0, 0) here and
        # (12, 4, 1) for torch.zeros): only the shape is defined.
        assert tuple(got.shape) == tuple(expected.shape)
    assert tuple(tg.zeros(3, 4)[:, 2:2].shape) == (3, 0)


def test_scalar_tensor_indexing():
    x = tg.tensor(5.0)
    assert x[...].item() == 5.0 and tuple(x[None].shape) == (1,) and tuple(x[None, None].shape) == (1, 1)
    assert tuple(x[True].shape) == (1,) and tuple(x[False].shape) == (0,)


def test_integer_like_keys():
    x = tg.tensor(np.arange(12.0).reshape(3, 4))
    assert x[np.int64(2), np.int32(1)].item() == 9.0
    view = x[tg.tensor(1)]  # a 0-dim integer tensor selects like an int: a view
    assert view.storage_offset() == 4 and view.data_ptr() == x.data_ptr() + 4 * 8
    assert x[1:3][0, 1:].tolist() == [5.0, 6.0, 7.0]


def test_basic_index_is_one_node():
    x = tg.ones(4, 5, requires_grad=True)
    y = x[1:, None, ::2]
    assert y.grad_fn.name() == "SliceBackward0"
    assert x[0].grad_fn.name() == "SelectBackward0"
    assert x[None].grad_fn.name() == "UnsqueezeBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"  # one node for the whole key


@pytest.mark.parametrize("key", [
    (slice(1, None), slice(None, None, 2)), 0, -1, (slice(None), 1), (Ellipsis, slice(1, 3)), (None, 1, None),
    (slice(None, None, 3), None, slice(-2, None)), (), (Ellipsis,),
], ids=repr)
def test_basic_index_gradients(key):
    check_op(lambda lib, a: a[key], (4, 5))


def test_basic_index_gradients_3d_and_chains():
    check_op(lambda lib, a: a[1:, ::2][0, 1:], (3, 4, 5))
    check_op(lambda lib, a: a[..., 1][None, :, ::2], (3, 4, 5))
    check_op(lambda lib, a: a[1:, None] * a[:-1, None], (4, 3))
    check_op(lambda lib, a: a[:, 0:0], (3, 4))
    check_op(lambda lib, a: a[0], (1,))


def test_basic_index_gradcheck_and_double_backward():
    gradcheck_op(lambda lib, a: a[1:, ::2] * a[:-1, 1::2], (3, 4))
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (gx,) = tg.autograd.grad((x[1:] ** 3).sum(), [x], create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), [0.0, 12.0, 27.0])
    (ggx,) = tg.autograd.grad(gx.sum(), [x])
    np.testing.assert_allclose(ggx.numpy(), [0.0, 12.0, 18.0])


def test_basic_index_errors():
    x = tg.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\[index\].*index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match=r"\[index\].*index -5 is out of bounds for dimension 1 with size 4"):
        x[0, -5]
    with pytest.raises(IndexError, match=r"\[index\] too many indices for tensor of dimension 2"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"\[index\].*single ellipsis"):
        x[..., ...]
    with pytest.raises(ValueError, match=r"\[index\].*step must be positive"):
        x[::-1]
    with pytest.raises(ValueError, match=r"\[index\].*step must be positive"):
        x[::0]
    with pytest.raises(IndexError, match=r"\[index\].*valid indices"):
        x[1.5]
    with pytest.raises(IndexError, match=r"\[index\].*valid indices"):
        x["a"]
    with pytest.raises(TypeError, match=r"\[index\] slice indices must be integers or None, got float"):
        x[0.5:]
    with pytest.raises(IndexError, match=r"\[index\] too many indices"):
        tg.tensor(1.0)[0]


# ---- advanced indexing: copies -----------------------------------------------------------------

ADVANCED_CASES = [  # (key builder taking lib, shape)
    (lambda lib: (lib.tensor([0, 2, 2, -1]),), (4, 3)),
    (lambda lib: (slice(None), lib.tensor([1, 0])), (4, 3)),
    (lambda lib: (lib.tensor([[0, 1], [2, 3]]),), (4, 3)),
    (lambda lib: (lib.tensor([0, 1]), lib.tensor([2, 0])), (4, 3)),
    (lambda lib: (lib.tensor([[0], [1]]), lib.tensor([2, 0, 1])), (4, 3)),
    (lambda lib: (lib.tensor([0, 3]), slice(None), lib.tensor([1, 1])), (4, 3, 2)),
    (lambda lib: (slice(None), lib.tensor([0, 2]), lib.tensor([1, 0])), (4, 3, 2)),
    (lambda lib: (Ellipsis, lib.tensor([1, 0, 1])), (4, 3, 2)),
    (lambda lib: (1, slice(None), lib.tensor([1, 0])), (4, 3, 2)),
    (lambda lib: (None, lib.tensor([2]), slice(1, None)), (4, 3)),
    (lambda lib: (lib.tensor([1, 1, 1]), None), (4, 3)),
    (lambda lib: (lib.tensor(2), lib.tensor([0, 1])), (4, 3)),
    (lambda lib: (slice(1, None), lib.tensor([], dtype=lib.int64)), (4, 3)),
    (lambda lib: (lib.tensor([True, False, True, True]),), (4, 3)),
    (lambda lib: (lib.tensor([[True, False, True], [False, False, True], [True, True, True], [False] * 3]),), (4, 3)),
    (lambda lib: (slice(None), lib.tensor([False, True, True])), (4, 3)),
    (lambda lib: (lib.tensor(True),), (4, 3)),
    (lambda lib: (True, lib.tensor([0, 3])), (4, 3)),
    (lambda lib: (lib.tensor([0, 1], dtype=lib.int32),), (4, 3)),
]


@pytest.mark.parametrize("case", range(len(ADVANCED_CASES)))
def test_advanced_index_values_and_gradients(case):
    build, shape = ADVANCED_CASES[case]
    check_op(lambda lib, a: a[build(lib)], shape)


def test_advanced_index_with_python_lists_and_numpy():
    array = np.arange(60.0).reshape(3, 4, 5)
    ours, theirs = tg.tensor(array), torch.tensor(array)
    for key in [[0, 2], ([0, 2], slice(None), [1, 4]), (Ellipsis, [True, False, True, False, True]),
                np.array([2, 0]), (np.array([[1], [2]]), np.array([0, 3])), [[0, 1], [1, 2]], ([],),
                (slice(None), [[0, 1], [3, 2]], 0), [True, False, True]]:
        def as_torch(k):
            return torch.tensor(k, dtype=torch.int64 if len(k) == 0 else None) if isinstance(k, (list, np.ndarray)) else k
        torch_key = tuple(as_torch(k) for k in key) if isinstance(key, tuple) else as_torch(key)
        got = ours[key]
        expected = theirs[torch_key]
        assert tuple(got.shape) == tuple(expected.shape), key
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_advanced_index_copies():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    y = x[[0, 1]]
    y[0, 0] = 100.0
    assert x[0, 0].item() == 0.0
    assert y.is_contiguous()


def test_dataloader_gather_fast_path():
    data = np.random.default_rng(0).standard_normal((600, 784)).astype(np.float32)
    idx = np.random.default_rng(1).permutation(600)[:128]
    batch = tg.tensor(data)[tg.tensor(idx)]
    np.testing.assert_array_equal(batch.numpy(), data[idx])
    np.testing.assert_array_equal(tg.tensor(data)[:, 2:][tg.tensor(idx)].numpy(), data[:, 2:][idx])


def test_advanced_index_zero_size():
    check_op(lambda lib, a: a[lib.tensor([], dtype=lib.int64)], (0, 3))
    check_op(lambda lib, a: a[:, lib.tensor([0, 2])], (0, 3))
    check_op(lambda lib, a: a[lib.tensor([1, 0]), 1:1], (2, 3))


def test_repeated_indices_accumulate_in_backward():
    check_op(lambda lib, a: a[lib.tensor([1, 1, 0, 1])] * 2, (3, 2))
    gradcheck_op(lambda lib, a: a[lib.tensor([[0, 2], [2, 2]]), 1:] ** 2, (3, 4))


def test_advanced_index_double_backward():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (gx,) = tg.autograd.grad((x[tg.tensor([0, 2, 2])] ** 2).sum(), [x], create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), [2.0, 0.0, 12.0])
    (ggx,) = tg.autograd.grad(gx.sum(), [x])
    np.testing.assert_allclose(ggx.numpy(), [2.0, 0.0, 4.0])


def test_advanced_index_errors():
    x = tg.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\[index\] index 5 is out of bounds for dimension 0 with size 3"):
        x[tg.tensor([0, 5])]
    with pytest.raises(IndexError, match=r"\[index\] index -5 is out of bounds for dimension 1 with size 4"):
        x[:, [-5]]
    with pytest.raises(IndexError, match=r"\[index\].*int64, int32 or bool"):
        x[tg.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match=r"\[index\].*shape of the mask"):
        x[tg.tensor([True, False])]
    with pytest.raises(IndexError, match=r"\[index\] shapes \(2,\) and \(3,\) cannot be broadcast"):
        x[tg.tensor([0, 1]), tg.tensor([0, 1, 2])]
    with pytest.raises(IndexError, match=r"\[index\] shapes"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match=r"\[index\] too many indices"):
        x[[0], [0], [0]]


# ---- assignment ---------------------------------------------------------------------------------

SETITEM_CASES = [  # (key builder, value builder)
    (lambda lib: 1, lambda lib: 5.0),
    (lambda lib: (slice(None), 0), lambda lib: lib.tensor([1.0, 2.0, 3.0, 4.0])),
    (lambda lib: (slice(1, None), slice(None, None, 2)), lambda lib: lib.tensor([7.0, 8.0])),
    (lambda lib: Ellipsis, lambda lib: lib.tensor(3, dtype=lib.int64)),
    (lambda lib: (None, 2), lambda lib: lib.tensor([[1.0], [2.0], [3.0]]).t()),
    (lambda lib: lib.tensor([0, 2]), lambda lib: -1.0),
    (lambda lib: (lib.tensor([0, 3]), lib.tensor([1, 2])), lambda lib: lib.tensor([10.0, 20.0])),
    (lambda lib: (slice(None), lib.tensor([2, 0])), lambda lib: lib.tensor([[1.0], [2.0], [3.0], [4.0]])),
    (lambda lib: lib.tensor([True, False, True, False]), lambda lib: lib.tensor([9.0, 8.0, 7.0])),
    (lambda lib: (1, lib.tensor([0, 1])), lambda lib: lib.tensor([5, 6])),
    (lambda lib: 2, lambda lib: lib.tensor([[[1.0, 2.0, 3.0]]])),  # leading size-1 dims are dropped
    (lambda lib: lib.tensor([1, 3]), lambda lib: lib.tensor([[[1.0], [2.0]]])),
]


@pytest.mark.parametrize("case", range(len(SETITEM_CASES)))
def test_setitem_matches_torch(case):
    key, value = SETITEM_CASES[case]
    array = np.arange(12.0).reshape(4, 3)
    ours, theirs = tg.tensor(array), torch.tensor(array)
    ours[key(tg)] = value(tg)  # converted to self's dtype; torch's index_put_ insists on it
    torch_value = value(torch)
    theirs[key(torch)] = torch_value.to(theirs.dtype) if isinstance(torch_value, torch.Tensor) else torch_value
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("key", [1, (slice(None), [0, 2]), [True, False, True, False]], ids=repr)
def test_setitem_bumps_version(key):
    a = tg.ones(4, 3, requires_grad=True)
    b = a * 1
    c = b * b  # saves b
    b[key] = 5.0
    with pytest.raises(RuntimeError, match=r"version"):
        c.sum().backward()


def test_setitem_through_view_of_non_contiguous_tensor():
    base, reference = tg.zeros(5, 4).t(), torch.zeros(5, 4).t()
    base[1:, ::2][0] = tg.tensor([1.0, 2.0, 3.0])
    reference[1:, ::2][0] = torch.tensor([1.0, 2.0, 3.0])
    base[[0, 3], 1] = 4.0
    reference[[0, 3], 1] = 4.0
    np.testing.assert_array_equal(base.numpy(), reference.numpy())


def test_setitem_overlapping_value_and_lists():
    ours, theirs = tg.tensor(np.arange(6.0)), torch.tensor(np.arange(6.0))
    ours[1:] = ours[:-1].clone()
    theirs[1:] = theirs[:-1].clone()
    ours[[0, 1]] = ours[[1, 0]]
    theirs[[0, 1]] = theirs[[1, 0]]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours[2:4] = [9, 9]
    assert ours.tolist()[2:4] == [9.0, 9.0]
    # Overlapping source and target (PyTorch refuses these): the value is read before the write.
    shifted = tg.tensor(np.arange(6.0))
    shifted[1:] = shifted[:-1]
    assert shifted.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    permuted = tg.tensor(np.arange(4.0))
    permuted[[3, 2, 1, 0]] = permuted
    assert permuted.tolist() == [3.0, 2.0, 1.0, 0.0]


def test_setitem_gradients():
    for key in [(1,), (slice(None), slice(1, 3)), ([0, 2],), (slice(None), [2, 0])]:
        value_shape = tuple(torch.zeros(3, 4)[key].shape)
        grads = []
        for lib in (tg, torch):
            a = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
            v = lib.tensor(np.linspace(0, 2, int(np.prod(value_shape))).reshape(value_shape), requires_grad=True)
            out = a * 2
            out[key] = v * 3
            (out * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
            grads.append((a.grad.numpy(), v.grad.numpy(), out.detach().numpy()))
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs)


def test_setitem_into_fresh_buffer_records_value_gradient():
    v = tg.tensor([1.0, 2.0], requires_grad=True)
    out = tg.zeros(3, 2)
    out[1] = v
    out.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 1.0])


def test_setitem_errors():
    leaf = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[__setitem__\].*leaf"):
        leaf[0] = 1.0
    with pytest.raises(RuntimeError, match=r"\[index_put_\].*leaf"):
        leaf[[0]] = 1.0
    x = tg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"\[__setitem__\] shape mismatch.*\(3,\).*\(4,\)"):
        x[0] = tg.zeros(3)
    with pytest.raises(RuntimeError, match=r"\[index_put_\] shape mismatch"):
        x[[0, 1]] = tg.zeros(3)
    with pytest.raises(IndexError, match=r"\[index\] index 4 is out of bounds"):
        x[4] = 1.0


def test_index_put():
    indices = lambda lib: (lib.tensor([0, 2, 0]), lib.tensor([1, 1, 1]))  # noqa: E731
    check_op(lambda lib, a, v: lib.index_put(a, indices(lib), v, accumulate=True), (3, 4), (3,))
    check_op(lambda lib, a, v: a.index_put((lib.tensor([1, 2]),), v), (3, 4), (4,))
    x, y = tg.zeros(3, 2), torch.zeros(3, 2)
    x.index_put_((tg.tensor([1, 1, 0]),), tg.tensor([1.0, 2.0]), accumulate=True)
    y.index_put_((torch.tensor([1, 1, 0]),), torch.tensor([1.0, 2.0]), accumulate=True)
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    gradcheck_op(lambda lib, a, v: lib.index_put(a, (lib.tensor([2, 0, 2]),), v, accumulate=True), (3, 2), (3, 2))


# ---- index_select, gather, masked_fill, nonzero ---------------------------------------------------


def test_index_select():
    check_op(lambda lib, a: a.index_select(0, lib.tensor([2, 0, 2])), (3, 4))
    check_op(lambda lib, a: lib.index_select(a, -1, lib.tensor([3, 1])), (2, 3, 4))
    check_op(lambda lib, a: a.index_select(1, lib.tensor(1)), (2, 3))
    check_op(lambda lib, a: a.index_select(0, lib.tensor([], dtype=lib.int64)), (2, 3))
    with pytest.raises(IndexError, match=r"\[index_select\]"):
        tg.zeros(3).index_select(0, tg.tensor([[0]]))
    with pytest.raises(IndexError, match=r"\[index\] index 3 is out of bounds for dimension 0 with size 3"):
        tg.zeros(3).index_select(0, tg.tensor([3]))


def test_gather():
    check_op(lambda lib, a: a.gather(1, lib.tensor([[0, 0, 2], [1, 0, 1]])), (2, 3))
    check_op(lambda lib, a: lib.gather(a, 0, lib.tensor([[1, 0], [1, 1]])), (2, 3))
    check_op(lambda lib, a: a.gather(-1, lib.tensor([[[1], [0]]])), (1, 2, 3))
    gradcheck_op(lambda lib, a: a.gather(0, lib.tensor([[1, 1, 0]])), (2, 3))
    with pytest.raises(RuntimeError, match=r"\[gather\]"):
        tg.zeros(2, 3).gather(1, tg.tensor([0, 1]))


def test_masked_fill():
    mask = lambda lib: lib.tensor([[True, False, True, False]])  # noqa: E731
    check_op(lambda lib, a: a.masked_fill(mask(lib), 0.5), (3, 4))
    check_op(lambda lib, a: lib.masked_fill(a, mask(lib), float("-inf")).exp(), (3, 4))
    check_op(lambda lib, a: (a * 1).masked_fill_(mask(lib), 2.0), (3, 4))
    gradcheck_op(lambda lib, a: a.masked_fill(lib.tensor([True, False]), 0.0) * a, (3, 2))
    ours = tg.tensor([1, 2, 3]).masked_fill(tg.tensor([True, False, True]), 1.7)
    assert ours.dtype == tg.int64 and ours.tolist() == [1, 2, 1]
    with pytest.raises(RuntimeError, match=r"\[masked_fill\].*boolean"):
        tg.zeros(3).masked_fill(tg.tensor([1, 0, 1]), 1.0)
    with pytest.raises(RuntimeError, match=r"\[masked_fill_\].*cannot be broadcast"):
        tg.zeros(3).masked_fill_(tg.tensor([[True], [False]]), 1.0)


def test_nonzero():
    for array in [np.array([[0, 1, 0], [2, 0, 3]]), np.zeros((2, 0)), np.array(5.0), np.array([True, False, True]),
                  np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1) % 3]:
        got, expected = tg.tensor(array).nonzero(), torch.tensor(array).nonzero()
        assert_close(got, expected, 0, 0)
    columns = tg.nonzero(tg.tensor([[0, 1], [1, 1]]), as_tuple=True)
    assert [c.tolist() for c in columns] == [[0, 1, 1], [1, 0, 1]]


# ---- cat, stack, split, chunk ---------------------------------------------------------------------


def test_cat():
    check_op(lambda lib, a, b: lib.cat([a, b]), (2, 3), (4, 3))
    check_op(lambda lib, a, b: lib.cat((a, b, a), dim=1), (2, 3), (2, 1))
    check_op(lambda lib, a, b: lib.cat([a, b], -1), (2, 3, 0), (2, 3, 2))
    check_op(lambda lib, a, b: lib.concat([a, b], dim=0), (0, 3), (2, 3))
    check_op(lambda lib, a, b: lib.concatenate([a, b]), (1,), (3,))
    check_op(lambda lib, a, b: lib.cat([a, lib.tensor([], dtype=a.dtype), b]), (2, 3), (1, 3))
    gradcheck_op(lambda lib, a, b: lib.cat([a * a, b], 1), (2, 2), (2, 3))


def test_cat_type_promotion_and_empty_inputs():
    for lib in (tg, torch):
        out = lib.cat([lib.tensor([1, 2]), lib.tensor([0.5]), lib.tensor([True])])
        assert str(out.dtype).endswith("float32") and out.tolist() == [1.0, 2.0, 0.5, 1.0]
        out = lib.cat([lib.tensor([1], dtype=lib.int32), lib.tensor([2], dtype=lib.float64)])
        assert str(out.dtype).endswith("float64")
        assert tuple(lib.cat([lib.zeros(0), lib.ones(2, 3)]).shape) == (2, 3)
        assert tuple(lib.cat([lib.zeros(0), lib.zeros(0)]).shape) == (0,)
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0], dtype=tg.float64, requires_grad=True)
    (tg.cat([a, b]) * tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)).sum().backward()
    assert a.grad.dtype == tg.float32 and a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [3.0]


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"\[cat\].*dimension 0.*\(2, 3\).*\(2, 4\)"):
        tg.cat([tg.zeros(2, 3), tg.zeros(2, 4)])
    with pytest.raises(RuntimeError, match=r"\[cat\].*\(2, 3\).*\(3,\)"):
        tg.cat([tg.zeros(2, 3), tg.zeros(3)])
    with pytest.raises(RuntimeError, match=r"\[cat\].*non-empty"):
        tg.cat([])
    with pytest.raises(RuntimeError, match=r"\[cat\].*zero-dimensional"):
        tg.cat([tg.tensor(1.0)])
    with pytest.raises(IndexError, match=r"\[cat\]"):
        tg.cat([tg.zeros(2)], dim=1)
    with pytest.raises(TypeError, match=r"\[cat\]"):
        tg.cat([tg.zeros(2), 1.0])


def test_stack():
    check_op(lambda lib, a, b: lib.stack([a, b]), (2, 3), (2, 3))
    check_op(lambda lib, a, b: lib.stack([a, b, a], dim=-1), (2, 3), (2, 3))
    check_op(lambda lib, a, b: lib.stack((a, b), 1), (0, 2), (0, 2))
    check_op(lambda lib, a, b: lib.stack([a, b]), (), ())
    gradcheck_op(lambda lib, a, b: lib.stack([a * b, b], 1), (2, 3), (2, 3))
    assert tg.stack([tg.tensor([1, 2]), tg.tensor([0.5, 1.0])]).dtype == tg.float32
    with pytest.raises(RuntimeError, match=r"\[stack\] expects each tensor to be equal size.*\(2,\).*\(3,\)"):
        tg.stack([tg.zeros(2), tg.zeros(3)])
    with pytest.raises(IndexError, match=r"\[stack\]"):
        tg.stack([tg.zeros(2)], dim=3)


def test_split_and_chunk():
    check_op(lambda lib, a: a.split(2), (5, 3))
    check_op(lambda lib, a: lib.split(a, [1, 2], dim=1), (2, 3))
    check_op(lambda lib, a: a.chunk(3, dim=-1), (2, 7))
    check_op(lambda lib, a: lib.chunk(a, 4), (2, 3))
    pieces = tg.arange(0, 6, 1).split(4)
    assert [p.tolist() for p in pieces] == [[0, 1, 2, 3], [4, 5]]
    assert pieces[1].storage_offset() == 4
    with pytest.raises(RuntimeError, match=r"\[split\].*sum to 3"):
        tg.zeros(3).split([1, 1])
    with pytest.raises(TypeError, match=r"\[split\] split_size must be an int"):
        tg.zeros(3).split(1.5)
    with pytest.raises(ValueError, match=r"\[chunk\]"):
        tg.zeros(3).chunk(0)


def test_index_modified_after_forward_is_refused_in_backward():
    x = tg.ones(4, requires_grad=True)
    positions = tg.tensor([0, 1])
    y = x[positions]
    positions[0] = 3
    with pytest.raises(RuntimeError, match=r"\[IndexBackward0\].*modified by an in-place operation"):
        y.sum().backward()


@pytest.mark.parametrize("key", [(slice(1, None),), ([0, 2],), (slice(None), None)], ids=repr)
def test_setitem_broadcast_value_gradient(key):
    grads = []
    for lib in (tg, torch):
        a = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        v = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        out = a * 1
        out[key] = v * v
        (out * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        grads.append((a.grad.numpy(), v.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("name", ["gather", "index_select"])
def test_negative_indices_are_refused_as_torch_refuses_them(name):
    # Advanced indexing counts negative positions from the end; gather and index_select do not.
    index = lambda lib: lib.tensor([[0], [-1]]) if name == "gather" else lib.tensor([0, -1])  # noqa: E731
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.zeros(2, 3), 1, index(torch))
    with pytest.raises(RuntimeError, match=rf"^\[{name}\] index -1 is out of bounds for dimension 1 with size 3$"):
        getattr(tg, name)(tg.zeros(2, 3), 1, index(tg))
