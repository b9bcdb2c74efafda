"""Adam and AdamW (decoupled weight decay), with amsgrad, as torch.optim.Adam and AdamW."""
from .. import _C
from .._tensor import tensor
from .optimizer import Optimizer, _check_adam_arguments


class Adam(Optimizer):
    """Adam (betas, eps, weight_decay, amsgrad, maximize), as torch.optim.Adam; the update runs as one fused C++ step."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        _check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, group):
        beta1, beta2 = group["betas"]
        step = _C._adamw_step if group["decoupled_weight_decay"] else _C._adam_step
        for param in group["params"]:
            if param.grad is None:
                continue
            state = self.state[param]
            if not state:
                # As torch: the step count is a float32 tensor, the moments start at zero.
                state["step"] = tensor(0.0, dtype=_C.float32)
                state["exp_avg"] = _C.zeros_like(param)
                state["exp_avg_sq"] = _C.zeros_like(param)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = _C.zeros_like(param)
            step(param, param.grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"), state["step"],
                 group["lr"], beta1, beta2, group["eps"], group["weight_decay"], group["amsgrad"], group["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay, as torch.optim.AdamW."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)
