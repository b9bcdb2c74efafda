"""Tensor creation: allocation and fill cost from 1 element (pure overhead) to 1M (bandwidth)."""

from functools import partial

from bench.harness import Case

SIZES = {"1": 1, "1k": 1_000, "1M": 1_000_000}
NESTED_LIST = [[float(10 * row + column) for column in range(10)] for row in range(100)]  # 1000 floats


def filled(function_name, size_label, *fill_value):
    """zeros/ones/empty/full: same signature in all three libraries; NumPy told float32 to match."""
    size = (SIZES[size_label],)
    return Case(
        f"{function_name}({size_label})",
        torchlike=lambda lib: partial(getattr(lib, function_name), size, *fill_value),
        numpy=lambda np: partial(getattr(np, function_name), size, *fill_value, dtype=np.float32),
    )


def arange(size_label):
    size = SIZES[size_label]  # int64 in all three libraries
    return Case(f"arange({size_label})", torchlike=lambda lib: partial(lib.arange, size),
                numpy=lambda np: partial(np.arange, size))


def random(function_name, numpy_method, size_label):
    size = (SIZES[size_label],)
    return Case(
        f"{function_name}({size_label})",
        torchlike=lambda lib: partial(getattr(lib, function_name), size),
        numpy=lambda np: partial(getattr(np.random.default_rng(0), numpy_method), size, dtype=np.float32),
    )


def from_numpy(lib):
    import numpy  # setup-time import: the module must not load NumPy before run.py sets threads

    return partial(lib.from_numpy, numpy.ones(1_000, dtype=numpy.float32))


CASES = [
    *(filled(name, size) for name in ("zeros", "ones", "empty") for size in SIZES),
    *(filled("full", size, 1.5) for size in SIZES),
    *(arange(size) for size in SIZES),
    *(random("rand", "random", size) for size in SIZES),
    *(random("randn", "standard_normal", size) for size in SIZES),
    Case("tensor(nested list of 1000 floats)", torchlike=lambda lib: partial(lib.tensor, NESTED_LIST),
         numpy=lambda np: partial(np.array, NESTED_LIST, dtype=np.float32)),
    Case("from_numpy(1k)", torchlike=from_numpy),  # shares memory; NumPy has no counterpart
]
