"""Adamax (Adam with the infinity norm), as torch.optim.Adamax."""
from .. import _C
from .._tensor import tensor
from .optimizer import Optimizer, _check_adam_arguments


class Adamax(Optimizer):
    """Adamax (betas, eps, weight_decay, maximize), as torch.optim.Adamax; the update runs as one fused C++ step."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False):
        _check_adam_arguments(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, group):
        beta1, beta2 = group["betas"]
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            if not state:
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["exp_avg"] = _C.zeros_like(param)
                state["exp_inf"] = _C.zeros_like(param)
            _C._adamax_step(param, param.grad, state["exp_avg"], state["exp_inf"], state["step"], group["lr"], beta1,
                            beta2, group["eps"], group["weight_decay"], group["maximize"])
