"""Pure-Python conveniences added onto the C++ Tensor class: Size, a repr like PyTorch's, format(),
copy.copy/deepcopy and pickling."""
import copy
import math

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

    # Concatenation and repetition give a Size, whichever side the Size is on, as torch.Size's do.
    def __add__(self, other):
        result = tuple.__add__(self, other)
        return result if result is NotImplemented else Size(result)

    def __radd__(self, other):
        return Size(other + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, count):
        result = tuple.__mul__(self, count)
        return result if result is NotImplemented else Size(result)

    __rmul__ = __mul__


_C._set_size_type(Size)

# tensor() parses nested lists in C++ (csrc/python/interop.cpp); re-exported from here.
tensor = _C.tensor


# ---- repr ------------------------------------------------------------------------------------
# PyTorch's printing rules (torch/_tensor_str.py, default print options).
PRECISION = 4
THRESHOLD = 1000  # more elements than this are summarised with "..."
EDGE_ITEMS = 3
LINE_WIDTH = 80
SCI_MODE = None  # True or False forces scientific notation on or off (set_printoptions)


class _Formatter:
    """Chooses one width and one notation for every element, as PyTorch does."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for value in values:
                self.max_width = max(self.max_width, len(str(value)))
            return
        finite = [value for value in values if math.isfinite(value) and value != 0]
        if not finite:
            return
        magnitudes = [abs(value) for value in finite]
        largest, smallest = max(magnitudes), min(magnitudes)
        self.int_mode = all(value == math.ceil(value) for value in finite)
        if self.int_mode:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 if SCI_MODE is None else SCI_MODE
            widths = (len(f"{value:.{PRECISION}e}") if self.sci_mode else len(f"{value:.0f}") + 1 for value in finite)
        else:
            self.sci_mode = (largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4 if SCI_MODE is None
                             else SCI_MODE)
            widths = (len(f"{value:.{PRECISION}e}" if self.sci_mode else f"{value:.{PRECISION}f}") for value in finite)
        self.max_width = max(widths)

    def format(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRECISION}f}"
        return " " * (self.max_width - len(text)) + text


def _summarised_values(array, summarise):
    """The elements that will be printed, flattened (only the edges of a summarised tensor)."""
    if not summarise or array.ndim == 0:
        return array.reshape(-1).tolist()
    if array.shape[0] > 2 * EDGE_ITEMS:
        rows = [*array[:EDGE_ITEMS], *array[-EDGE_ITEMS:]]
    else:
        rows = list(array)
    if array.ndim == 1:
        return [row.item() for row in rows]
    return [value for row in rows for value in _summarised_values(row, summarise)]


def _vector_str(array, indent, summarise, formatter):
    elements_per_line = max(1, (LINE_WIDTH - indent) // (formatter.max_width + 2))
    if summarise and array.shape[0] > 2 * EDGE_ITEMS:
        data = [formatter.format(value) for value in array[:EDGE_ITEMS].tolist()]
        data += [" ..."] + [formatter.format(value) for value in array[-EDGE_ITEMS:].tolist()]
    else:
        data = [formatter.format(value) for value in array.tolist()]
    lines = [", ".join(data[start:start + elements_per_line]) for start in range(0, len(data), elements_per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(array, indent, summarise, formatter):
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarise, formatter)
    rows = range(array.shape[0])
    if summarise and array.shape[0] > 2 * EDGE_ITEMS:
        rows = [*range(EDGE_ITEMS), None, *range(array.shape[0] - EDGE_ITEMS, array.shape[0])]
    slices = ["..." if row is None else _array_str(array[row], indent + 1, summarise, formatter) for row in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_length + len(suffix) + 2 > LINE_WIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    return "".join(parts) + ")"


def _repr(self):
    """Like PyTorch's: tensor([[1., 2.]], dtype=tapegrad.float64, requires_grad=True)."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if self.numel() == 0:
        if self.dim() != 1:
            suffixes.append(f"size={tuple(self.shape)}")
        if self.dtype != _C.get_default_dtype():
            suffixes.append(f"dtype={self.dtype!r}")
        body = "[]"
    else:
        if self.dtype not in (_C.get_default_dtype(), _C.int64, _C.bool):
            suffixes.append(f"dtype={self.dtype!r}")
        # The printing works on the tensor itself, taking rows and edges as views: a NumPy array of
        # a huge expanded tensor could not even be made (NumPy caps an array's nominal bytes).
        data = self.detach()
        summarise = self.numel() > THRESHOLD
        formatter = _Formatter(_summarised_values(data, summarise), self.is_floating_point())
        body = _array_str(data, indent, summarise, formatter)
    if self.grad_fn is not None:
        suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


_C.Tensor.__repr__ = _repr
_C.Tensor.__str__ = _repr


def _format(self, format_spec):
    """format(t, spec): a 0-d tensor formats as its number (f"{loss:.4f}"), as in PyTorch; any
    other tensor only with an empty spec."""
    if self.dim() == 0 and type(self) is _C.Tensor:
        return self.detach().item().__format__(format_spec)
    return object.__format__(self, format_spec)


_C.Tensor.__format__ = _format


# ---- copy.copy, copy.deepcopy and pickle ---------------------------------------------------------
# As PyTorch's: a tensor is its whole storage plus (offset, size, stride), so a transposed tensor
# stays transposed and views copied together (in one deepcopy, or one pickle) keep sharing memory.
# Attributes in __dict__ come along; .grad comes along in deepcopy only, as in PyTorch.

def _on_storage(cls, storage, storage_offset, size, stride):
    """A new leaf of class cls viewing storage (a 1-D tensor without history) with the geometry."""
    tensor = cls.__new__(cls)
    _C.Tensor.__init__(tensor, storage.as_strided(size, stride, storage_offset))  # a fresh tensor, not a view
    return tensor


def _deepcopy(self, memo):
    if not self.is_leaf:
        raise RuntimeError(f"[deepcopy] only tensors created explicitly by the user (graph leaves) can be deep-copied; "
                           f"this one was made by {self.grad_fn.name()}, so deep-copy tensor.detach() instead")
    if id(self) in memo:
        return memo[id(self)]
    storage = self._storage_tensor()
    key = ("tapegrad storage", storage.data_ptr(), storage.numel(), storage.dtype)
    if storage.data_ptr() == 0:  # no memory: nothing to share
        copied = storage.clone()
    else:
        copied = memo.get(key)
        if copied is None:
            copied = memo[key] = storage.clone()
    new = _on_storage(type(self), copied, self.storage_offset(), self.size(), self.stride())
    if self.requires_grad:
        new.requires_grad_()
    if self.grad is not None:
        new.grad = _deepcopy(self.grad, memo)
    if self.__dict__:
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
    memo[id(self)] = new
    return new


def _rebuild_tensor(cls, storage_array, storage_offset, size, stride, requires_grad):
    tensor = _on_storage(cls, _C.from_numpy(storage_array), storage_offset, size, stride)
    if requires_grad:
        tensor.requires_grad_()
    return tensor


def _reduce_ex(self, protocol):
    # The storage as a NumPy array viewing it: pickle writes its bytes, and copy.copy hands it
    # straight back, so a shallow copy shares memory with the original, as PyTorch's does.
    storage = self._storage_tensor().numpy()
    arguments = (type(self), storage, self.storage_offset(), tuple(self.size()), self.stride(), self.requires_grad)
    return (_rebuild_tensor, arguments, self.__dict__ or None)


_C.Tensor.__deepcopy__ = _deepcopy
_C.Tensor.__reduce_ex__ = _reduce_ex
