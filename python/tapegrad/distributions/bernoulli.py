"""Bernoulli(probs or logits), as torch.distributions.Bernoulli."""
import numbers

from .. import _C
from .._tensor import Size
from ..autograd import no_grad
from ..nn.functional import binary_cross_entropy_with_logits
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, logits_to_probs, probs_to_logits


class Bernoulli(Distribution):
    """1 with probability probs (or sigmoid(logits)), else 0; give exactly one of the two."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            numbers_only = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
        else:
            numbers_only = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size() if numbers_only else self._param.size(), validate_args=validate_args)

    # Whichever of probs and logits was not given is computed when first read, as in torch.
    def __getattr__(self, name):
        if name == "probs":
            self.probs = logits_to_probs(self.__dict__["logits"], is_binary=True)
            return self.probs
        if name == "logits":
            self.logits = probs_to_logits(self.__dict__["probs"], is_binary=True)
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach().expand(shape)  # outside no_grad: a lazily computed probs is cached with its history
        with no_grad():
            return (_C.rand(shape, dtype=probs.dtype) < probs).to(probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
