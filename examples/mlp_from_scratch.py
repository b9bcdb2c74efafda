"""An MLP whose backward pass is written by hand with `.g`, then checked against autograd
(fast.ai "backprop from the foundations").

Run: python examples/mlp_from_scratch.py
"""
import math

import tapegrad as tg

tg.manual_seed(42)
n, m, nh = 256, 20, 50
x_train = tg.randn(n, m)
y_train = (x_train[:, :1] * 2 + x_train[:, 1:2] - 0.5).squeeze(-1)

w1 = tg.randn(m, nh) * math.sqrt(2 / m)
b1 = tg.zeros(nh)
w2 = tg.randn(nh, 1) / math.sqrt(nh)
b2 = tg.zeros(1)


def lin(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp_min(0.0)


def mse(output, target):
    return ((output.squeeze(-1) - target) ** 2).mean()


# Backward functions store gradients on the inputs as `.g`.
def mse_grad(inp, target):
    inp.g = 2.0 * (inp.squeeze(-1) - target).unsqueeze(-1) / inp.shape[0]


def relu_grad(inp, out):
    inp.g = (inp > 0).float() * out.g


def lin_grad(inp, out, w, b):
    inp.g = out.g @ w.t()
    w.g = inp.t() @ out.g
    b.g = out.g.sum(0)


def forward_and_backward(inp, targ):
    l1 = lin(inp, w1, b1)
    l2 = relu(l1)
    out = lin(l2, w2, b2)
    loss = mse(out, targ)
    mse_grad(out, targ)
    lin_grad(l2, out, w2, b2)
    relu_grad(l1, l2)
    lin_grad(inp, l1, w1, b1)
    return loss


loss = forward_and_backward(x_train, y_train)
manual = [w1.g, b1.g, w2.g, b2.g, x_train.g]

# The same with autograd.
xt = x_train.clone().requires_grad_(True)
parameters = [p.clone().requires_grad_(True) for p in (w1, b1, w2, b2)]
w1a, b1a, w2a, b2a = parameters
loss_auto = mse(lin(relu(lin(xt, w1a, b1a)), w2a, b2a), y_train)
loss_auto.backward()
automatic = [p.grad for p in parameters] + [xt.grad]

for name, ours, theirs in zip(["w1", "b1", "w2", "b2", "x"], manual, automatic):
    error = (ours - theirs).abs().max().item()
    print(f"{name}: max |manual - autograd| = {error:.2e}")
    assert error < 1e-4, name
print(f"loss {loss.item():.4f}; hand-written backward matches autograd")
