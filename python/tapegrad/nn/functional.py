"""tapegrad.nn.functional: the stateless forms of the layers and losses.

The losses are fused C++ kernels (csrc/tapegrad/ops/loss.cpp) with their own backward nodes.
"""
import warnings

from .. import _C

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "one_hot", "flatten",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv1d", "conv2d"]


def _core(name):
    """The C++ op `name`, or a clear error while the build does not have it yet."""
    function = getattr(_C, name, None)
    if function is None:
        raise NotImplementedError(f"[{name}] this build of tapegrad has no {name} op yet")
    return function


def linear(input, weight, bias=None):
    """input @ weight.T + bias, as one fused GEMM."""
    return _core("linear")(input, weight, bias)


def _tuple(value, n, name):
    """An int or a sequence of n ints as a list of n ints, as PyTorch's conv arguments take them."""
    values = [value] * n if isinstance(value, int) else list(value)
    if len(values) != n:
        raise RuntimeError(f"[conv{n}d] expected {name} to be a single integer or a list of {n} integers, got {value!r}")
    return values


def _convolution(n, input, weight, bias, stride, padding, dilation, groups):
    same = False
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
        same, padding = padding == "same", 0
    return _C._convolution(input, weight, bias, _tuple(stride, n, "stride"), _tuple(padding, n, "padding"), same,
                           _tuple(dilation, n, "dilation"), groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L): im2col into a reused workspace and our GEMM."""
    return _convolution(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W), any input strides (channels-last included)."""
    return _convolution(2, input, weight, bias, stride, padding, dilation, groups)


def relu(input, inplace=False):
    return input.relu_() if inplace else _C.relu(input)


def sigmoid(input):
    return _C.sigmoid(input)


def tanh(input):
    return _C.tanh(input)


def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's legacy choice when dim is not given, with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _core("softmax")(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _core("log_softmax")(input, dim, dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1/(1-p), in training only."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = _C.zeros_like(input)
    else:
        mask = (_C.rand(*input.shape, dtype=input.dtype) < 1.0 - p).to(input.dtype) / (1.0 - p)
    return input.mul_(mask) if inplace else input * mask


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each class index."""
    if not isinstance(tensor, _C.Tensor) or tensor.dtype != _C.int64:
        raise RuntimeError("[one_hot] is only applicable to index tensors of dtype int64")
    values = tensor.numpy()
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("[one_hot] can not infer the total number of classes from an empty tensor")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise RuntimeError(f"[one_hot] class values must be non-negative, got {int(values.min())}")
    if values.size and values.max() >= num_classes:
        raise RuntimeError(f"[one_hot] class values must be smaller than num_classes ({num_classes}), "
                           f"got {int(values.max())}")
    classes = _C.arange(0, num_classes, 1, dtype=_C.int64)
    return (tensor.unsqueeze(-1) == classes).to(_C.int64)


# ---- losses ----------------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce):
    """The reduction the deprecated size_average/reduce arguments ask for."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduction(size_average, reduce, reduction):
    return _legacy_reduction(size_average, reduce) if size_average is not None or reduce is not None else reduction


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _C._mse_loss(input, target, _reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _C._l1_loss(input, target, _reduction(size_average, reduce, reduction))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax + nll_loss in one pass; target holds class indices (int64) or class probabilities."""
    return _C._cross_entropy(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction),
                             label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    return _C._nll_loss(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    return _C._binary_cross_entropy(input, target, weight, _reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    return _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                                _reduction(size_average, reduce, reduction))
