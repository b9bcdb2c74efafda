"""Data in and out: from_numpy/numpy(), the buffer protocol, __array__ and DLPack, all sharing memory."""
import array
import contextlib
import ctypes
import gc
import sys
import warnings

import numpy as np
import pytest
import torch

import tapegrad as tg

NUMPY_DTYPES = [(np.float32, tg.float32), (np.float64, tg.float64), (np.int32, tg.int32), (np.int64, tg.int64),
                (np.bool_, tg.bool)]


def sample(numpy_dtype, shape=(3, 4)):
    return (np.arange(int(np.prod(shape))).reshape(shape) % 5).astype(numpy_dtype)


# ---- from_numpy / numpy() ----------------------------------------------------------------------

@pytest.mark.parametrize("numpy_dtype, dtype", NUMPY_DTYPES)
def test_from_numpy_shares_memory(numpy_dtype, dtype):
    array = sample(numpy_dtype)
    tensor = tg.from_numpy(array)
    assert tensor.dtype == dtype and tensor.shape == array.shape and tensor.data_ptr() == array.ctypes.data
    array[1, 2] = 1
    assert tensor.tolist() == array.tolist()
    tensor.fill_(0)
    assert not array.any()


@pytest.mark.parametrize("make", [
    lambda a: a.T, lambda a: a[:, ::2], lambda a: a[1:, 1:3], lambda a: a[None, :, None], lambda a: a.reshape(-1)[3:7],
    lambda a: np.broadcast_to(a[:1], (5, 4)), lambda a: a[:0], lambda a: np.array(2.5),
])
def test_from_numpy_keeps_strided_layouts(make):
    view = make(np.arange(12.0).reshape(3, 4))
    read_only = not view.flags.writeable  # np.broadcast_to's result
    with pytest.warns(UserWarning, match="not writable") if read_only else contextlib.nullcontext():
        tensor = tg.from_numpy(view)
    assert tensor.shape == view.shape and tensor.tolist() == view.tolist()
    if view.size:
        assert tensor.data_ptr() == view.ctypes.data
        assert tensor.stride() == tuple(stride // 8 for stride in view.strides)


def test_sharing_a_read_only_array_warns():
    # As PyTorch warns: a tensor is always writable, so writing to it would write to memory NumPy
    # treats as read-only.
    values = np.arange(3.0)
    values.flags.writeable = False
    for share in (tg.from_numpy, tg.as_tensor):
        with pytest.warns(UserWarning, match=r"\[from_numpy\] the given NumPy array is not writable"):
            assert share(values).data_ptr() == values.ctypes.data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.tensor(values).tolist() == [0.0, 1.0, 2.0]  # a copy: nothing to warn about
        with pytest.raises(UserWarning, match="not writable"):
            tg.from_numpy(values)


def test_from_numpy_keeps_the_array_alive():
    array = np.arange(1000.0)
    references = sys.getrefcount(array)
    tensor = tg.from_numpy(array)
    assert sys.getrefcount(array) == references + 1
    del array
    gc.collect()
    assert tensor.sum().item() == sum(range(1000))
    view = tensor.narrow(0, 10, 5)
    del tensor
    gc.collect()
    assert view.tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]


def test_from_numpy_releases_the_array():
    array = np.arange(4.0)
    references = sys.getrefcount(array)
    tensor = tg.from_numpy(array)
    view = tensor.t()
    del tensor, view
    gc.collect()
    assert sys.getrefcount(array) == references


@pytest.mark.parametrize("array, error, message", [
    (np.arange(4.0)[::-1], ValueError, r"\[from_numpy\] arrays with negative strides are not supported"),
    (np.ones(3, dtype=np.float16), TypeError, r"\[from_numpy\] can't share the memory of a NumPy array of dtype float16"),
    (np.ones(3, dtype=np.uint8), TypeError, r"dtype uint8"),
    (np.ones(3, dtype=np.complex64), TypeError, r"dtype complex64"),
    (np.ones(3, dtype=">f4"), TypeError, r"dtype >f4"),
    (np.array(["a"], dtype=object), TypeError, r"dtype object"),
    (np.zeros(3, dtype=[("x", "<f4"), ("y", "i1")])["x"], ValueError,
     r"\[from_numpy\] strides \(5,\) must be multiples of the item size 4"),
    ([1.0, 2.0], TypeError, r"\[from_numpy\] expected np.ndarray, got list"),
])
def test_from_numpy_refuses(array, error, message):
    with pytest.raises(error, match=message):
        tg.from_numpy(array)


