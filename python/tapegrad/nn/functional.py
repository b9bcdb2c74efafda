"""tapegrad.nn.functional: the stateless forms of the layers and losses.

The losses are fused C++ kernels (csrc/tapegrad/ops/loss.cpp) with their own backward nodes.
"""
import math
import warnings

from .. import _C

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "one_hot", "flatten",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "pad",
           "unfold", "fold",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "embedding",
           "batch_norm", "layer_norm", "group_norm", "rms_norm", "normalize", "dropout1d", "dropout2d",
           "scaled_dot_product_attention",
           "gelu", "silu", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "softplus",
           "hardtanh", "hardtanh_", "relu6", "mish", "logsigmoid", "glu", "hardsigmoid", "hardswish", "softsign",
           "tanhshrink", "smooth_l1_loss", "huber_loss", "kl_div", "cosine_embedding_loss", "margin_ranking_loss"]


def _core(name):
    """The C++ op `name`, or a clear error while the build does not have it yet."""
    function = getattr(_C, name, None)
    if function is None:
        raise NotImplementedError(f"[{name}] this build of tapegrad has no {name} op yet")
    return function


def linear(input, weight, bias=None):
    """input @ weight.T + bias, as one fused GEMM."""
    return _core("linear")(input, weight, bias)


def _tuple(value, n, name, op=None):
    """An int or a sequence of n ints as a list of n ints, as PyTorch's conv arguments take them."""
    values = [value] * n if isinstance(value, int) else list(value)
    if len(values) != n:
        raise RuntimeError(f"[{op or f'conv{n}d'}] expected {name} to be a single integer or a list of {n} integers, "
                           f"got {value!r}")
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


