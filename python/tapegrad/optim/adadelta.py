"""Adadelta (lr, rho, eps, weight_decay), as torch.optim.Adadelta."""
from .. import _C
from .._tensor import tensor
from ._pointwise import addcmul_, decayed_grad
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (lr, rho, eps, weight_decay, maximize), as torch.optim.Adadelta."""

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
        rho, eps = group["rho"], group["eps"]
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            if not state:
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["square_avg"] = _C.zeros_like(param)
                state["acc_delta"] = _C.zeros_like(param)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            state["step"].add_(1)
            grad = decayed_grad(param, param.grad, group["weight_decay"], group["maximize"])
            addcmul_(square_avg.mul_(rho), grad, grad, 1 - rho)
            std = square_avg.add(eps).sqrt()
            delta = acc_delta.add(eps).sqrt().div(std).mul(grad)
            addcmul_(acc_delta.mul_(rho), delta, delta, 1 - rho)
            param.add_(delta, alpha=-group["lr"])
