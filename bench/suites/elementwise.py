"""Elementwise throughput on 1M-element float32 tensors (memory-bound except exp)."""
from bench.harness import Case

SIZE = 1 << 20


def binary(symbol):
    def make(lib):
        a, b = lib.rand(SIZE), lib.rand(SIZE)
        return (lambda: a + b) if symbol == "+" else (lambda: a * b)

    def make_numpy(np):
        a, b = np.random.rand(SIZE).astype(np.float32), np.random.rand(SIZE).astype(np.float32)
        return (lambda: a + b) if symbol == "+" else (lambda: a * b)

    return Case(f"a {symbol} b, 1M float32", torchlike=make, numpy=make_numpy)


def unary(name, numpy_function=None):
    """A tensor method; numpy_function None where NumPy has no equivalent (erf)."""
    def make(lib):
        a = lib.rand(SIZE) * 4 - 2
        return getattr(a, name)

    def make_numpy(np):
        a = (np.random.rand(SIZE) * 4 - 2).astype(np.float32)
        return lambda: numpy_function(np, a)

    return Case(f"{name}, 1M float32", torchlike=make, numpy=make_numpy if numpy_function else None)


def activation(name, **options):
    """An nn.functional activation (NumPy has none)."""
    def make(lib):
        a = lib.rand(SIZE) * 8 - 4
        function = getattr(lib.nn.functional, name)
        return lambda: function(a, **options)

    label = ", ".join([name] + [f"{key}={value!r}" for key, value in options.items()])
    return Case(f"F.{label}, 1M float32", torchlike=make)


def activation_forward_backward(name):
    """The activation and its input's gradient through autograd.grad (no .grad accumulation timed)."""
    def make(lib):
        x = (lib.rand(SIZE) * 8 - 4).requires_grad_()
        grad = lib.rand(SIZE)
        function = getattr(lib.nn.functional, name)
        return lambda: lib.autograd.grad(function(x), (x,), grad)

    return Case(f"F.{name} fwd+bwd, 1M float32", torchlike=make)


CASES = [
    binary("+"),
    binary("*"),
    unary("relu", lambda np, a: np.maximum(a, np.float32(0))),
    unary("exp", lambda np, a: np.exp(a)),
    unary("sigmoid", lambda np, a: 1 / (1 + np.exp(-a))),
    unary("tanh", lambda np, a: np.tanh(a)),
    unary("erf"),
    activation("gelu"),
    activation_forward_backward("gelu"),
    activation("gelu", approximate="tanh"),
    activation("silu"),
]