@pytest.mark.parametrize("numpy_dtype, dtype", NUMPY_DTYPES)
def test_numpy_shares_memory(numpy_dtype, dtype):
    tensor = tg.tensor(sample(numpy_dtype).tolist(), dtype=dtype)
    array = tensor.numpy()
    assert array.dtype == numpy_dtype and array.ctypes.data == tensor.data_ptr()
    array[0, 0] = 1
    assert tensor.tolist() == array.tolist()


def test_numpy_of_views_and_keep_alive():
    base = tg.arange(12.0).reshape(3, 4)
    array = base.t().numpy()
    assert array.strides == (4, 16)
    assert array.tolist() == np.arange(12.0, dtype=np.float32).reshape(3, 4).T.tolist()
    del base
    gc.collect()
    assert array.sum() == 66.0  # the storage outlived the tensor


def test_numpy_refuses_tensors_that_require_grad():
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[numpy\] can't call numpy\(\) on a tensor that requires grad.*detach"):
        leaf.numpy()
    with pytest.raises(RuntimeError, match=r"requires grad"):
        (leaf * 2).numpy()
    forced = leaf.numpy(force=True)
    assert forced.tolist() == [1.0, 2.0] and forced.ctypes.data == leaf.data_ptr()
    assert leaf.detach().numpy().ctypes.data == leaf.data_ptr()


def test_numpy_round_trip_through_from_numpy():
    tensor = tg.rand(3, 5)
    again = tg.from_numpy(tensor.numpy())
    assert again.data_ptr() == tensor.data_ptr()
    again.mul_(0.0)
    assert tensor.sum().item() == 0.0


# ---- the buffer protocol -----------------------------------------------------------------------

@pytest.mark.parametrize("numpy_dtype, dtype", NUMPY_DTYPES)
def test_memoryview(numpy_dtype, dtype):
    tensor = tg.from_numpy(sample(numpy_dtype))
    view = memoryview(tensor)
    assert view.format == {np.float32: "f", np.float64: "d", np.int32: "i", np.int64: "q", np.bool_: "?"}[numpy_dtype]
    assert view.shape == (3, 4) and view.strides == (4 * tensor.element_size(), tensor.element_size())
    assert not view.readonly and view.itemsize == tensor.element_size()
    shared = np.asarray(view)
    assert shared.dtype == numpy_dtype and shared.ctypes.data == tensor.data_ptr()
    shared[2, 3] = 1
    assert tensor.tolist()[2][3] == shared[2, 3]


def test_memoryview_of_views():
    base = tg.arange(24.0).reshape(4, 6)
    view = memoryview(base.t())
    assert view.shape == (6, 4) and view.strides == (4, 24) and not view.c_contiguous
    assert np.asarray(view).tolist() == base.t().tolist()
    with pytest.raises(BufferError, match=r"\[buffer\] the tensor is not C-contiguous"):
        array.array("f").frombytes(base.t())  # asks for a plain buffer, without strides
    assert bytes(base) == np.arange(24.0, dtype=np.float32).tobytes()
    assert bytes(base.t()) == np.arange(24.0, dtype=np.float32).reshape(4, 6).T.tobytes()
    (ctypes.c_float * 24).from_buffer(base)[5] = -1.0
    assert base.tolist()[0][5] == -1.0
    assert memoryview(base.narrow(0, 1, 2)).tobytes() == np.arange(6.0, 18.0, dtype=np.float32).tobytes()
    assert memoryview(tg.tensor(2.5)).shape == () and memoryview(tg.zeros(0, 3)).nbytes == 0


def test_buffer_outlives_a_data_swap():
    tensor = tg.ones(1000)
    view = memoryview(tensor)
    tensor.data = tg.zeros(3)  # the exported view holds the old storage itself
    gc.collect()
    assert np.asarray(view).sum() == 1000.0


def test_buffer_refuses_tensors_that_require_grad():
    with pytest.raises(BufferError, match=r"\[buffer\] can't export a tensor that requires grad"):
        memoryview(tg.ones(2, requires_grad=True))


# ---- __array__ ---------------------------------------------------------------------------------

