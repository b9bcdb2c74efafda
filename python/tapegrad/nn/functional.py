"""tapegrad.nn.functional: the stateless forms of the layers and losses.

The losses are fused C++ kernels (csrc/tapegrad/ops/loss.cpp) with their own backward nodes.
"""
import warnings

from .. import _C

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "one_hot", "flatten",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv1d", "conv2d",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "embedding"]


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


def _max_pool(n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    stride = kernel_size if stride is None or stride == [] else stride
    output, indices = _C._pool(f"max_pool{n}d", input, _tuple(kernel_size, n, "kernel_size"),
                               _tuple(stride, n, "stride"), _tuple(padding, n, "padding"),
                               _tuple(dilation, n, "dilation"), ceil_mode, True, 0)
    return (output, indices) if return_indices else output


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    stride = kernel_size if stride is None or stride == [] else stride
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"[avg_pool{n}d] divisor must be not zero")
    return _C._pool(f"avg_pool{n}d", input, _tuple(kernel_size, n, "kernel_size"), _tuple(stride, n, "stride"),
                    _tuple(padding, n, "padding"), [1] * n, ceil_mode, count_include_pad, divisor_override or 0)[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _output_size(n, input, output_size):
    """PyTorch's adaptive output_size: an int, or a sequence whose None entries keep the input's size."""
    sizes = [output_size] * n if isinstance(output_size, int) else list(output_size)
    if len(sizes) != n:
        raise RuntimeError(f"[adaptive_pool{n}d] output_size must be {n} integers, got {output_size!r}")
    return [input.shape[input.dim() - n + i] if size is None else size for i, size in enumerate(sizes)]


def adaptive_avg_pool1d(input, output_size):
    return _C._adaptive_pool("adaptive_avg_pool1d", input, _output_size(1, input, output_size))[0]


def adaptive_avg_pool2d(input, output_size):
    return _C._adaptive_pool("adaptive_avg_pool2d", input, _output_size(2, input, output_size))[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    output, indices = _C._adaptive_pool("adaptive_max_pool2d", input, _output_size(2, input, output_size))
    return (output, indices) if return_indices else output


def relu(input, inplace=False):
    """max(input, 0) elementwise."""
    return input.relu_() if inplace else _C.relu(input)


def sigmoid(input):
    """The logistic sigmoid elementwise."""
    return _C.sigmoid(input)


def tanh(input):
    """tanh elementwise."""
    return _C.tanh(input)


def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's legacy choice when dim is not given, with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along dim."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _core("softmax")(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)) along dim, computed stably."""
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
    """Flattens dims start_dim..end_dim."""
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


# ---- embedding -------------------------------------------------------------------------------

def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Scales the rows of weight that input looks up down to norm max_norm, in place, as PyTorch."""
    from ..autograd import no_grad
    with no_grad():
        rows = _C.tensor(sorted(set(input.reshape(-1).tolist())), dtype=_C.int64)
        if rows.numel() == 0:
            return
        selected = weight.index_select(0, rows)
        norms = (selected.abs() ** norm_type).sum(1) ** (1.0 / norm_type)
        scale = _C.where(norms > max_norm, max_norm / (norms + 1e-7), _C.ones_like(norms))
        weight[rows] = selected * scale.unsqueeze(1)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """weight's rows at the integer indices in input: shape input.shape + (embedding_dim,).

    The padding_idx row gets no gradient; scale_grad_by_freq divides each row's gradient by how
    often it is looked up; max_norm renormalises the rows looked up in place first.
    """
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < weight.shape[0], "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -weight.shape[0], "Padding_idx must be within num_embeddings"
            padding_idx = weight.shape[0] + padding_idx
    else:
        padding_idx = -1
    if sparse:
        raise NotImplementedError("[embedding] sparse gradients are not implemented")
    if max_norm is not None:
        _embedding_renorm_(weight, input.contiguous(), max_norm, norm_type)
    return _C._embedding(weight, input, padding_idx, scale_grad_by_freq)


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
    """Mean squared error of input and target (reduction "mean", "sum" or "none")."""
    return _C._mse_loss(input, target, _reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error of input and target (reduction "mean", "sum" or "none")."""
    return _C._l1_loss(input, target, _reduction(size_average, reduce, reduction))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax + nll_loss in one pass; target holds class indices (int64) or class probabilities."""
    return _C._cross_entropy(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction),
                             label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities and class indices (weight, ignore_index, reduction)."""
    return _C._nll_loss(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy of probabilities and targets (weight, reduction)."""
    return _C._binary_cross_entropy(input, target, weight, _reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy of logits and targets (weight, pos_weight, reduction), computed stably."""
    return _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                                _reduction(size_average, reduce, reduction))
