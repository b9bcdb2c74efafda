"""Adadelta (lr, rho, eps, weight_decay), as torch.optim.Adadelta."""
from .. import _C
from .._tensor import tensor
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (lr, rho, eps, weight_decay, maximize), as torch.optim.Adadelta; the update runs as one
    fused C++ step."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, group):
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            if not state:
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["square_avg"] = _C.zeros_like(param)
                state["acc_delta"] = _C.zeros_like(param)
            _C._adadelta_step(param, param.grad, state["square_avg"], state["acc_delta"], state["step"], group["lr"],
                              group["rho"], group["eps"], group["weight_decay"], group["maximize"])
