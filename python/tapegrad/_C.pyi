"""
tapegrad's C++ core
"""
from __future__ import annotations
import collections.abc
import numpy
from tapegrad.return_types import max as _MaxResult
from tapegrad.return_types import min as _MinResult
from tapegrad.return_types import sort as _SortResult
from tapegrad.return_types import topk as _TopkResult
import typing
__all__: list[str] = ['Generator', 'Node', 'RemovableHandle', 'Tensor', 'abs', 'acos', 'add', 'addcdiv', 'addcmul', 'all', 'allclose', 'amax', 'amin', 'any', 'arange', 'argmax', 'argmin', 'argsort', 'as_tensor', 'asin', 'atan', 'bernoulli', 'bmm', 'bool', 'broadcast_to', 'cat', 'ceil', 'chunk', 'clamp', 'clamp_max', 'clamp_min', 'clip', 'clone', 'column_stack', 'concat', 'concatenate', 'cos', 'cosh', 'cumprod', 'cumsum', 'default_generator', 'device', 'diag', 'div', 'divide', 'dot', 'dstack', 'dtype', 'einsum', 'empty', 'empty_like', 'eq', 'equal', 'erf', 'exp', 'exp2', 'expm1', 'eye', 'flatten', 'flip', 'fliplr', 'flipud', 'float32', 'float64', 'floor', 'floor_divide', 'frac', 'from_dlpack', 'from_numpy', 'full', 'full_like', 'gather', 'ge', 'get_default_dtype', 'get_num_threads', 'get_rng_state', 'gt', 'hstack', 'index_add', 'index_put', 'index_select', 'initial_seed', 'int32', 'int64', 'is_grad_enabled', 'is_inference_mode_enabled', 'is_tensor', 'isclose', 'isfinite', 'isinf', 'isnan', 'le', 'lerp', 'linear', 'linspace', 'log', 'log10', 'log1p', 'log2', 'log_softmax', 'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'logsumexp', 'lt', 'manual_seed', 'masked_fill', 'masked_select', 'matmul', 'max', 'maximum', 'mean', 'meshgrid', 'min', 'minimum', 'mm', 'moveaxis', 'movedim', 'mul', 'multinomial', 'multiply', 'nan_to_num', 'narrow', 'ne', 'neg', 'negative', 'nonzero', 'norm', 'ones', 'ones_like', 'permute', 'pow', 'prod', 'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like', 'randperm', 'reciprocal', 'relu', 'remainder', 'repeat_interleave', 'reshape', 'roll', 'round', 'rsqrt', 'scatter', 'scatter_add', 'seed', 'select', 'set_default_dtype', 'set_num_threads', 'set_rng_state', 'sigmoid', 'sign', 'sin', 'sinh', 'softmax', 'sort', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'sub', 'subtract', 'sum', 'sum_to', 'swapaxes', 'swapdims', 't', 'take_along_dim', 'tan', 'tanh', 'tensor', 'threshold_backward', 'tile', 'topk', 'transpose', 'tril', 'triu', 'true_divide', 'trunc', 'unbind', 'unflatten', 'unsqueeze', 'var', 'vstack', 'where', 'zeros', 'zeros_like']
class dtype:
    """
    The element type.
    """
    def __reduce__(self) -> str:
        ...
    def __repr__(self) -> str:
        """
        The tensor as PyTorch prints it.
        """
    @property
    def is_floating_point(self) -> bool:
        """
        True for float32 and float64.
        """
    @property
    def itemsize(self) -> int:
        """
        Bytes per element.
        """
class device:
    """
    The device; always cpu.
    """
    def __eq__(self, arg0: typing.Any) -> typing.Any:
        """
        Elementwise self == other.
        """
    def __hash__(self) -> int:
        """
        Identity hash.
        """
    def __init__(self, type: typing.Any, index: typing.SupportsIndex | None = None) -> None:
        ...
    def __reduce__(self) -> tuple[type, tuple[str]]:
        ...
    def __repr__(self) -> str:
        """
        The tensor as PyTorch prints it.
        """
    def __str__(self) -> str:
        """
        The tensor as PyTorch prints it.
        """
    @property
    def index(self) -> typing.Any:
        """
        The device index (None for cpu).
        """
    @property
    def type(self) -> str:
        """
        The type name (no argument), or a copy converted to the given dtype.
        """
class Tensor:
    """
    An n-dimensional array on the CPU with reverse-mode autograd, shaped like torch.Tensor (float32, float64, int32, int64, bool; no CUDA).
    """
    def __abs__(self) -> Tensor:
        """
        abs(self).
        """
    def __add__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self + other.
        """
    def __array__(self, dtype: dtype | type | None = None, copy: typing.Any = None) -> typing.Any:
        """
        A NumPy array of the tensor's data.
        """
    def __bool__(self) -> bool:
        """
        Truth of a one-element tensor.
        """
    def __deepcopy__(self, memo):
        ...
    def __dlpack__(self, *, stream: typing.Any = None, max_version: typing.Any = None, dl_device: typing.Any = None, copy: typing.Any = None) -> typing.Any:
        """
        A DLPack capsule sharing the tensor's memory.
        """
    def __dlpack_device__(self) -> tuple[int, int]:
        """
        The DLPack device (CPU, 0).
        """
    def __eq__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        Elementwise self == other.
        """
    def __float__(self) -> float:
        """
        Value of a one-element tensor as float.
        """
    def __floordiv__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self // other.
        """
    def __format__(self, format_spec):
        """
        format(t, spec): a 0-d tensor formats as its number (f"{loss:.4f}"), as in PyTorch; any
            other tensor only with an empty spec.
        """
    def __ge__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        Elementwise self >= other.
        """
    def __getitem__(self, arg0: typing.Any) -> Tensor:
        """
        Indexing as NumPy and PyTorch: ints, slices, None, Ellipsis, bool and integer tensors.
        """
    def __gt__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        Elementwise self > other.
        """
    def __hash__(self) -> int:
        """
        Identity hash.
        """
    def __iadd__(self, arg0: Tensor | float | int | bool) -> Tensor:
        """
        self += other, in place.
        """
    def __imul__(self, arg0: Tensor | float | int | bool) -> Tensor:
        """
        self *= other, in place.
        """
    def __index__(self) -> int:
        """
        Value of a one-element integer tensor as an index.
        """
    def __init__(self, *args, **kwargs) -> None:
        ...
    def __int__(self) -> int:
        """
        Value of a one-element tensor as int.
        """
    def __invert__(self) -> Tensor:
        """
        Bitwise/logical not of an integer or bool tensor.
        """
    def __isub__(self, arg0: Tensor | float | int | bool) -> Tensor:
        """
        self -= other, in place.
        """
    def __iter__(self) -> collections.abc.Iterator:
        """
        Iterates over the rows along dim 0.
        """
    def __itruediv__(self, arg0: Tensor | float | int | bool) -> Tensor:
        """
        self /= other, in place.
        """
    def __le__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        Elementwise self <= other.
        """
    def __len__(self) -> int:
        """
        Size of dim 0.
        """
    def __lt__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        Elementwise self < other.
        """
    def __matmul__(self, arg0: Tensor) -> typing.Any:
        """
        self @ other.
        """
    def __mod__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self % other.
        """
    def __mul__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self * other.
        """
    def __ne__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        Elementwise self != other.
        """
    def __neg__(self) -> Tensor:
        """
        -self.
        """
    def __pow__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self ** other.
        """
    def __radd__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other + self.
        """
    def __reduce_ex__(self, protocol):
        ...
    def __repr__(self):
        """
        Like PyTorch's: tensor([[1., 2.]], dtype=tapegrad.float64, requires_grad=True).
        """
    def __rfloordiv__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other // self.
        """
    def __rmatmul__(self, arg0: Tensor) -> typing.Any:
        """
        other @ self.
        """
    def __rmod__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other % self.
        """
    def __rmul__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other * self.
        """
    def __rpow__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other ** self.
        """
    def __rsub__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other - self.
        """
    def __rtruediv__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        other / self.
        """
    def __setitem__(self, arg0: typing.Any, arg1: typing.Any) -> None:
        """
        Indexed assignment of a tensor or number.
        """
    def __str__(self):
        """
        Like PyTorch's: tensor([[1., 2.]], dtype=tapegrad.float64, requires_grad=True).
        """
    def __sub__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self - other.
        """
    def __truediv__(self, arg0: Tensor | float | int | bool) -> typing.Any:
        """
        self / other.
        """
    def _is_view(self) -> bool:
        ...
    def _storage_tensor(self) -> Tensor:
        ...
    def abs(self) -> Tensor:
        """
        Elementwise absolute value |x|.
        """
    def acos(self) -> Tensor:
        """
        Elementwise arccosine.
        """
    def add(self, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = None) -> Tensor:
        """
        input + alpha * other, broadcasting; other is a Tensor or a number.
        """
    def add_(self, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = 1) -> Tensor:
        """
        In-place add: self += alpha * other.
        """
    def addcdiv(self, tensor1: typing.Any, tensor2: typing.Any, *, value: typing.Any = 1) -> Tensor:
        """
        input + value * tensor1 / tensor2, elementwise with broadcasting.
        """
    def addcdiv_(self, tensor1: typing.Any, tensor2: typing.Any, *, value: typing.Any = 1) -> Tensor:
        """
        In-place addcdiv: self += value * tensor1 / tensor2.
        """
    def addcmul(self, tensor1: typing.Any, tensor2: typing.Any, *, value: typing.Any = 1) -> Tensor:
        """
        input + value * tensor1 * tensor2, elementwise with broadcasting.
        """
    def addcmul_(self, tensor1: typing.Any, tensor2: typing.Any, *, value: typing.Any = 1) -> Tensor:
        """
        In-place addcmul: self += value * tensor1 * tensor2.
        """
    def all(self, dim: typing.Any = None, keepdim: bool = False) -> Tensor:
        """
        True when every element is nonzero, overall or along dim.
        """
    def allclose(self, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: bool = False) -> bool:
        """
        True when |input - other| <= atol + rtol * |other| everywhere.
        """
    def amax(self, dim: typing.Any = (), keepdim: bool = False) -> Tensor:
        """
        Maximum over dim (a list of dims allowed); gradient split evenly between ties.
        """
    def amin(self, dim: typing.Any = (), keepdim: bool = False) -> Tensor:
        """
        Minimum over dim (a list of dims allowed); gradient split evenly between ties.
        """
    def any(self, dim: typing.Any = None, keepdim: bool = False) -> Tensor:
        """
        True when some element is nonzero, overall or along dim.
        """
    def argmax(self, dim: typing.SupportsIndex | None = None, keepdim: bool = False) -> Tensor:
        """
        Index of the maximum, flattened or along dim.
        """
    def argmin(self, dim: typing.SupportsIndex | None = None, keepdim: bool = False) -> Tensor:
        """
        Index of the minimum, flattened or along dim.
        """
    def argsort(self, dim: typing.SupportsIndex = -1, descending: bool = False, *, stable: typing.Any = False) -> Tensor:
        """
        The indices that sort input along dim (as sort(...).indices).
        """
    def as_strided(self, size: typing.Any, stride: typing.Any, storage_offset: typing.SupportsIndex | None = None) -> Tensor:
        """
        A view with the given sizes, strides and storage offset; no bounds beyond the storage are allowed.
        """
    def asin(self) -> Tensor:
        """
        Elementwise arcsine.
        """
    def atan(self) -> Tensor:
        """
        Elementwise arctangent.
        """
    def backward(self, gradient: typing.Any = None, retain_graph: typing.Any = None, create_graph: bool = False) -> None:
        """
        Computes gradients of this tensor w.r.t. the graph's leaves into their .grad (gradient needed unless scalar).
        """
    def bernoulli(self, p: typing.Any = None, *, generator: Generator | None = None) -> Tensor:
        """
        0 or 1 per element, 1 with the probability the element holds (or p, when given); zero gradient.
        """
    def bernoulli_(self, p: typing.Any = 0.5, *, generator: Generator | None = None) -> Tensor:
        """
        In place: each element 0 or 1, 1 with probability p (a number or a broadcastable tensor).
        """
    def bmm(self, other: Tensor) -> Tensor:
        """
        Batched product of two 3-D tensors.
        """
    def bool(self) -> Tensor:
        """
        A bool copy (self when already bool).
        """
    def broadcast_to(self, size: typing.Any) -> Tensor:
        """
        A broadcast view with the given shape.
        """
    def ceil(self) -> Tensor:
        """
        Elementwise ceiling.
        """
    def chunk(self, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> list:
        """
        Splits into the given number of near-equal views along dim.
        """
    def clamp(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        Limits every element to [min, max]; either bound may be None, a number or a Tensor.
        """
    def clamp_(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        In-place clamp.
        """
    def clamp_max(self, max: typing.Any) -> Tensor:
        """
        Limits every element to at most max.
        """
    def clamp_min(self, min: typing.Any) -> Tensor:
        """
        Limits every element to at least min.
        """
    def clip(self, min: typing.Any = None, max: typing.Any = None) -> Tensor:
        """
        Alias of clamp.
        """
    def clone(self) -> Tensor:
        """
        A copy that autograd records (gradients flow back to input).
        """
    def contiguous(self) -> Tensor:
        """
        The tensor itself when contiguous, otherwise a contiguous copy.
        """
    def copy_(self, src: typing.Any) -> Tensor:
        """
        Copies src into this tensor in place (broadcasting, converting dtype).
        """
    def cos(self) -> Tensor:
        """
        Elementwise cosine.
        """
    def cosh(self) -> Tensor:
        """
        Elementwise hyperbolic cosine.
        """
    def cpu(self) -> Tensor:
        """
        The tensor itself: every tensor is on the CPU.
        """
    def cuda(self, device: device | str | None = None, non_blocking: typing.Any = False) -> Tensor:
        """
        Raises: tapegrad has no CUDA backend.
        """
    def cumprod(self, dim: typing.SupportsIndex, *, dtype: dtype | type | None = None) -> Tensor:
        """
        Running product along dim; the gradient is exact where the input holds zeros.
        """
    def cumsum(self, dim: typing.SupportsIndex, *, dtype: dtype | type | None = None) -> Tensor:
        """
        Running sum along dim; integer and bool inputs sum in int64 unless dtype= is given.
        """
    def data_ptr(self) -> int:
        """
        The address of the first element.
        """
    def detach(self) -> Tensor:
        """
        An alias that autograd does not record; it shares the version counter, so autograd sees writes through it.
        """
    def detach_(self) -> Tensor:
        """
        Detaches this tensor from the graph in place.
        """
    def diag(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        1-D input: a square matrix with it on the `diagonal`-th diagonal; 2-D input: that diagonal, as a copy.
        """
    def dim(self) -> int:
        """
        Number of dims.
        """
    def div(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """
        input / other, broadcasting; rounding_mode None, 'trunc' or 'floor'.
        """
    def div_(self, other: Tensor | float | int | bool) -> Tensor:
        """
        In-place divide by other.
        """
    def divide(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """
        Alias of div.
        """
    def dot(self, other: Tensor) -> Tensor:
        """
        Inner product of two 1-D tensors.
        """
    def double(self) -> Tensor:
        """
        A float64 copy (self when already float64).
        """
    def element_size(self) -> int:
        """
        Bytes per element.
        """
    def eq(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise input == other, as a bool tensor.
        """
    def equal(self, other: Tensor) -> bool:
        """
        True when both tensors have the same shape and elements.
        """
    def erf(self) -> Tensor:
        """
        Elementwise error function.
        """
    def exp(self) -> Tensor:
        """
        Elementwise e**x.
        """
    def exp2(self) -> Tensor:
        """
        Elementwise 2**x.
        """
    def expand(self, *args, size: typing.Any = None) -> Tensor:
        """
        A broadcast view with the given sizes (-1 keeps a size); no copy.
        """
    def expand_as(self, other: Tensor) -> Tensor:
        """
        expand(other.shape).
        """
    def expm1(self) -> Tensor:
        """
        Elementwise e**x - 1, accurate near 0.
        """
    def fill_(self, value: typing.Any) -> Tensor:
        """
        Fills the tensor with value in place.
        """
    def flatten(self, start_dim: typing.SupportsIndex = 0, end_dim: typing.SupportsIndex = -1) -> Tensor:
        """
        Flattens dims start_dim..end_dim into one.
        """
    def flip(self, *args, dims: typing.Any = None) -> Tensor:
        """
        A copy with the order of the elements reversed along the given dims.
        """
    def fliplr(self) -> Tensor:
        """
        A copy with dim 1 reversed (input of at least 2 dims).
        """
    def flipud(self) -> Tensor:
        """
        A copy with dim 0 reversed (input of at least 1 dim).
        """
    def float(self) -> Tensor:
        """
        A float32 copy (self when already float32).
        """
    def floor(self) -> Tensor:
        """
        Elementwise floor.
        """
    def floor_divide(self, other: Tensor | float | int | bool) -> Tensor:
        """
        input // other, rounding toward negative infinity.
        """
    def frac(self) -> Tensor:
        """
        Elementwise fractional part x - trunc(x).
        """
    def gather(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
        """
        Picks values along dim at index, as torch.gather.
        """
    def ge(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise input >= other, as a bool tensor.
        """
    def gt(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise input > other, as a bool tensor.
        """
    def index_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, source: Tensor, *, alpha: float | int | bool | None = 1) -> Tensor:
        """
        A copy of self with alpha * source's slices added along dim at the positions of index (1-D); repeats sum.
        """
    def index_add_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, source: Tensor, *, alpha: float | int | bool | None = 1) -> Tensor:
        """
        In-place index_add: alpha * source's slices added into self along dim at the positions of index.
        """
    def index_put(self, indices: typing.Any, values: typing.Any, accumulate: bool = False) -> Tensor:
        """
        out-of-place index_put: a copy with values written at indices (accumulate adds).
        """
    def index_put_(self, indices: typing.Any, values: typing.Any, accumulate: bool = False) -> Tensor:
        """
        Writes values at indices in place (accumulate adds, duplicates summed).
        """
    def index_select(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
        """
        Picks the entries of index along dim.
        """
    def int(self) -> Tensor:
        """
        An int32 copy (self when already int32).
        """
    def is_contiguous(self) -> bool:
        """
        True when the elements are laid out in row-major order without gaps.
        """
    def is_floating_point(self) -> bool:
        """
        True for float32 and float64.
        """
    def is_inference(self) -> bool:
        """
        True for a tensor made in inference mode (or a view or detach of one): it cannot be saved for backward, nor written in place outside inference mode.
        """
    def is_shared(self):
        """
        Whether the tensor's memory is in shared memory (after share_memory_ or a trip through a
            multiprocessing queue).
        """
    def isclose(self, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: bool = False) -> Tensor:
        """
        Elementwise |input - other| <= atol + rtol * |other|, as a bool tensor.
        """
    def isfinite(self) -> Tensor:
        """
        Elementwise test for a finite number (bool): neither NaN nor infinite.
        """
    def isinf(self) -> Tensor:
        """
        Elementwise test for +inf or -inf (bool).
        """
    def isnan(self) -> Tensor:
        """
        Elementwise test for NaN (bool).
        """
    def item(self) -> typing.Any:
        """
        The value of a one-element tensor as a Python number.
        """
    def le(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise input <= other, as a bool tensor.
        """
    def lerp(self, end: typing.Any, weight: typing.Any) -> Tensor:
        """
        Linear interpolation input + weight * (end - input), with a number or tensor weight.
        """
    def lerp_(self, end: typing.Any, weight: typing.Any) -> Tensor:
        """
        In-place lerp: self += weight * (end - self).
        """
    def log(self) -> Tensor:
        """
        Elementwise natural logarithm.
        """
    def log10(self) -> Tensor:
        """
        Elementwise base-10 logarithm.
        """
    def log1p(self) -> Tensor:
        """
        Elementwise log(1 + x), accurate near 0.
        """
    def log2(self) -> Tensor:
        """
        Elementwise base-2 logarithm.
        """
    def log_softmax(self, dim: typing.SupportsIndex, dtype: dtype | type | None = None) -> Tensor:
        """
        log(softmax(input)) along dim, computed stably.
        """
    def logical_and(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise logical and of input and other (nonzero is True), bool.
        """
    def logical_not(self) -> Tensor:
        """
        Elementwise logical not; the result is bool.
        """
    def logical_or(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise logical or of input and other (nonzero is True), bool.
        """
    def logical_xor(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise logical exclusive or of input and other (nonzero is True), bool.
        """
    def logsumexp(self, dim: typing.Any, keepdim: bool = False) -> Tensor:
        """
        log(sum(exp(input))) over dim, computed stably.
        """
    def long(self) -> Tensor:
        """
        An int64 copy (self when already int64).
        """
    def lt(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise input < other, as a bool tensor.
        """
    def masked_fill(self, mask: Tensor, value: typing.Any) -> Tensor:
        """
        A copy with value written where mask is true.
        """
    def masked_fill_(self, mask: typing.Any, value: typing.Any) -> Tensor:
        """
        Writes value where mask is true, in place.
        """
    def masked_select(self, mask: Tensor) -> Tensor:
        """
        The elements of input (broadcast with the bool mask) where mask is True, as a 1-D tensor.
        """
    def matmul(self, other: Tensor) -> Tensor:
        """
        Matrix product with NumPy broadcasting rules (vector, matrix and batched operands).
        """
    def max(self, dim: typing.SupportsIndex | Tensor | None = None, keepdim: bool = False) -> typing.Any:
        """
        Maximum of all elements, or (values, indices) along dim, or the elementwise maximum with a tensor.
        """
    def maximum(self, other: Tensor) -> Tensor:
        """
        Elementwise maximum of two tensors, broadcasting.
        """
    def mean(self, dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
        """
        Mean over dim (all dims when None); floating dtypes only.
        """
    def min(self, dim: typing.SupportsIndex | Tensor | None = None, keepdim: bool = False) -> typing.Any:
        """
        Minimum of all elements, or (values, indices) along dim, or the elementwise minimum with a tensor.
        """
    def minimum(self, other: Tensor) -> Tensor:
        """
        Elementwise minimum of two tensors, broadcasting.
        """
    def mm(self, other: Tensor) -> Tensor:
        """
        Product of two 2-D matrices.
        """
    def moveaxis(self, source: typing.Any, destination: typing.Any) -> Tensor:
        """
        Alias of movedim.
        """
    def movedim(self, source: typing.Any, destination: typing.Any) -> Tensor:
        """
        The dims at source moved to destination, the others keeping their order (a view).
        """
    def mul(self, other: Tensor | float | int | bool) -> Tensor:
        """
        input * other, broadcasting; other is a Tensor or a number.
        """
    def mul_(self, other: Tensor | float | int | bool) -> Tensor:
        """
        In-place multiply by other.
        """
    def multinomial(self, num_samples: typing.SupportsIndex, replacement: bool = False, *, generator: Generator | None = None) -> Tensor:
        """
        num_samples category indices (int64) per row of the non-negative weights in input (1-D or 2-D), with or without replacement.
        """
    def multiply(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Alias of mul.
        """
    def nan_to_num(self, nan: typing.Any = 0.0, posinf: typing.Any = None, neginf: typing.Any = None) -> Tensor:
        """
        A copy with NaN, +inf and -inf replaced by nan, posinf and neginf (default: 0, the dtype's largest and lowest finite values).
        """
    def narrow(self, dim: typing.SupportsIndex, start: typing.SupportsIndex, length: typing.SupportsIndex) -> Tensor:
        """
        A view of length elements from start along dim.
        """
    def ndimension(self) -> int:
        """
        Number of dims.
        """
    def ne(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise input != other, as a bool tensor.
        """
    def neg(self) -> Tensor:
        """
        Elementwise negation -x.
        """
    def negative(self) -> Tensor:
        """
        Alias of neg: elementwise -x.
        """
    def nelement(self) -> int:
        """
        Number of elements.
        """
    def new_empty(self, *args, size: typing.Any = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
        """
        An uninitialised tensor of the given size, with self's dtype and device unless given.
        """
    def new_full(self, size: typing.Any, fill_value: typing.Any, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
        """
        A tensor of the given size filled with fill_value, with self's dtype and device unless given.
        """
    def new_ones(self, *args, size: typing.Any = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
        """
        A tensor of ones of the given size, with self's dtype and device unless given.
        """
    def new_tensor(self, data: typing.Any, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
        """
        A new tensor (a copy, without history) from data, with self's dtype and device unless given.
        """
    def new_zeros(self, *args, size: typing.Any = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
        """
        A tensor of zeros of the given size, with self's dtype and device unless given.
        """
    def nonzero(self, *, as_tuple: bool = False) -> typing.Any:
        """
        Indices of the nonzero elements, one row per element.
        """
    def norm(self, p: typing.Any = 'fro', dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
        """
        The vector p-norm over dim (all elements when None): p = 2 ('fro'), 1, inf, -inf, 0 or any number.
        """
    def normal_(self, mean: typing.SupportsFloat | typing.SupportsIndex = 0.0, std: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, generator: Generator | None = None) -> Tensor:
        """
        Fills in place with normal samples of the given mean and std.
        """
    def numel(self) -> int:
        """
        Number of elements.
        """
    def numpy(self, *, force: bool = False) -> numpy.ndarray:
        """
        A NumPy array sharing memory with the tensor (detach first when it requires grad).
        """
    def permute(self, *args, dims: typing.Any = None) -> Tensor:
        """
        A view with the dims reordered.
        """
    def pow(self, exponent: Tensor | float | int | bool) -> Tensor:
        """
        input ** exponent; either may be a number (not both).
        """
    def prod(self, dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
        """
        Product over dim (all dims when None).
        """
    def reciprocal(self) -> Tensor:
        """
        Elementwise 1 / x.
        """
    def register_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        Calls hook(grad) when the gradient is computed; a returned tensor replaces it. Returns a RemovableHandle.
        """
    def register_post_accumulate_grad_hook(self, hook: collections.abc.Callable) -> RemovableHandle:
        """
        Calls hook(tensor) after .grad of this leaf was accumulated. Returns a RemovableHandle.
        """
    def relu(self) -> Tensor:
        """
        Elementwise max(x, 0).
        """
    def relu_(self) -> Tensor:
        """
        In-place relu.
        """
    def remainder(self, other: Tensor | float | int | bool) -> Tensor:
        """
        Python-style modulus: the result has the sign of other.
        """
    def repeat(self, *args) -> Tensor:
        """
        The tensor tiled repeats[d] times along each dim; extra leading repeats add dims.
        """
    def repeat_interleave(self, repeats: typing.Any, dim: typing.Any = None) -> Tensor:
        """
        Each element (or slice along dim) repeated repeats times (an int or a tensor of counts); no dim: over the flattened input. With only a tensor of counts, the positions repeated.
        """
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """
        Sets requires_grad in place and returns self.
        """
    def reshape(self, *args, shape: typing.Any = None) -> Tensor:
        """
        The tensor with the given shape: a view when possible, a copy otherwise.
        """
    def reshape_as(self, other: Tensor) -> Tensor:
        """
        reshape(other.shape).
        """
    def retain_grad(self) -> None:
        """
        Keeps .grad for this non-leaf tensor after backward.
        """
    def roll(self, shifts: typing.Any, dims: typing.Any = None) -> Tensor:
        """
        A copy with the elements shifted along dims, wrapping round; no dims: over the flattened tensor.
        """
    def round(self) -> Tensor:
        """
        Elementwise rounding to the nearest integer, half to even.
        """
    def rsqrt(self) -> Tensor:
        """
        Elementwise 1 / sqrt(x).
        """
    def scatter(self, dim: typing.SupportsIndex, index: Tensor, src: typing.Any = None, *, value: typing.Any = None, reduce: typing.Any = None) -> Tensor:
        """
        A copy of self with src's elements (or value) written along dim at the places index names: `out[i][index[i][j]] = src[i][j]` for dim=1. reduce='add' sums instead (no gradient, as PyTorch's).
        """
    def scatter_(self, dim: typing.SupportsIndex, index: Tensor, src: typing.Any = None, *, value: typing.Any = None, reduce: typing.Any = None) -> Tensor:
        """
        In-place scatter: src (or value) written into self along dim at the places index names.
        """
    def scatter_add(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
        """
        A copy of self with src's elements added along dim at the places index names; repeated places sum.
        """
    def scatter_add_(self, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
        """
        In-place scatter_add: src's elements added into self along dim at the places index names.
        """
    def select(self, dim: typing.SupportsIndex, index: typing.SupportsIndex) -> Tensor:
        """
        A view of index along dim, with dim removed.
        """
    def share_memory_(self):
        """
        Moves the tensor's memory into shared memory, in place (a no-op if it is there already), as
            torch's share_memory_; the tensor passed through a multiprocessing queue then shares it with the
            receiving process. Other views of the old memory keep the old memory.
        """
    def sigmoid(self) -> Tensor:
        """
        Elementwise logistic sigmoid 1 / (1 + e**-x).
        """
    def sign(self) -> Tensor:
        """
        Elementwise sign: -1, 0 or 1.
        """
    def sin(self) -> Tensor:
        """
        Elementwise sine.
        """
    def sinh(self) -> Tensor:
        """
        Elementwise hyperbolic sine.
        """
    def size(self, dim: typing.SupportsIndex | None = None) -> typing.Any:
        """
        The sizes as a Size, or the size of dim.
        """
    def softmax(self, dim: typing.SupportsIndex, dtype: dtype | type | None = None) -> Tensor:
        """
        Softmax along dim.
        """
    def sort(self, dim: typing.SupportsIndex = -1, descending: bool = False, *, stable: typing.Any = None) -> typing.Any:
        """
        (values, indices) with each run along dim sorted, ascending unless descending=True; stable, NaN above every number.
        """
    def split(self, split_size: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> list:
        """
        Splits into pieces of split_size (or of the listed sizes) along dim; the pieces are views.
        """
    def sqrt(self) -> Tensor:
        """
        Elementwise square root.
        """
    def square(self) -> Tensor:
        """
        Elementwise x * x.
        """
    def squeeze(self, dim: typing.Any = None) -> Tensor:
        """
        Removes size-1 dims (only dim, when given).
        """
    def std(self, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: bool = False, *, correction: typing.Any = None) -> Tensor:
        """
        Standard deviation over dim with Bessel's correction (correction=1 by default).
        """
    def storage(self):
        """
        The tensor's storage as a TypedStorage (its elements, all of them for a view).
        """
    def storage_offset(self) -> int:
        """
        The offset of the first element in the storage, in elements.
        """
    def stride(self, dim: typing.SupportsIndex | None = None) -> typing.Any:
        """
        The strides in elements, or the stride of dim.
        """
    def sub(self, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = None) -> Tensor:
        """
        input - alpha * other, broadcasting; other is a Tensor or a number.
        """
    def sub_(self, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = 1) -> Tensor:
        """
        In-place sub: self -= alpha * other.
        """
    def subtract(self, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = None) -> Tensor:
        """
        Alias of sub.
        """
    def sum(self, dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
        """
        Sum over dim (all dims when None), keepdim keeps reduced dims as size 1; dtype sets the result dtype.
        """
    def swapaxes(self, dim0: typing.SupportsIndex, dim1: typing.SupportsIndex) -> Tensor:
        """
        Alias of transpose.
        """
    def swapdims(self, dim0: typing.SupportsIndex, dim1: typing.SupportsIndex) -> Tensor:
        """
        Alias of transpose.
        """
    def t(self) -> Tensor:
        """
        Transpose of a tensor of at most 2 dims.
        """
    def take_along_dim(self, indices: Tensor, dim: typing.SupportsIndex | None = None) -> Tensor:
        """
        Values of input at indices along dim, the other dims broadcast (gather with broadcasting); no dim: over the flattened input.
        """
    def tan(self) -> Tensor:
        """
        Elementwise tangent.
        """
    def tanh(self) -> Tensor:
        """
        Elementwise hyperbolic tangent.
        """
    def tile(self, *args) -> Tensor:
        """
        As repeat, with fewer repeats than dims allowed (they apply to the last dims).
        """
    def to(self, *args, dtype: dtype | type | None = None, device: device | str | None = None, non_blocking: typing.Any = False, copy: typing.Any = None) -> Tensor:
        """
        A tensor of the given dtype (and device; only 'cpu' exists): self when nothing changes.
        """
    def tolist(self) -> typing.Any:
        """
        The elements as nested Python lists.
        """
    def topk(self, k: typing.SupportsIndex, dim: typing.SupportsIndex = -1, largest: bool = True, sorted: bool = True) -> typing.Any:
        """
        (values, indices) of the k largest (largest=False: smallest) elements along dim, in sorted order.
        """
    def transpose(self, dim0: typing.SupportsIndex, dim1: typing.SupportsIndex) -> Tensor:
        """
        A view with dims dim0 and dim1 swapped.
        """
    def tril(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        The lower triangle of the last two dims (elements above `diagonal` zeroed).
        """
    def triu(self, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
        """
        The upper triangle of the last two dims (elements below `diagonal` zeroed).
        """
    def true_divide(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """
        input / other without rounding.
        """
    def trunc(self) -> Tensor:
        """
        Elementwise rounding toward zero.
        """
    def type(self, dtype: dtype | type | None = None) -> typing.Any:
        """
        The type name (no argument), or a copy converted to the given dtype.
        """
    def type_as(self, other: Tensor) -> Tensor:
        """
        self converted to other's dtype (self when it already has it).
        """
    def unbind(self, dim: typing.SupportsIndex = 0) -> tuple:
        """
        A tuple of the slices along dim, each a view without that dim.
        """
    def unflatten(self, dim: typing.SupportsIndex, sizes: typing.Any) -> Tensor:
        """
        dim split into the given sizes (one may be -1).
        """
    def uniform_(self, a: typing.SupportsFloat | typing.SupportsIndex = 0.0, b: typing.SupportsFloat | typing.SupportsIndex = 1.0, *, generator: Generator | None = None) -> Tensor:
        """
        Fills in place with uniform samples in [from, to).
        """
    def unsqueeze(self, dim: typing.SupportsIndex) -> Tensor:
        """
        Inserts a size-1 dim at dim.
        """
    def untyped_storage(self):
        """
        The tensor's storage as an UntypedStorage (its bytes).
        """
    def var(self, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: bool = False, *, correction: typing.Any = None) -> Tensor:
        """
        Variance over dim with Bessel's correction (correction=1 by default).
        """
    def view(self, *args, size: typing.Any = None) -> Tensor:
        """
        A view with the given shape (-1 infers one size); the tensor must be viewable without a copy.
        """
    def view_as(self, other: Tensor) -> Tensor:
        """
        view(other.shape).
        """
    def where(self, condition: Tensor, other: Tensor | float | int | bool) -> Tensor:
        """
        Elementwise choice: input where condition is true, other elsewhere; either may be a number.
        """
    def zero_(self) -> Tensor:
        """
        Fills the tensor with zeros in place.
        """
    @property
    def T(self) -> Tensor:
        """
        The tensor with its dims reversed (PyTorch deprecates it beyond 2 dims; tapegrad allows it).
        """
    @property
    def _base(self) -> Tensor:
        ...
    @property
    def _version(self) -> int:
        ...
    @property
    def data(self) -> Tensor:
        """
        A detached alias with a version counter of its own (autograd does not see writes through it); assigning replaces what the tensor holds, keeping its identity.
        """
    @data.setter
    def data(self, arg1: typing.Any) -> None:
        ...
    @property
    def device(self) -> typing.Any:
        """
        The device; always cpu.
        """
    @property
    def dtype(self) -> typing.Any:
        """
        The element type.
        """
    @property
    def grad(self) -> Tensor:
        """
        The gradient accumulated by backward (None until then); assignable.
        """
    @grad.setter
    def grad(self, arg1: typing.Any) -> None:
        ...
    @property
    def grad_fn(self) -> Node:
        """
        The Node that made this tensor, None for a leaf.
        """
    @property
    def is_cuda(self) -> bool:
        """
        Always False: tapegrad runs on the CPU.
        """
    @property
    def is_leaf(self) -> bool:
        """
        True for tensors not made by a recorded op.
        """
    @property
    def mT(self) -> Tensor:
        """
        The transpose of the last two dims.
        """
    @property
    def ndim(self) -> int:
        """
        Number of dims.
        """
    @property
    def requires_grad(self) -> bool:
        """
        Whether autograd records operations on this tensor; settable on leaves.
        """
    @requires_grad.setter
    def requires_grad(self, arg1: bool) -> None:
        ...
    @property
    def retains_grad(self) -> bool:
        """
        True when retain_grad() was called on this non-leaf.
        """
    @property
    def shape(self) -> typing.Any:
        """
        The sizes as a tapegrad.Size (a tuple).
        """
class Node:
    """
    A recorded operation in the autograd graph (what grad_fn returns), as PyTorch's Node.
    """
    def __repr__(self) -> str:
        """
        The tensor as PyTorch prints it.
        """
    def name(self) -> str:
        """
        The node's class name, e.g. 'AddBackward0'.
        """
    @property
    def _output_shapes(self) -> tuple:
        ...
    @property
    def _saved_tensors(self) -> list[Tensor]:
        ...
    @property
    def _sequence_nr(self) -> int:
        ...
    @property
    def next_functions(self) -> tuple:
        """
        (node, input_nr) pairs for each input of the op, as PyTorch's.
        """
    @property
    def variable(self) -> Tensor:
        """
        The leaf an AccumulateGrad node accumulates into.
        """
class _FunctionSavedTensors:
    def unpack(self) -> tuple:
        ...
class RemovableHandle:
    """
    What register_hook returns: remove() or leaving a `with` block takes the hook off.
    """
    def __enter__(self) -> typing.Any:
        """
        Returns the handle, for `with`.
        """
    def __exit__(self, *args) -> None:
        """
        Removes the hook at the end of a `with` block.
        """
    def __init__(self, hooks: dict) -> None:
        ...
    def remove(self) -> None:
        """
        Takes the hook off; removing twice is harmless.
        """
    @property
    def id(self) -> int:
        """
        The hook's number.
        """
class Generator:
    """
    A random stream of its own, for the generator= argument (as torch.Generator).
    """
    def __copy__(self) -> Generator:
        """
        A copy.
        """
    def __deepcopy__(self, arg0: typing.Any) -> Generator:
        """
        A deep copy keeping views' sharing.
        """
    def __getstate__(self) -> typing.Annotated[list[int], "FixedSize(7)"]:
        ...
    def __init__(self, device: device | str | None = 'cpu') -> None:
        ...
    def __setstate__(self, arg0: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(7)"]) -> None:
        ...
    def get_state(self) -> Tensor:
        """
        The generator's state as a uint8 tensor.
        """
    def initial_seed(self) -> int:
        """
        The seed the generator was last seeded with.
        """
    def manual_seed(self, seed: typing.Any) -> Generator:
        """
        Seeds the default generator (or this generator) and returns it.
        """
    def seed(self) -> int:
        """
        Seeds with a nondeterministic value and returns it.
        """
    def set_state(self, new_state: typing.Any) -> Generator:
        """
        Restores the generator's state from get_state().
        """
    @property
    def device(self) -> str:
        """
        The device; always cpu.
        """
def _activation(name: str, input: Tensor, inplace: bool = False, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0, scale: typing.SupportsFloat | typing.SupportsIndex = 1.0, input_scale: typing.SupportsFloat | typing.SupportsIndex = 1.0, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
    ...
def _adadelta_step(param: Tensor, grad: Tensor, square_avg: Tensor, acc_delta: Tensor, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, maximize: bool = False) -> None:
    ...
def _adagrad_step(param: Tensor, grad: Tensor, sum: Tensor, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, lr_decay: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, maximize: bool = False) -> None:
    ...
def _adam_step(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, max_exp_avg_sq: typing.Any, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, amsgrad: bool = False, maximize: bool = False) -> None:
    ...
def _adamax_step(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_inf: Tensor, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, maximize: bool = False) -> None:
    ...
def _adamw_step(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, max_exp_avg_sq: typing.Any, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, amsgrad: bool = False, maximize: bool = False) -> None:
    ...
def _adaptive_pool(name: str, input: Tensor, output_size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> tuple[Tensor, Tensor]:
    ...
def _backward(arg0: typing.Any, arg1: typing.Any, arg2: typing.Any, arg3: bool) -> None:
    ...
def _batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: typing.Any, running_var: typing.Any, training: bool, momentum: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    ...
def _binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = 'mean') -> Tensor:
    ...
def _binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, pos_weight: Tensor | None = None, reduction: str = 'mean') -> Tensor:
    ...
def _convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding_same: bool, dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], groups: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def _convolution_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], output_padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], groups: typing.SupportsInt | typing.SupportsIndex, dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def _cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean', label_smoothing: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> Tensor:
    ...
def _detected_cpu_isa() -> str:
    ...
def _dtype_of(arg0: dtype | type | None) -> typing.Any:
    ...
def _embedding(weight: Tensor | None, indices: typing.Any, padding_idx: typing.SupportsInt | typing.SupportsIndex, scale_grad_by_freq: bool) -> Tensor:
    ...
def _get_cpu_isa() -> str:
    ...
def _glu(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex = -1) -> Tensor:
    ...
def _grad(arg0: typing.Any, arg1: typing.Any, arg2: typing.Any, arg3: typing.Any, arg4: bool, arg5: bool) -> tuple:
    ...
def _group_norm(input: Tensor, num_groups: typing.SupportsInt | typing.SupportsIndex, weight: Tensor | None, bias: Tensor | None, eps: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    ...
def _hardtanh(input: Tensor, min_val: typing.Any = -1.0, max_val: typing.Any = 1.0, inplace: bool = False) -> Tensor:
    ...
def _huber_loss(input: Tensor, target: Tensor, reduction: str = 'mean', delta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    ...
def _is_anomaly_check_nan_enabled() -> bool:
    ...
def _is_anomaly_enabled() -> bool:
    ...
def _l1_loss(input: Tensor, target: Tensor, reduction: str = 'mean') -> Tensor:
    ...
def _layer_norm(input: Tensor, normalized_shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], weight: Tensor | None, bias: Tensor | None, eps: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    ...
def _log_softmax_backward_data(grad: Tensor, output: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def _mse_loss(input: Tensor, target: Tensor, reduction: str = 'mean') -> Tensor:
    ...
def _nadam_step(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, mu_product: Tensor, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum_decay: typing.SupportsFloat | typing.SupportsIndex, decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
    ...
def _nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean') -> Tensor:
    ...
def _pool(name: str, input: Tensor, kernel_size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], ceil_mode: bool, count_include_pad: bool, divisor_override: typing.SupportsInt | typing.SupportsIndex) -> tuple[Tensor, Tensor]:
    ...
def _profiler_enabled() -> bool:
    ...
def _profiler_pop() -> None:
    ...
def _profiler_push(arg0: str) -> bool:
    ...
def _profiler_start(record_shapes: bool, profile_memory: bool) -> None:
    ...
def _profiler_stop() -> list:
    ...
def _record_function(arg0: typing.Any, arg1: typing.Any, arg2: str, arg3: tuple, arg4: tuple, arg5: tuple, arg6: tuple, arg7: tuple, arg8: bool) -> tuple:
    ...
def _recurrent_layer(mode: str, input: Tensor, batch_sizes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], hx: typing.Any, cx: typing.Any, weight_ih: typing.Any, weight_hh: typing.Any, bias_ih: typing.Any, bias_hh: typing.Any, reverse: bool) -> list[Tensor]:
    ...
def _rmsprop_step(param: Tensor, grad: Tensor, square_avg: Tensor, grad_avg: typing.Any, momentum_buffer: typing.Any, step: Tensor, lr: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, centered: bool = False, maximize: bool = False) -> None:
    ...
def _set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    ...
def _set_cpu_isa(isa: str) -> None:
    ...
def _set_grad_enabled(arg0: bool) -> None:
    ...
def _set_inference_mode_enabled(arg0: bool) -> None:
    ...
def _set_size_type(arg0: typing.Any) -> None:
    ...
def _sgd_step(param: Tensor, grad: Tensor, momentum_buffer: typing.Any, lr: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex = 0.0, dampening: typing.SupportsFloat | typing.SupportsIndex = 0.0, weight_decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, nesterov: bool = False, maximize: bool = False) -> Tensor:
    ...
def _smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = 'mean', beta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    ...
def _softmax_backward_data(grad: Tensor, output: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def abs(input: Tensor) -> Tensor:
    """
    Elementwise absolute value |x|.
    """
def acos(input: Tensor) -> Tensor:
    """
    Elementwise arccosine.
    """
def add(input: Tensor, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = None) -> Tensor:
    """
    input + alpha * other, broadcasting; other is a Tensor or a number.
    """
def addcdiv(input: Tensor, tensor1: typing.Any, tensor2: typing.Any, *, value: typing.Any = 1) -> Tensor:
    """
    input + value * tensor1 / tensor2, elementwise with broadcasting.
    """
def addcmul(input: Tensor, tensor1: typing.Any, tensor2: typing.Any, *, value: typing.Any = 1) -> Tensor:
    """
    input + value * tensor1 * tensor2, elementwise with broadcasting.
    """
def all(input: Tensor, dim: typing.Any = None, keepdim: bool = False) -> Tensor:
    """
    True when every element is nonzero, overall or along dim.
    """
def allclose(input: Tensor, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: bool = False) -> bool:
    """
    True when |input - other| <= atol + rtol * |other| everywhere.
    """
def amax(input: Tensor, dim: typing.Any = (), keepdim: bool = False) -> Tensor:
    """
    Maximum over dim (a list of dims allowed); gradient split evenly between ties.
    """
def amin(input: Tensor, dim: typing.Any = (), keepdim: bool = False) -> Tensor:
    """
    Minimum over dim (a list of dims allowed); gradient split evenly between ties.
    """
def any(input: Tensor, dim: typing.Any = None, keepdim: bool = False) -> Tensor:
    """
    True when some element is nonzero, overall or along dim.
    """
def arange(start: typing.Any, end: typing.Any = None, step: typing.Any = 1, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    Values from start to end (exclusive) in steps of step.
    """
def argmax(input: Tensor, dim: typing.SupportsIndex | None = None, keepdim: bool = False) -> Tensor:
    """
    Index of the maximum, flattened or along dim.
    """
def argmin(input: Tensor, dim: typing.SupportsIndex | None = None, keepdim: bool = False) -> Tensor:
    """
    Index of the minimum, flattened or along dim.
    """
def argsort(input: Tensor, dim: typing.SupportsIndex = -1, descending: bool = False, *, stable: typing.Any = False) -> Tensor:
    """
    The indices that sort input along dim (as sort(...).indices).
    """
def as_tensor(data: typing.Any, dtype: dtype | type | None = None, *, device: device | str | None = None) -> Tensor:
    """
    data as a tensor, sharing memory with a Tensor or NumPy array of the right dtype when it can.
    """
def asin(input: Tensor) -> Tensor:
    """
    Elementwise arcsine.
    """
def atan(input: Tensor) -> Tensor:
    """
    Elementwise arctangent.
    """
def bernoulli(input: Tensor, p: typing.Any = None, *, generator: Generator | None = None) -> Tensor:
    """
    0 or 1 per element, 1 with the probability the element holds (or p, when given); zero gradient.
    """
def bmm(input: Tensor, other: Tensor) -> Tensor:
    """
    Batched product of two 3-D tensors.
    """
def broadcast_to(input: Tensor, size: typing.Any) -> Tensor:
    """
    A broadcast view with the given shape.
    """
def cat(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Concatenates tensors along an existing dim.
    """
def ceil(input: Tensor) -> Tensor:
    """
    Elementwise ceiling.
    """
def chunk(input: Tensor, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> list:
    """
    Splits into the given number of near-equal views along dim.
    """
def clamp(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    Limits every element to [min, max]; either bound may be None, a number or a Tensor.
    """
def clamp_max(input: Tensor, max: typing.Any) -> Tensor:
    """
    Limits every element to at most max.
    """
def clamp_min(input: Tensor, min: typing.Any) -> Tensor:
    """
    Limits every element to at least min.
    """
def clip(input: Tensor, min: typing.Any = None, max: typing.Any = None) -> Tensor:
    """
    Alias of clamp.
    """
def clone(input: Tensor) -> Tensor:
    """
    A copy that autograd records (gradients flow back to input).
    """
def column_stack(tensors: typing.Any) -> Tensor:
    """
    Tensors as columns side by side: 0-D and 1-D tensors become columns, then concatenated along dim 1.
    """
def concat(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Alias of cat.
    """
def concatenate(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Alias of cat.
    """
def cos(input: Tensor) -> Tensor:
    """
    Elementwise cosine.
    """
def cosh(input: Tensor) -> Tensor:
    """
    Elementwise hyperbolic cosine.
    """
def cumprod(input: Tensor, dim: typing.SupportsIndex, *, dtype: dtype | type | None = None) -> Tensor:
    """
    Running product along dim; the gradient is exact where the input holds zeros.
    """
def cumsum(input: Tensor, dim: typing.SupportsIndex, *, dtype: dtype | type | None = None) -> Tensor:
    """
    Running sum along dim; integer and bool inputs sum in int64 unless dtype= is given.
    """
def diag(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    1-D input: a square matrix with it on the `diagonal`-th diagonal; 2-D input: that diagonal, as a copy.
    """
def div(input: Tensor, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
    """
    input / other, broadcasting; rounding_mode None, 'trunc' or 'floor'.
    """
def divide(input: Tensor, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
    """
    Alias of div.
    """
def dot(input: Tensor, other: Tensor) -> Tensor:
    """
    Inner product of two 1-D tensors.
    """
def dstack(tensors: typing.Any) -> Tensor:
    """
    Tensors concatenated depth-wise (along dim 2 of at least 3-D views).
    """
def einsum(equation: str, *args) -> Tensor:
    """
    Einstein summation over the operands, as torch.einsum (equation string first).
    """
def empty(*args, size: typing.Any = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    An uninitialised tensor of the given size.
    """
def empty_like(input: Tensor, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    empty with the shape (and by default dtype) of input.
    """
def eq(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise input == other, as a bool tensor.
    """
def equal(input: Tensor, other: Tensor) -> bool:
    """
    True when both tensors have the same shape and elements.
    """
def erf(input: Tensor) -> Tensor:
    """
    Elementwise error function.
    """
def exp(input: Tensor) -> Tensor:
    """
    Elementwise e**x.
    """
def exp2(input: Tensor) -> Tensor:
    """
    Elementwise 2**x.
    """
def expm1(input: Tensor) -> Tensor:
    """
    Elementwise e**x - 1, accurate near 0.
    """
def eye(n: typing.SupportsIndex, m: typing.SupportsIndex | None = None, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    An n x m identity matrix.
    """
def flatten(input: Tensor, start_dim: typing.SupportsIndex = 0, end_dim: typing.SupportsIndex = -1) -> Tensor:
    """
    Flattens dims start_dim..end_dim into one.
    """
def flip(input: Tensor, dims: typing.Any) -> Tensor:
    """
    A copy with the order of the elements reversed along the given dims.
    """
def fliplr(input: Tensor) -> Tensor:
    """
    A copy with dim 1 reversed (input of at least 2 dims).
    """
def flipud(input: Tensor) -> Tensor:
    """
    A copy with dim 0 reversed (input of at least 1 dim).
    """
def floor(input: Tensor) -> Tensor:
    """
    Elementwise floor.
    """
def floor_divide(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    input // other, rounding toward negative infinity.
    """
def frac(input: Tensor) -> Tensor:
    """
    Elementwise fractional part x - trunc(x).
    """
def from_dlpack(ext_tensor: typing.Any) -> Tensor:
    """
    A tensor sharing memory with any DLPack producer (CPU only).
    """
def from_numpy(ndarray: typing.Any) -> Tensor:
    """
    A tensor sharing memory with a NumPy array.
    """
def full(size: typing.Any, fill_value: typing.Any, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    A tensor of the given size filled with fill_value.
    """
def full_like(input: Tensor, fill_value: typing.Any, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    full with the shape (and by default dtype) of input.
    """
def gather(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    """
    Picks values along dim at index, as torch.gather.
    """
def ge(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise input >= other, as a bool tensor.
    """
def get_default_dtype() -> typing.Any:
    """
    The floating dtype new tensors get (float32 unless set).
    """
def get_num_threads() -> int:
    """
    Number of threads the CPU kernels use.
    """
def get_rng_state() -> Tensor:
    """
    The default generator's state as a uint8 tensor.
    """
def gt(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise input > other, as a bool tensor.
    """
def hstack(tensors: typing.Any) -> Tensor:
    """
    Tensors concatenated horizontally: along dim 1, or dim 0 for 1-D tensors.
    """
def index_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, source: Tensor, *, alpha: float | int | bool | None = 1) -> Tensor:
    """
    A copy of self with alpha * source's slices added along dim at the positions of index (1-D); repeats sum.
    """
def index_put(input: Tensor, indices: typing.Any, values: typing.Any, accumulate: bool = False) -> Tensor:
    """
    out-of-place index_put: a copy with values written at indices (accumulate adds).
    """
def index_select(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    """
    Picks the entries of index along dim.
    """
def initial_seed() -> int:
    """
    The seed the generator was last seeded with.
    """
def is_grad_enabled() -> bool:
    """
    True when operations are being recorded for autograd.
    """
def is_inference_mode_enabled() -> bool:
    """
    True inside tapegrad.inference_mode() (in this thread).
    """
def is_tensor(obj: typing.Any) -> bool:
    """
    True when obj is a tapegrad Tensor.
    """
def isclose(input: Tensor, other: Tensor, rtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05, atol: typing.SupportsFloat | typing.SupportsIndex = 1e-08, equal_nan: bool = False) -> Tensor:
    """
    Elementwise |input - other| <= atol + rtol * |other|, as a bool tensor.
    """
def isfinite(input: Tensor) -> Tensor:
    """
    Elementwise test for a finite number (bool): neither NaN nor infinite.
    """
def isinf(input: Tensor) -> Tensor:
    """
    Elementwise test for +inf or -inf (bool).
    """
def isnan(input: Tensor) -> Tensor:
    """
    Elementwise test for NaN (bool).
    """
def le(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise input <= other, as a bool tensor.
    """
def lerp(input: Tensor, end: typing.Any, weight: typing.Any) -> Tensor:
    """
    Linear interpolation input + weight * (end - input), with a number or tensor weight.
    """
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """
    input @ weight.T + bias, as torch.nn.functional.linear.
    """
def linspace(start: typing.SupportsFloat | typing.SupportsIndex, end: typing.SupportsFloat | typing.SupportsIndex, steps: typing.SupportsIndex, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    steps values evenly spaced from start to end (inclusive).
    """
def log(input: Tensor) -> Tensor:
    """
    Elementwise natural logarithm.
    """
def log10(input: Tensor) -> Tensor:
    """
    Elementwise base-10 logarithm.
    """
def log1p(input: Tensor) -> Tensor:
    """
    Elementwise log(1 + x), accurate near 0.
    """
def log2(input: Tensor) -> Tensor:
    """
    Elementwise base-2 logarithm.
    """
def log_softmax(input: Tensor, dim: typing.SupportsIndex, dtype: dtype | type | None = None) -> Tensor:
    """
    log(softmax(input)) along dim, computed stably.
    """
def logical_and(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise logical and of input and other (nonzero is True), bool.
    """
def logical_not(input: Tensor) -> Tensor:
    """
    Elementwise logical not; the result is bool.
    """
def logical_or(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise logical or of input and other (nonzero is True), bool.
    """
def logical_xor(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise logical exclusive or of input and other (nonzero is True), bool.
    """
def logsumexp(input: Tensor, dim: typing.Any, keepdim: bool = False) -> Tensor:
    """
    log(sum(exp(input))) over dim, computed stably.
    """
def lt(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise input < other, as a bool tensor.
    """
def manual_seed(seed: typing.Any) -> typing.Any:
    """
    Seeds the default generator (or this generator) and returns it.
    """
def masked_fill(input: Tensor, mask: Tensor, value: typing.Any) -> Tensor:
    """
    A copy with value written where mask is true.
    """
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """
    The elements of input (broadcast with the bool mask) where mask is True, as a 1-D tensor.
    """
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """
    Matrix product with NumPy broadcasting rules (vector, matrix and batched operands).
    """
def max(input: Tensor, dim: typing.SupportsIndex | Tensor | None = None, keepdim: bool = False) -> typing.Any:
    """
    Maximum of all elements, or (values, indices) along dim, or the elementwise maximum with a tensor.
    """
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """
    Elementwise maximum of two tensors, broadcasting.
    """
def mean(input: Tensor, dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
    """
    Mean over dim (all dims when None); floating dtypes only.
    """
def meshgrid(*args, indexing: typing.Any = None) -> tuple:
    """
    Coordinate grids from 1-D tensors, as expanded views; indexing 'ij' (matrix) or 'xy' (Cartesian).
    """
def min(input: Tensor, dim: typing.SupportsIndex | Tensor | None = None, keepdim: bool = False) -> typing.Any:
    """
    Minimum of all elements, or (values, indices) along dim, or the elementwise minimum with a tensor.
    """
def minimum(input: Tensor, other: Tensor) -> Tensor:
    """
    Elementwise minimum of two tensors, broadcasting.
    """
def mm(input: Tensor, other: Tensor) -> Tensor:
    """
    Product of two 2-D matrices.
    """
def moveaxis(input: Tensor, source: typing.Any, destination: typing.Any) -> Tensor:
    """
    Alias of movedim.
    """
def movedim(input: Tensor, source: typing.Any, destination: typing.Any) -> Tensor:
    """
    The dims at source moved to destination, the others keeping their order (a view).
    """
def mul(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    input * other, broadcasting; other is a Tensor or a number.
    """
def multinomial(input: Tensor, num_samples: typing.SupportsIndex, replacement: bool = False, *, generator: Generator | None = None) -> Tensor:
    """
    num_samples category indices (int64) per row of the non-negative weights in input (1-D or 2-D), with or without replacement.
    """
def multiply(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Alias of mul.
    """
def nan_to_num(input: Tensor, nan: typing.Any = 0.0, posinf: typing.Any = None, neginf: typing.Any = None) -> Tensor:
    """
    A copy with NaN, +inf and -inf replaced by nan, posinf and neginf (default: 0, the dtype's largest and lowest finite values).
    """
def narrow(input: Tensor, dim: typing.SupportsIndex, start: typing.SupportsIndex, length: typing.SupportsIndex) -> Tensor:
    """
    A view of length elements from start along dim.
    """
def ne(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise input != other, as a bool tensor.
    """
def neg(input: Tensor) -> Tensor:
    """
    Elementwise negation -x.
    """
def negative(input: Tensor) -> Tensor:
    """
    Alias of neg: elementwise -x.
    """
def nonzero(input: Tensor, *, as_tuple: bool = False) -> typing.Any:
    """
    Indices of the nonzero elements, one row per element.
    """
def norm(input: Tensor, p: typing.Any = 'fro', dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
    """
    The vector p-norm over dim (all elements when None): p = 2 ('fro'), 1, inf, -inf, 0 or any number.
    """
def ones(*args, size: typing.Any = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    A tensor of ones of the given size.
    """
def ones_like(input: Tensor, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    ones with the shape (and by default dtype) of input.
    """
def permute(input: Tensor, dims: typing.Any) -> Tensor:
    """
    A view with the dims reordered.
    """
def pow(input: Tensor | float | int | bool, exponent: Tensor | float | int | bool) -> Tensor:
    """
    input ** exponent; either may be a number (not both).
    """
def prod(input: Tensor, dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
    """
    Product over dim (all dims when None).
    """
def rand(*args, size: typing.Any = None, generator: Generator | None = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    Uniform samples in [0, 1) from the (given or default) generator; same stream as tapegrad's, not PyTorch's.
    """
def rand_like(input: Tensor, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    rand with the shape of input.
    """
def randint(low: typing.Any, high: typing.Any = None, size: typing.Any = None, *, generator: Generator | None = None, dtype: dtype | type | None = None, device: device | str | None = None) -> Tensor:
    """
    Integers uniform in [low, high).
    """
def randint_like(input: Tensor, low: typing.SupportsIndex | None = None, high: typing.SupportsIndex | None = None, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    randint with the shape of input.
    """
def randn(*args, size: typing.Any = None, generator: Generator | None = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    Standard normal samples; the stream is tapegrad's own, not PyTorch's.
    """
def randn_like(input: Tensor, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    randn with the shape of input.
    """
def randperm(n: typing.SupportsIndex, *, generator: Generator | None = None, dtype: dtype | type | None = None, device: device | str | None = None) -> Tensor:
    """
    A random permutation of 0..n-1.
    """
def reciprocal(input: Tensor) -> Tensor:
    """
    Elementwise 1 / x.
    """
def relu(input: Tensor) -> Tensor:
    """
    Elementwise max(x, 0).
    """
def remainder(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """
    Python-style modulus: the result has the sign of other.
    """
def repeat_interleave(input: Tensor, repeats: Tensor | float | int | bool = None, dim: typing.SupportsIndex | None = None) -> Tensor:
    """
    Each element (or slice along dim) repeated repeats times (an int or a tensor of counts); no dim: over the flattened input. With only a tensor of counts, the positions repeated.
    """
def reshape(input: Tensor, shape: typing.Any) -> Tensor:
    """
    The tensor with the given shape: a view when possible, a copy otherwise.
    """
def roll(input: Tensor, shifts: typing.Any, dims: typing.Any = None) -> Tensor:
    """
    A copy with the elements shifted along dims, wrapping round; no dims: over the flattened tensor.
    """
def round(input: Tensor) -> Tensor:
    """
    Elementwise rounding to the nearest integer, half to even.
    """
def rsqrt(input: Tensor) -> Tensor:
    """
    Elementwise 1 / sqrt(x).
    """
def scatter(input: Tensor, dim: typing.SupportsIndex, index: Tensor, src: typing.Any = None, *, value: typing.Any = None, reduce: typing.Any = None) -> Tensor:
    """
    A copy of self with src's elements (or value) written along dim at the places index names: `out[i][index[i][j]] = src[i][j]` for dim=1. reduce='add' sums instead (no gradient, as PyTorch's).
    """
def scatter_add(input: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> Tensor:
    """
    A copy of self with src's elements added along dim at the places index names; repeated places sum.
    """
def seed() -> typing.Any:
    """
    Seeds with a nondeterministic value and returns it.
    """
def select(input: Tensor, dim: typing.SupportsIndex, index: typing.SupportsIndex) -> Tensor:
    """
    A view of index along dim, with dim removed.
    """
def set_default_dtype(d: dtype | type | None) -> None:
    """
    Sets the floating dtype new tensors get (float32 or float64).
    """
def set_num_threads(threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Sets the number of threads the CPU kernels use.
    """
def set_rng_state(new_state: typing.Any) -> None:
    """
    Restores the default generator's state from get_rng_state().
    """
def sigmoid(input: Tensor) -> Tensor:
    """
    Elementwise logistic sigmoid 1 / (1 + e**-x).
    """
def sign(input: Tensor) -> Tensor:
    """
    Elementwise sign: -1, 0 or 1.
    """
def sin(input: Tensor) -> Tensor:
    """
    Elementwise sine.
    """
def sinh(input: Tensor) -> Tensor:
    """
    Elementwise hyperbolic sine.
    """
def softmax(input: Tensor, dim: typing.SupportsIndex, dtype: dtype | type | None = None) -> Tensor:
    """
    Softmax along dim.
    """
def sort(input: Tensor, dim: typing.SupportsIndex = -1, descending: bool = False, *, stable: typing.Any = None) -> typing.Any:
    """
    (values, indices) with each run along dim sorted, ascending unless descending=True; stable, NaN above every number.
    """
def split(tensor: Tensor, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> list:
    """
    Splits into pieces of split_size (or of the listed sizes) along dim; the pieces are views.
    """
def sqrt(input: Tensor) -> Tensor:
    """
    Elementwise square root.
    """
def square(input: Tensor) -> Tensor:
    """
    Elementwise x * x.
    """
def squeeze(input: Tensor, dim: typing.Any = None) -> Tensor:
    """
    Removes size-1 dims (only dim, when given).
    """
def stack(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    Stacks tensors along a new dim.
    """
def std(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: bool = False, *, correction: typing.Any = None) -> Tensor:
    """
    Standard deviation over dim with Bessel's correction (correction=1 by default).
    """
def sub(input: Tensor, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = None) -> Tensor:
    """
    input - alpha * other, broadcasting; other is a Tensor or a number.
    """
def subtract(input: Tensor, other: Tensor | float | int | bool, *, alpha: float | int | bool | None = None) -> Tensor:
    """
    Alias of sub.
    """
def sum(input: Tensor, dim: typing.Any = None, keepdim: bool = False, *, dtype: dtype | type | None = None) -> Tensor:
    """
    Sum over dim (all dims when None), keepdim keeps reduced dims as size 1; dtype sets the result dtype.
    """
def sum_to(grad: Tensor, shape: typing.Any) -> Tensor:
    """
    Sums input down to the given broadcast-compatible shape (the backward of broadcasting).
    """
def swapaxes(input: Tensor, dim0: typing.SupportsIndex, dim1: typing.SupportsIndex) -> Tensor:
    """
    Alias of transpose.
    """
def swapdims(input: Tensor, dim0: typing.SupportsIndex, dim1: typing.SupportsIndex) -> Tensor:
    """
    Alias of transpose.
    """
def t(input: Tensor) -> Tensor:
    """
    Transpose of a tensor of at most 2 dims.
    """
def take_along_dim(input: Tensor, indices: Tensor, dim: typing.SupportsIndex | None = None) -> Tensor:
    """
    Values of input at indices along dim, the other dims broadcast (gather with broadcasting); no dim: over the flattened input.
    """
def tan(input: Tensor) -> Tensor:
    """
    Elementwise tangent.
    """
def tanh(input: Tensor) -> Tensor:
    """
    Elementwise hyperbolic tangent.
    """
def tensor(data: typing.Any, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    A new tensor copied from data (nested lists, numbers, NumPy arrays); dtype inferred as PyTorch does.
    """
def threshold_backward(grad_output: Tensor, input: Tensor) -> Tensor:
    """
    ReLU's backward: grad_output where input > threshold, 0 elsewhere.
    """
def tile(input: Tensor, dims: typing.Any) -> Tensor:
    """
    As repeat, with fewer repeats than dims allowed (they apply to the last dims).
    """
def topk(input: Tensor, k: typing.SupportsIndex, dim: typing.SupportsIndex = -1, largest: bool = True, sorted: bool = True) -> typing.Any:
    """
    (values, indices) of the k largest (largest=False: smallest) elements along dim, in sorted order.
    """
def transpose(input: Tensor, dim0: typing.SupportsIndex, dim1: typing.SupportsIndex) -> Tensor:
    """
    A view with dims dim0 and dim1 swapped.
    """
def tril(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    The lower triangle of the last two dims (elements above `diagonal` zeroed).
    """
def triu(input: Tensor, diagonal: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    """
    The upper triangle of the last two dims (elements below `diagonal` zeroed).
    """
def true_divide(input: Tensor, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
    """
    input / other without rounding.
    """
def trunc(input: Tensor) -> Tensor:
    """
    Elementwise rounding toward zero.
    """
def unbind(input: Tensor, dim: typing.SupportsIndex = 0) -> tuple:
    """
    A tuple of the slices along dim, each a view without that dim.
    """
def unflatten(input: Tensor, dim: typing.SupportsIndex, sizes: typing.Any) -> Tensor:
    """
    dim split into the given sizes (one may be -1).
    """
def unsqueeze(input: Tensor, dim: typing.SupportsIndex) -> Tensor:
    """
    Inserts a size-1 dim at dim.
    """
def var(input: Tensor, dim: typing.Any = None, unbiased: typing.Any = None, keepdim: bool = False, *, correction: typing.Any = None) -> Tensor:
    """
    Variance over dim with Bessel's correction (correction=1 by default).
    """
def vstack(tensors: typing.Any) -> Tensor:
    """
    Tensors concatenated vertically, 1-D ones as rows (along dim 0 of at least 2-D views).
    """
def where(condition: Tensor, input: Tensor | float | int | bool, other: Tensor | float | int | bool) -> Tensor:
    """
    Elementwise choice: input where condition is true, other elsewhere; either may be a number.
    """
def zeros(*args, size: typing.Any = None, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    A tensor of zeros of the given size.
    """
def zeros_like(input: Tensor, *, dtype: dtype | type | None = None, device: device | str | None = None, requires_grad: bool = False) -> Tensor:
    """
    zeros with the shape (and by default dtype) of input.
    """
bool: dtype
default_generator: Generator
float32: dtype
float64: dtype
int32: dtype
int64: dtype
