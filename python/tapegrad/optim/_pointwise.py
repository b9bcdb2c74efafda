"""In-place pointwise updates shared by the optimizers written with tapegrad ops, in ATen's order of
floating-point operations so that float64 trajectories agree with torch.optim's."""


def lerp_(start, end, weight):
    """start += weight * (end - start), with ATen's formula for each half of the weight's range."""
    if abs(weight) < 0.5:
        start.add_(end.sub(start), alpha=weight)
    else:
        start.copy_(end.sub(end.sub(start).mul(1.0 - weight)))
    return start


def addcmul_(tensor, first, second, value):
    """tensor += value * first * second, multiplied left to right as ATen's addcmul."""
    return tensor.add_(first.mul(value).mul(second))


def decayed_grad(param, grad, weight_decay, maximize):
    """The gradient the update uses: negated to maximize, plus weight_decay * param (L2 decay)."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    return grad