def test_array_protocol_copy_semantics():
    tensor = tg.arange(6.0).reshape(2, 3)
    shared = np.asarray(tensor)
    assert shared.ctypes.data == tensor.data_ptr()
    assert np.asarray(tensor, copy=False).ctypes.data == tensor.data_ptr()
    copied = np.array(tensor, copy=True)
    assert copied.ctypes.data != tensor.data_ptr() and copied.tolist() == tensor.tolist()
    converted = np.asarray(tensor, dtype=np.float64)
    assert converted.dtype == np.float64 and converted.tolist() == tensor.tolist()
    with pytest.raises(ValueError):
        np.asarray(tensor, dtype=np.float64, copy=False)


def test_array_dunder_directly():
    tensor = tg.arange(3, dtype=tg.int32)
    assert tensor.__array__().ctypes.data == tensor.data_ptr()
    assert tensor.__array__(copy=True).ctypes.data != tensor.data_ptr()
    assert tensor.__array__(np.int32, copy=False).ctypes.data == tensor.data_ptr()
    assert tensor.__array__(np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"\[__array__\] converting a int32 tensor to NumPy dtype float64 needs a copy"):
        tensor.__array__(np.float64, copy=False)


def test_array_protocol_refuses_tensors_that_require_grad():
    with pytest.raises(RuntimeError, match=r"requires grad"):
        np.asarray(tg.ones(2, requires_grad=True))


def test_numpy_functions_accept_tensors():
    tensor = tg.arange(5.0)
    assert np.allclose(np.exp(tensor), np.exp(np.arange(5.0)))
    assert np.concatenate([tensor, tensor]).tolist() == 2 * tensor.tolist()
    # Mixed arithmetic goes through NumPy (tapegrad's operators return NotImplemented for arrays).
    assert (np.ones(5) + tensor).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert (tensor + np.ones(5)).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


# ---- DLPack ------------------------------------------------------------------------------------

def test_dlpack_device():
    assert tg.ones(2).__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("numpy_dtype, dtype", NUMPY_DTYPES)
def test_numpy_from_dlpack_shares_memory(numpy_dtype, dtype):
    tensor = tg.tensor(sample(numpy_dtype).tolist(), dtype=dtype)
    array = np.from_dlpack(tensor)
    assert array.dtype == numpy_dtype and array.ctypes.data == tensor.data_ptr()
    array[0, 1] = 1
    assert tensor.tolist() == array.tolist()
    del tensor
    gc.collect()
    assert array.shape == (3, 4)


@pytest.mark.parametrize("numpy_dtype, dtype", NUMPY_DTYPES)
def test_from_dlpack_of_numpy_shares_memory(numpy_dtype, dtype):
    array = sample(numpy_dtype)
    tensor = tg.from_dlpack(array)
    assert tensor.dtype == dtype and tensor.data_ptr() == array.ctypes.data
    array[2, 2] = 1
    assert tensor.tolist() == array.tolist()


@pytest.mark.parametrize("numpy_dtype, dtype", NUMPY_DTYPES)
def test_torch_round_trips(numpy_dtype, dtype):
    tensor = tg.tensor(sample(numpy_dtype).tolist(), dtype=dtype)
    theirs = torch.from_dlpack(tensor)
    assert theirs.data_ptr() == tensor.data_ptr() and theirs.tolist() == tensor.tolist()
    theirs[0, 0] = 1
    assert tensor.tolist()[0][0] == theirs[0, 0].item()
    ours = tg.from_dlpack(theirs)
    assert ours.data_ptr() == theirs.data_ptr() and ours.dtype == dtype


def test_strided_views_cross_dlpack():
    base = tg.arange(24.0).reshape(4, 6)
    view = base.t().narrow(0, 1, 3)
    theirs = torch.from_dlpack(view)
    assert theirs.stride() == view.stride() and theirs.tolist() == view.tolist()
    assert theirs.data_ptr() == view.data_ptr()
    back = tg.from_dlpack(torch.arange(24.0).reshape(4, 6)[:, 1::2].t())
    assert back.stride() == (2, 6) and back.tolist() == torch.arange(24.0).reshape(4, 6)[:, 1::2].t().tolist()
    assert np.from_dlpack(tg.tensor(3.5)).shape == ()
    assert tg.from_dlpack(np.zeros((0, 3))).shape == (0, 3)


