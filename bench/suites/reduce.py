"""Reductions and softmax: sum and softmax over rows (dim=-1) and columns (dim=0) of a small batch
(128, 10) (overhead) and a large matrix (4096, 4096) (bandwidth, threads), plus a 1M-element sum.

NumPy has no softmax: its column is the usual stable composition exp(x - max) / sum.
"""

from functools import partial

from bench.harness import Case

SHAPES = {"128x10": (128, 10), "4096x4096": (4096, 4096)}


def data(np, shape):
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32)


def numpy_softmax(np, x, axis):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def sum_case(label, dim):
    shape = SHAPES[label]
    return Case(
        f"sum {label} dim={dim}",
        torchlike=lambda lib: partial(lib.randn(*shape).sum, dim),
        numpy=lambda np: partial(data(np, shape).sum, axis=dim),
    )


def softmax_case(label, dim):
    shape = SHAPES[label]
    return Case(
        f"softmax {label} dim={dim}",
        torchlike=lambda lib: partial(lib.softmax, lib.randn(*shape), dim),
        numpy=lambda np: partial(numpy_softmax, np, data(np, shape), dim),
    )


CASES = [
    Case("sum 1M", torchlike=lambda lib: lib.randn(1_000_000).sum, numpy=lambda np: data(np, (1_000_000,)).sum),
    *[sum_case(label, dim) for label in SHAPES for dim in (-1, 0)],
    *[softmax_case(label, dim) for label in SHAPES for dim in (-1, 0)],
]
