"""Categorical(probs or logits), as torch.distributions.Categorical."""
import math

import numpy as np

from .. import _C
from .._tensor import Size
from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, finfo_min, logits_to_probs, probs_to_logits


def _ones_above_diagonal(size, dtype, inclusive):
    """The size x size matrix M with M[j, k] = 1 where j <= k (j < k unless inclusive): x @ M sums
    each row's elements up to (or before) each position."""
    return _C.tensor(np.triu(np.ones((size, size)), 0 if inclusive else 1), dtype=dtype)


def _cumulative_sum(values):
    """Cumulative sums over the last dim, as matmuls with triangular matrices of ones: within blocks
    of about sqrt(K) elements, then of the block totals, so that the matrices stay small (K * sqrt(K)
    work) for thousands of categories too."""
    count = values.shape[-1]
    block = math.isqrt(count - 1) + 1 if count > 1 else 1
    blocks = -(-count // block)
    batch = tuple(values.shape[:-1])
    if blocks * block != count:
        values = _C.cat([values, _C.zeros(batch + (blocks * block - count,), dtype=values.dtype)], -1)
    within = values.reshape(batch + (blocks, block)).matmul(_ones_above_diagonal(block, values.dtype, True))
    before = within[..., -1].matmul(_ones_above_diagonal(blocks, values.dtype, False))
    return (within + before.unsqueeze(-1)).reshape(batch + (blocks * block,))[..., :count]


class Categorical(Distribution):
    """A category in 0 .. K-1 with the probabilities of the last dim of probs (normalised to sum to
    one) or the softmax of logits; give exactly one of the two. The other dims are the batch."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    # Whichever of probs and logits was not given is computed when first read, as in torch.
    def __getattr__(self, name):
        if name == "probs":
            self.probs = logits_to_probs(self.__dict__["logits"])
            return self.probs
        if name == "logits":
            self.logits = probs_to_logits(self.__dict__["probs"])
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return _C.full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return _C.full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape=Size()):
        """Categories (int64) of shape sample_shape + batch_shape, by inverting the cumulative
        distribution: the category is the number of cumulative probabilities at or below a uniform
        draw (zero-probability categories are never drawn)."""
        probs = self.probs.detach()  # read outside no_grad: a lazily computed probs is cached with its history
        with no_grad():
            count = self._num_events
            cumulative = _cumulative_sum(probs)
            shape = Size(tuple(sample_shape) + tuple(self._batch_shape) + (1,))
            uniform = _C.rand(shape, dtype=probs.dtype) * cumulative[..., -1:]
            drawn = (cumulative <= uniform).sum(-1)
            return drawn.clamp(max=count - 1).to(_C.int64)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_all(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=finfo_min(self.logits.dtype))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """Every category, shaped (K,) + (1,) * len(batch_shape), expanded over the batch if expand."""
        values = _C.arange(self._num_events, dtype=_C.int64).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