def test_from_dlpack_keeps_the_producer_alive():
    theirs = torch.arange(100.0)
    ours = tg.from_dlpack(theirs)
    del theirs
    gc.collect()
    assert ours.sum().item() == 4950.0
    array = np.arange(50.0)
    from_array = tg.from_dlpack(array)
    del array
    gc.collect()
    assert from_array.sum().item() == 1225.0


def test_the_producer_deleter_runs_exactly_once():
    array = np.arange(10.0)
    references = sys.getrefcount(array)
    tensor = tg.from_dlpack(array)
    view = tensor.narrow(0, 2, 3)
    del tensor
    gc.collect()
    assert sys.getrefcount(array) > references  # still held for the view
    del view
    gc.collect()
    assert sys.getrefcount(array) == references  # released once: a second release would go below
    unused = array.__dlpack__()
    del unused
    gc.collect()
    assert sys.getrefcount(array) == references


def test_our_capsules_release_when_unconsumed():
    array = np.arange(5.0)
    references = sys.getrefcount(array)
    tensor = tg.from_numpy(array)
    legacy, versioned = tensor.__dlpack__(), tensor.__dlpack__(max_version=(1, 0))
    del tensor
    gc.collect()
    assert sys.getrefcount(array) == references + 1
    del legacy, versioned
    gc.collect()
    assert sys.getrefcount(array) == references


def test_capsules_are_consumed_once():
    tensor = tg.arange(3.0)
    capsule = tensor.__dlpack__()
    first = tg.from_dlpack(capsule)
    assert first.data_ptr() == tensor.data_ptr()
    with pytest.raises(ValueError, match=r"\[from_dlpack\] this DLPack capsule was already consumed"):
        tg.from_dlpack(capsule)
    versioned = tensor.__dlpack__(max_version=(1, 2))
    assert "dltensor_versioned" in repr(versioned)
    assert tg.from_dlpack(versioned).tolist() == [0.0, 1.0, 2.0]
    assert "dltensor_versioned" not in repr(tensor.__dlpack__(max_version=(0, 8)))


def test_dlpack_export_options():
    tensor = tg.arange(4.0)
    copied = np.from_dlpack(tensor, copy=True)
    assert copied.ctypes.data != tensor.data_ptr() and copied.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert np.from_dlpack(tensor, copy=False).ctypes.data == tensor.data_ptr()
    assert np.from_dlpack(tensor, device="cpu").ctypes.data == tensor.data_ptr()
    with pytest.raises(BufferError, match=r"stream must be None"):
        tensor.__dlpack__(stream=1)
    with pytest.raises(BufferError, match=r"can only export to the CPU"):
        tensor.__dlpack__(dl_device=(2, 0))
    with pytest.raises(RuntimeError, match=r"\[__dlpack__\] can't export a tensor that requires grad"):
        tg.ones(2, requires_grad=True).__dlpack__()


def test_from_dlpack_refuses():
    with pytest.raises(TypeError, match=r"\[from_dlpack\] expected an object with __dlpack__ or a DLPack capsule, got list"):
        tg.from_dlpack([1.0])
    with pytest.raises(TypeError, match=r"\[from_dlpack\] unsupported DLPack dtype \(code 1, bits 8"):
        tg.from_dlpack(np.ones(3, dtype=np.uint8))
    with pytest.raises(TypeError, match=r"unsupported DLPack dtype"):
        tg.from_dlpack(torch.ones(3, dtype=torch.float16))
    with pytest.raises(ValueError, match=r"\[from_dlpack\] negative strides are not supported"):
        tg.from_dlpack(np.arange(4.0)[::-1])
    readonly = np.arange(3.0)
    readonly.flags.writeable = False
    with pytest.raises(RuntimeError, match=r"\[from_dlpack\] the producer marked its memory read-only"):
        tg.from_dlpack(readonly)
    assert readonly.tolist() == [0.0, 1.0, 2.0]  # a refused capsule is released by its producer, not leaked


def test_a_size_one_dimension_with_a_huge_stride_reaches_numpy_as_torch_hands_it():
    # Its stride in bytes overflows int64; it wraps as PyTorch's does, computed without the signed
    # overflow UBSan reported (the dimension has one element, so the stride is never used).
    strided = torch.zeros(2).as_strided((1, 2), (2**62, 1))
    ours = tg.from_dlpack(strided)
    assert ours.numpy().strides == memoryview(ours).strides == strided.numpy().strides == (0, 4)
