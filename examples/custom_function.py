"""An op defined by its forward and backward with a context, mixed with built-in ops.

Run: python examples/custom_function.py
"""
import tapegrad as tg


class MyReLU(tg.autograd.Function):
    """ReLU written by hand, as in the PyTorch tutorial "Defining new autograd functions"."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class ScaledExp(tg.autograd.Function):
    """exp(x) * scale with a non-tensor argument: its gradient slot is None."""

    @staticmethod
    def forward(ctx, x, scale):
        y = x.exp() * scale
        ctx.save_for_backward(y)
        ctx.scale = scale
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y, None


tg.manual_seed(0)
x = tg.randn(5, requires_grad=True)
y = (MyReLU.apply(x) * ScaledExp.apply(x, 2.0)).sum()
y.backward()
x_check = x.detach().requires_grad_()
(x_check.relu() * x_check.exp() * 2.0).sum().backward()
print("custom :", x.grad.tolist())
print("builtin:", x_check.grad.tolist())
assert (x.grad - x_check.grad).abs().max().item() < 1e-6, "the custom backward disagrees with autograd"
assert (y - (x_check.relu() * x_check.exp() * 2.0).sum()).abs().item() < 1e-5, "the custom forward disagrees"
assert tg.autograd.gradcheck(lambda t: ScaledExp.apply(MyReLU.apply(t), 3.0), [x.detach().double().requires_grad_()])
print("gradcheck passed")
