"""Pure-Python conveniences added onto the C++ Tensor class: Size, repr, and data construction."""
import numpy as np

from . import _C


class Size(tuple):
    """The shape of a tensor: a tuple of ints, as torch.Size."""

    __slots__ = ()

    def numel(self):
        count = 1
        for size in self:
            count *= size
        return count

    def __repr__(self):
        return f"tapegrad.Size({list(self)})"

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item


_C._set_size_type(Size)

_NUMPY_TO_DTYPE = {
    np.dtype(np.float32): _C.float32,
    np.dtype(np.float64): _C.float64,
    np.dtype(np.int32): _C.int32,
    np.dtype(np.int64): _C.int64,
    np.dtype(np.bool_): _C.bool,
}
_DTYPE_TO_NUMPY = {dtype: numpy_dtype for numpy_dtype, dtype in _NUMPY_TO_DTYPE.items()}


def _infer_dtype(data):
    """PyTorch's inference for Python data: floats -> default dtype, ints -> int64, bools -> bool."""
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return array, _C.get_default_dtype() if not isinstance(data, np.ndarray) else _NUMPY_TO_DTYPE.get(array.dtype)
    if array.dtype.kind in "iu":
        return array, _C.int64 if not isinstance(data, np.ndarray) else _NUMPY_TO_DTYPE.get(array.dtype)
    if array.dtype.kind == "b":
        return array, _C.bool
    raise TypeError(f"[tensor] can't make a tensor from data of NumPy dtype {array.dtype}")


def _flatten_tensors(data):
    """Lists that contain tensors (e.g. [t1, t2]) become nested lists of numbers."""
    if isinstance(data, _C.Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(item) for item in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays or tensors)."""
    if isinstance(data, _C.Tensor):
        result = data.detach().to(dtype=dtype or data.dtype, copy=True)
    else:
        if isinstance(data, (list, tuple)):
            data = _flatten_tensors(data)
        try:
            array, inferred = _infer_dtype(data)
        except ValueError as error:
            raise ValueError(f"[tensor] data has an inhomogeneous (ragged) shape: {error}") from None
        target = inferred if dtype is None else dtype
        if target is None:
            raise TypeError(f"[tensor] unsupported NumPy dtype {array.dtype}")
        # Not ascontiguousarray: it turns a 0-dim array into a 1-dim one.
        array = np.asarray(array, dtype=_DTYPE_TO_NUMPY[_C._dtype_of(target)], order="C")
        result = _C.from_numpy(array.copy())
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"[tensor] device {device} is not available in this build")
    if requires_grad:
        result.requires_grad_(True)
    return result


def _format(tensor_value):
    array = tensor_value.detach().numpy()
    if array.dtype == np.bool_:
        body = np.array2string(array, separator=", ", prefix="tensor(")
    elif array.dtype.kind == "f":
        body = np.array2string(
            array,
            separator=", ",
            prefix="tensor(",
            formatter=None,
            floatmode="maxprec",
            precision=4,
        )
    else:
        body = np.array2string(array, separator=", ", prefix="tensor(")
    return body


def _repr(self):
    """Like PyTorch's: tensor([[1., 2.]], dtype=tapegrad.float64, requires_grad=True)."""
    extras = []
    if self.dtype not in (_C.get_default_dtype(), _C.int64, _C.bool):
        extras.append(f"dtype={self.dtype!r}")
    if self.numel() == 0 and self.dim() != 1:
        extras.append(f"size={tuple(self.shape)}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    body = _format(self) if self.numel() > 0 else "[]"
    return "tensor(" + body + "".join(", " + extra for extra in extras) + ")"


_C.Tensor.__repr__ = _repr
_C.Tensor.__str__ = _repr
