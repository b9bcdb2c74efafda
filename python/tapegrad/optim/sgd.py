"""SGD with momentum, dampening, weight decay and Nesterov momentum, as torch.optim.SGD."""
from .. import _C
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, nesterov and weight_decay, as torch.optim.SGD; the update runs as one fused C++ step."""
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, group):
        momentum = group["momentum"]
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            # One fused pass: decay, momentum buffer (made from the first gradient), update.
            buffer = _C._sgd_step(param, param.grad, state.get("momentum_buffer"), group["lr"], momentum,
                                  group["dampening"], group["weight_decay"], group["nesterov"], group["maximize"])
            if momentum != 0:
                state["momentum_buffer"] = buffer
