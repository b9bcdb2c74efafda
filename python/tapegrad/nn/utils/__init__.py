"""tapegrad.nn.utils: gradient clipping and parameter flattening, as in torch.nn.utils."""
import math
import types
import warnings

from ... import _C
from ...autograd import no_grad
from . import rnn  # noqa: F401  (torch.nn.utils.rnn)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, _C.Tensor) else list(tensors)


def _vector_norm(tensor, norm_type):
    """The norm of tensor's elements seen as one vector (torch.linalg.vector_norm's orders)."""
    if norm_type == math.inf:
        return tensor.abs().max()
    if norm_type == -math.inf:
        return tensor.abs().min()
    if norm_type == 0:
        return (tensor != 0).sum().to(tensor.dtype)
    if norm_type == 1:
        return tensor.abs().sum()
    if norm_type == 2:
        return (tensor * tensor).sum().sqrt()
    return (tensor.abs() ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (the norm of all their elements as one vector)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    with no_grad():
        if not tensors:
            return _C.tensor(0.0)
        total = _vector_norm(_C.stack([_vector_norm(tensor, norm_type) for tensor in tensors]), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients by max_norm / (total_norm + 1e-6) where that is below 1."""
    grads = [param.grad for param in _as_list(parameters) if param.grad is not None]
    if not grads:
        return
    with no_grad():
        coefficient = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(coefficient)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the parameters' gradients in place so that their total norm is at most max_norm;
    returns the total norm before clipping. `foreach` is accepted for PyTorch compatibility."""
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [param.grad for param in parameters if param.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps each gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for param in _as_list(parameters):
            if param.grad is not None:
                param.grad.clamp_(min=-clip_value, max=clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor."""
    return _C.cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec, parameters):
    """Sets the parameters' data from consecutive slices of a 1-D tensor."""
    if not isinstance(vec, _C.Tensor):
        raise TypeError(f"expected tapegrad.Tensor, but got: {type(vec).__name__}")
    offset = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[offset:offset + count].view_as(param).data
        offset += count
