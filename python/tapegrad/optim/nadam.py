"""NAdam (Adam with Nesterov momentum and momentum decay), as torch.optim.NAdam."""
from .. import _C
from .._tensor import tensor
from .optimizer import Optimizer, _check_adam_arguments


class NAdam(Optimizer):
    """NAdam (betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize), as torch.optim.NAdam;
    the update runs as one fused C++ step."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        _check_adam_arguments(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, group):
        beta1, beta2 = group["betas"]
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            if not state:
                # As torch: the step count and the product of the momentum factors are float32 tensors.
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["mu_product"] = tensor(1.0, dtype=_C.float32)
                state["exp_avg"] = _C.zeros_like(param)
                state["exp_avg_sq"] = _C.zeros_like(param)
            _C._nadam_step(param, param.grad, state["exp_avg"], state["exp_avg_sq"], state["mu_product"], state["step"],
                           group["lr"], beta1, beta2, group["eps"], group["weight_decay"], group["momentum_decay"],
                           group["decoupled_weight_decay"], group["maximize"])
