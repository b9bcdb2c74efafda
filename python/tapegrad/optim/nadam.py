"""NAdam (Adam with Nesterov momentum and momentum decay), as torch.optim.NAdam."""
from .. import _C
from .._tensor import tensor
from ._pointwise import addcmul_, lerp_
from .optimizer import Optimizer


class NAdam(Optimizer):
    """NAdam (betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize), as torch.optim.NAdam."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, group):
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
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
            exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
            grad = -param.grad if group["maximize"] else param.grad
            step = state["step"].add_(1).item()
            bias_correction2 = 1 - beta2 ** step
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(param, alpha=weight_decay)
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * group["momentum_decay"])))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * group["momentum_decay"])))
            mu_product.mul_(mu)
            lerp_(exp_avg, grad, 1 - beta1)
            addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
            denominator = exp_avg_sq.div(bias_correction2).sqrt().add(group["eps"])
            product = mu_product.item()
            param.add_(grad.div(denominator), alpha=-lr * (1.0 - mu) / (1.0 - product))
            param.add_(exp_avg.div(denominator), alpha=(-lr * mu_next) / (1.0 - product * mu_next))
