"""tapegrad.distributions: probability distributions to sample from and score samples with, as
torch.distributions (Categorical, Normal, Bernoulli, Uniform), for policy gradients (REINFORCE:
loss = -dist.log_prob(action) * reward) and reparameterised sampling (rsample)."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Categorical", "Normal", "Bernoulli", "Uniform", "constraints"]
