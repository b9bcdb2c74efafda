"""PyTorch's legacy tensor construction, kept for the course code that still uses it: Tensor(data)
and Tensor(*sizes) in the default dtype, the typed constructors FloatTensor, DoubleTensor,
LongTensor, IntTensor and BoolTensor (which `isinstance` answers by dtype, as torch's do), and
autograd.Variable, now an alias that returns a tensor."""
import warnings

from . import _C
from ._tensor import Size


def _is_size_argument(value):
    return isinstance(value, int) and not isinstance(value, bool)


def legacy_new(dtype, args, kwargs, op="Tensor"):
    """A tensor of `dtype` from torch's legacy constructor arguments: (*sizes) or (Size) gives an
    uninitialised tensor of that shape, (data) a copy of a sequence or array, (tensor) an alias of
    a tensor of this dtype."""
    kwargs = dict(kwargs)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"[{op}] unexpected keyword argument {next(iter(kwargs))!r}")
    if not args:
        return _C.empty(0, dtype=dtype, device=device)
    if all(_is_size_argument(size) for size in args):
        return _C.empty(args, dtype=dtype, device=device)
    if len(args) > 1:
        raise TypeError(f"[{op}] expected sizes (ints) or one sequence of data, got "
                        f"({', '.join(type(arg).__name__ for arg in args)})")
    data = args[0]
    if isinstance(data, Size):
        return _C.empty(data, dtype=dtype, device=device)
    if isinstance(data, _C.Tensor):
        if data.dtype != dtype:
            raise TypeError(f"[{op}] expected a tensor of dtype {dtype}, got {data.dtype}")
        return data.detach()
    if isinstance(data, (float, complex, bool, str)) or data is None:
        raise TypeError(f"[{op}] data must be a sequence (got {type(data).__name__})")
    return _C.tensor(data, dtype=dtype, device=device)


class _LegacyTensorType(type):
    """The metaclass of the typed constructors: calling one builds a tensor of its dtype, and
    isinstance(x, FloatTensor) asks whether x is a float32 tensor."""

    def __call__(cls, *args, **kwargs):
        return legacy_new(cls.dtype, args, kwargs, cls.__name__)

    def __instancecheck__(cls, instance):
        return isinstance(instance, _C.Tensor) and instance.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'tapegrad.{cls.__name__}'>"


class FloatTensor(metaclass=_LegacyTensorType):
    """Legacy constructor of float32 tensors: FloatTensor(data) or FloatTensor(*sizes), as torch.FloatTensor."""
    dtype = _C.float32


class DoubleTensor(metaclass=_LegacyTensorType):
    """Legacy constructor of float64 tensors: DoubleTensor(data) or DoubleTensor(*sizes), as torch.DoubleTensor."""
    dtype = _C.float64


class LongTensor(metaclass=_LegacyTensorType):
    """Legacy constructor of int64 tensors: LongTensor(data) or LongTensor(*sizes), as torch.LongTensor."""
    dtype = _C.int64


class IntTensor(metaclass=_LegacyTensorType):
    """Legacy constructor of int32 tensors: IntTensor(data) or IntTensor(*sizes), as torch.IntTensor."""
    dtype = _C.int32


class BoolTensor(metaclass=_LegacyTensorType):
    """Legacy constructor of bool tensors: BoolTensor(data) or BoolTensor(*sizes), as torch.BoolTensor."""
    dtype = _C.bool


class _VariableMeta(type):
    def __call__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with tapegrad.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            return _C.empty(0)
        if not isinstance(data, _C.Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        # As torch: a new leaf sharing data's memory, without its history.
        return data.detach().requires_grad_(requires_grad)

    def __instancecheck__(cls, instance):
        return isinstance(instance, _C.Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated, as torch.autograd.Variable: Variable(tensor, requires_grad=False) returns a tensor
    sharing tensor's memory (a new leaf), and every tensor is an instance of Variable."""
