"""Helpers the distributions share, as torch.distributions.utils."""
import numbers

import numpy as np

from .. import _C
from .._tensor import Size


def broadcast_all(*values):
    """The values as tensors of one broadcast shape; numbers take the first tensor's dtype (or the
    default dtype when all are numbers)."""
    if not all(isinstance(v, (_C.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number or tapegrad.Tensor.")
    dtype = next((v.dtype for v in values if isinstance(v, _C.Tensor)), _C.get_default_dtype())
    tensors = [v if isinstance(v, _C.Tensor) else _C.tensor(v, dtype=dtype) for v in values]
    shape = Size(np.broadcast_shapes(*(tuple(t.shape) for t in tensors)))
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps], eps the machine epsilon of probs' dtype."""
    eps = float(np.finfo(str(probs.dtype).split(".")[1]).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits of probabilities: log(p), or log(p) - log(1 - p) for a binary event."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def logits_to_probs(logits, is_binary=False):
    """Probabilities of logits: the sigmoid for a binary event, else the softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def finfo_min(dtype):
    """The most negative finite number of a floating dtype."""
    return float(np.finfo(str(dtype).split(".")[1]).min)