def _conv_transpose(n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    op = f"conv_transpose{n}d"
    return _C._convolution_transpose(input, weight, bias, _tuple(stride, n, "stride", op),
                                     _tuple(padding, n, "padding", op), _tuple(output_padding, n, "output_padding", op),
                                     groups, _tuple(dilation, n, "dilation", op))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (conv1d's adjoint) over (N, C, L) or (C, L), weight (C, O / groups, K)."""
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (conv2d's adjoint) over (N, C, H, W) or (C, H, W), weight (C, O / groups, KH, KW);
    it runs on conv2d's input-gradient (col2im) kernel, with no zeros inserted between the input's elements."""
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


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


# ---- normalisation: fused kernels in csrc/tapegrad/ops/normalization.cpp (modules: nn/normalization.py) ----

def _verify_batch_size(size):
    """PyTorch's check that training statistics see more than one value per channel."""
    count = size[0]
    for extent in size[2:]:
        count *= extent
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(size)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises each channel (dim 1) by the batch's statistics (training, updating the running ones in place
    where given) or by the running statistics; one fused kernel forward and one backward."""
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _C._batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def _normalized_shape(normalized_shape):
    return [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the last len(normalized_shape) dims, then scales and shifts per element; fused kernels."""
    return _C._layer_norm(input, _normalized_shape(normalized_shape), weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each group of channels of each batch item, then scales and shifts per channel; fused kernels."""
    if input.dim() < 2:
        raise RuntimeError(f"[group_norm] Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size([input.shape[0] * input.shape[1] // num_groups, num_groups] + list(input.shape[2:]))
    return _C._group_norm(input, num_groups, weight, bias, eps)


# torch.finfo(dtype).eps: rms_norm's default eps.
_MACHINE_EPSILON = {_C.float32: 1.1920928955078125e-07, _C.float64: 2.220446049250313e-16}


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """input / sqrt(mean(input**2) + eps) over the last len(normalized_shape) dims, times weight; eps=None is
    the dtype's machine epsilon. Composed of tapegrad ops, as PyTorch's CPU rms_norm (grad_fn MulBackward0)."""
    shape = _normalized_shape(normalized_shape)
    if weight is not None and list(weight.shape) != shape:
        raise RuntimeError(f"[rms_norm] Expected weight to be of same shape as normalized_shape, but got weight of "
                           f"shape {list(weight.shape)} and normalized_shape = {shape}")
    if input.dim() < len(shape) or list(input.shape[input.dim() - len(shape):]) != shape:
        raise RuntimeError(f"[rms_norm] Given normalized_shape={shape}, expected input with shape [*, "
                           f"{str(shape)[1:-1]}], but got input of size {list(input.shape)}")
    if eps is None:
        eps = _MACHINE_EPSILON.get(input.dtype, _MACHINE_EPSILON[_C.float32])
    dims = list(range(-len(shape), 0))
    result = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    return result if weight is None else result * weight


def _vector_norm(input, p, dim):
    """The p-norm of input over dim, kept, with PyTorch's zero gradient at an all-zero vector (where the
    root's derivative is infinite)."""
    magnitude = input.abs()
    if p == math.inf:
        return magnitude.amax(dim, keepdim=True)
    if p == -math.inf:
        return magnitude.amin(dim, keepdim=True)
    if p == 0:
        return (input != 0).to(input.dtype).sum(dim, keepdim=True)
    if p == 1:
        return magnitude.sum(dim, keepdim=True)
    total = magnitude.pow(p).sum(dim, keepdim=True)
    positive = total > 0
    root = _C.where(positive, total, _C.ones_like(total)).pow(1.0 / p)
    return _C.where(positive, root, _C.zeros_like(total))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim."""
    result = input / _vector_norm(input, p, dim).clamp_min(eps).expand_as(input)
    return result if out is None else out.copy_(result)


def _feature_dropout(input, p, training, inplace, channel_dim):
    """Zeroes whole channels (dim channel_dim, each with its own mask per batch item) with probability p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    shape = list(input.shape[:channel_dim + 1]) + [1] * (input.dim() - channel_dim - 1)
    mask = _dropout_mask(shape, p, input.dtype)
    return input.mul_(mask) if inplace else input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of (N, C, L) or unbatched (C, L) input."""
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, channel_dim=input.dim() - 2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of (N, C, H, W); a 3-D input is taken as (N, C, L), with PyTorch's warning."""
    if input.dim() not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a "
            "channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
            "instead.", stacklevel=2)
    if input.dim() < 2:
        raise RuntimeError(f"[dropout2d] Feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{list(input.shape)}")
    return _feature_dropout(input, p, training, inplace, channel_dim=1)
# ---- end of normalisation ----


def relu(input, inplace=False):
    """max(input, 0) elementwise."""
    return input.relu_() if inplace else _C.relu(input)


def sigmoid(input):
    """The logistic sigmoid elementwise."""
    return _C.sigmoid(input)


def tanh(input):
    """tanh elementwise."""
    return _C.tanh(input)


# ---- activations: one C++ kernel each (csrc/tapegrad/ops/activation.cpp), PyTorch's node names ----

def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate="tanh" uses PyTorch's tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"[gelu] approximate argument must be either none or tanh, got {approximate!r}")
    return _C._activation("gelu" if approximate == "none" else "gelu_tanh", input)


def silu(input, inplace=False):
    """x * sigmoid(x) elementwise (the swish)."""
    return _C._activation("silu", input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return _C._activation("leaky_relu", input, inplace, negative_slope=negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu in place."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _C._activation("elu", input, inplace, alpha=alpha)


def elu_(input, alpha=1.0):
    """elu in place."""
    return elu(input, alpha, inplace=True)


# SELU's constants, as PyTorch gives them (Klambauer et al., 2017).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's fixed alpha and scale."""
    return _C._activation("elu", input, inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def selu_(input):
    """selu in place."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _C._activation("celu", input, inplace, alpha=alpha)


def celu_(input, alpha=1.0):
    """celu in place."""
    return celu(input, alpha, inplace=True)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    return _C._activation("softplus", input, beta=beta, threshold=threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]."""
    return _C._hardtanh(input, min_val, max_val, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """hardtanh in place."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6), whose node it has, as in PyTorch."""
    return hardtanh(input, 0.0, 6.0, inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _C._activation("mish", input, inplace)


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return _C._activation("log_sigmoid", input)


def glu(input, dim=-1):
    """a * sigmoid(b) for the two halves a, b of input along dim (of even size)."""
    return _C._glu(input, dim)


def hardsigmoid(input, inplace=False):
    """min(max(x + 3, 0), 6) / 6."""
    return _C._activation("hardsigmoid", input, inplace)


def hardswish(input, inplace=False):
    """x * hardsigmoid(x)."""
    return _C._activation("hardswish", input, inplace)


def softsign(input):
    """x / (1 + |x|), composed as PyTorch composes it (so its node is DivBackward0)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x), composed as PyTorch composes it (so its node is SubBackward0)."""
    return input - input.tanh()


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
    mask = _dropout_mask(input.shape, p, input.dtype)
    return input.mul_(mask) if inplace else input * mask


def _dropout_mask(shape, p, dtype):
    """Zeros with probability p, 1/(1-p) elsewhere (all zeros for p = 1), of `shape`."""
    if p == 1.0:
        return _C.zeros(*shape, dtype=dtype)
    return (_C.rand(*shape, dtype=dtype) < 1.0 - p).to(dtype) / (1.0 - p)


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


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 * d**2 / beta where |d| < beta, |d| - 0.5 * beta elsewhere, d = input - target; fused (beta 0: l1_loss)."""
    return _C._smooth_l1_loss(input, target, _reduction(size_average, reduce, reduction), beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 * d**2 where |d| < delta, delta * (|d| - 0.5 * delta) elsewhere, d = input - target; fused.

    weight (of input's shape) scales each element's loss before the reduction, as in PyTorch.
    """
    if weight is None:
        return _C._huber_loss(input, target, reduction, delta)
    if weight.shape != input.shape:
        raise ValueError(f"[huber_loss] weights and input must have the same size, got {list(weight.shape)} and "
                         f"{list(input.shape)}")
    return _apply_reduction(_C._huber_loss(input, target, "none", delta) * weight, reduction, "huber_loss")


def _apply_reduction(output, reduction, op):
    """The composed losses' reduction, with the message the fused ones give for a bad name."""
    if reduction == "none":
        return output
    if reduction == "mean":
        return output.mean()
    if reduction == "sum":
        return output.sum()
    raise ValueError(f"[{op}] '{reduction}' is not a valid value for reduction (expected 'none', 'mean' or 'sum')")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence of target from input (log-probabilities), composed of tapegrad ops as PyTorch composes it.

    reduction "batchmean" divides the sum by the batch size (input.size(0)), which is the KL divergence's
    mathematical definition; "mean" divides by the number of elements, and warns as PyTorch does.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        output = target.exp() * (target - input)
    else:
        # xlogy(target, target): 0 where target is 0 (and NaN for NaN, as PyTorch's xlogy).
        output = _C.where(target == 0, 0.0, target * target.log()) - target * input
    if reduction == "batchmean":
        reduced = output.sum()
        return reduced / input.size(0) if input.dim() != 0 else reduced
    return _apply_reduction(output, reduction, "kl_div")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1; composed as PyTorch's."""
    if target.dim() not in (0, 1):
        raise RuntimeError("[cosine_embedding_loss] 0D or 1D target tensor expected, multi-target not supported, "
                           f"got a target of shape {list(target.shape)}")
    dim = target.dim()
    if input1.dim() != dim + 1 or input2.dim() != dim + 1:
        raise RuntimeError(f"[cosine_embedding_loss] {dim}D target tensor expects {dim + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}")
    epsilon = 1e-12  # PyTorch's, keeping a zero vector's cosine finite
    product = (input1 * input2).sum(dim)
    magnitude1 = (input1 * input1).sum(dim) + epsilon
    magnitude2 = (input2 * input2).sum(dim) + epsilon
    cosine = product / (magnitude1 * magnitude2).sqrt()
    zeros = _C.zeros_like(cosine)
    positive = _C.where(target == 1, 1 - cosine, zeros)
    negative = _C.where(target == -1, (cosine - margin).clamp_min(0), zeros)
    return _apply_reduction(positive + negative, _reduction(size_average, reduce, reduction), "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin), composed as PyTorch's; the three broadcast together."""
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("[margin_ranking_loss] All input tensors should have same dimension but got sizes: "
                           f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: {list(target.shape)}")
    output = (-target * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(output, _reduction(size_average, reduce, reduction), "margin_ranking_loss")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax + nll_loss; target holds class indices (int64) or class probabilities.

    With class indices, no label smoothing and a gradient to record, the graph is PyTorch's
    (NllLossBackward0 over LogSoftmaxBackward0); otherwise one fused kernel computes it in one pass.
    """
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


# Composed of the functions above, so imported last (attention.py and padding.py import this module).
from .attention import scaled_dot_product_attention  # noqa: E402
from .padding import fold, pad, unfold  # noqa: E402
