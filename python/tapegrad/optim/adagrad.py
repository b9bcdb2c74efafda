"""Adagrad (lr_decay, weight_decay, initial_accumulator_value, eps), as torch.optim.Adagrad."""
from .. import _C
from .._tensor import tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (lr_decay, weight_decay, initial_accumulator_value, eps, maximize), as torch.optim.Adagrad;
    the update runs as one fused C++ step."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        # As torch: the state of every parameter exists from the start, the sums at the initial value.
        for group in self.param_groups:
            for param in group["params"]:
                state = self.state[param]
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["sum"] = _C.full_like(param, initial_accumulator_value)

    def _update(self, group):
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            _C._adagrad_step(param, param.grad, state["sum"], state["step"], group["lr"], group["lr_decay"],
                             group["weight_decay"], group["eps"], group["maximize"])
