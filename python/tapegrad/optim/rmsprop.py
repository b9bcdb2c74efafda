"""RMSprop (alpha, eps, weight_decay, momentum, centered), as torch.optim.RMSprop."""
from .. import _C
from .._tensor import tensor
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (alpha, eps, weight_decay, momentum, centered, maximize), as torch.optim.RMSprop; the
    update runs as one fused C++ step."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, group):
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            if not state:
                # As torch: a float32 step count, and only the state the options use.
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["square_avg"] = _C.zeros_like(param)
                if group["momentum"] > 0:
                    state["momentum_buffer"] = _C.zeros_like(param)
                if group["centered"]:
                    state["grad_avg"] = _C.zeros_like(param)
            _C._rmsprop_step(param, param.grad, state["square_avg"], state.get("grad_avg"),
                             state.get("momentum_buffer"), state["step"], group["lr"], group["alpha"], group["eps"],
                             group["weight_decay"], group["momentum"], group["centered"], group["maximize"])
