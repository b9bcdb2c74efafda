"""Per-call overhead: the 1-element `a + b` of DESIGN.md, and a tiny autograd round trip."""

from bench.harness import Case


def add_one_element(lib):
    a, b = lib.ones(1), lib.ones(1)
    return lambda: a + b


def add_one_element_numpy(np):
    a, b = np.ones(1, dtype=np.float32), np.ones(1, dtype=np.float32)
    return lambda: a + b


def small_graph_backward(lib):
    """Five nodes forward and back; gradients accumulate across calls as they would without zero_grad."""
    a = lib.rand(16, requires_grad=True)
    b = lib.rand(16, requires_grad=True)
    return lambda: (a * b + a).relu().sum().backward()


CASES = [
    Case("a + b, 1 element, no grad", torchlike=add_one_element, numpy=add_one_element_numpy),
    Case("(a * b + a).relu().sum().backward(), 16 elements", torchlike=small_graph_backward),
]
