"""Per-call overhead: the 1-element `a + b` of DESIGN.md, and a tiny autograd round trip."""

from bench.harness import Case


def add_one_element(lib):
    a, b = lib.ones(1), lib.ones(1)
    return lambda: a + b


def add_one_element_numpy(np):
    a, b = np.ones(1, dtype=np.float32), np.ones(1, dtype=np.float32)
    return lambda: a + b


def small_graph_backward(lib):
    """The small graph of the autograd issue on 1-element tensors: four nodes forward and back.
    Gradients accumulate across calls, as they would without zero_grad."""
    a = lib.rand(1, requires_grad=True)
    b = lib.rand(1, requires_grad=True)

    def step():
        x = a * b + a
        x.relu().sum().backward()

    return step


def mlp_batch_one(lib, zero_grad=False):
    """Forward and backward of a 784-128-10 MLP on one sample: per-op overhead dominates. Gradients
    accumulate across calls unless `zero_grad`, which sets them to None before each step, as
    optimizer.zero_grad() does in a training loop."""
    w1 = (lib.randn(128, 784) * 0.05).requires_grad_()
    b1 = lib.zeros(128, requires_grad=True)
    w2 = (lib.randn(10, 128) * 0.05).requires_grad_()
    b2 = lib.zeros(10, requires_grad=True)
    x = lib.randn(1, 784)
    target = lib.tensor([3])
    params = (w1, b1, w2, b2)

    def step():
        if zero_grad:
            for param in params:
                param.grad = None
        hidden = (x @ w1.t() + b1).relu()
        logits = hidden @ w2.t() + b2
        loss = logits.log_softmax(dim=1)[0, target[0]].neg()
        loss.backward()

    return step


def mlp_batch_one_zero_grad(lib):
    return mlp_batch_one(lib, zero_grad=True)


CASES = [
    Case("a + b, 1 element, no grad", torchlike=add_one_element, numpy=add_one_element_numpy),
    Case("x = a * b + a; x.relu().sum().backward(), 1 element", torchlike=small_graph_backward),
    Case("784-128-10 MLP forward+backward, batch 1", torchlike=mlp_batch_one),
    Case("784-128-10 MLP zero_grad+forward+backward, batch 1", torchlike=mlp_batch_one_zero_grad),
]
