"""Copies: strided gathers (transposed layouts, row indexing) and plain memory bandwidth."""

from functools import partial

from bench.harness import Case


def contiguous_of_transposed(size):
    return Case(
        f"contiguous() of transposed {size}x{size}",
        torchlike=lambda lib: lib.rand(size, size).t().contiguous,
        numpy=lambda np: partial(np.ascontiguousarray, np.ones((size, size), dtype=np.float32).T),
    )


def gather_rows(lib):
    """The DataLoader case: one MNIST-sized batch of rows picked by a random int64 index."""
    images = lib.rand(60_000, 784)
    index = lib.randint(0, 60_000, (128,))
    return lambda: images[index]


def gather_rows_numpy(np):
    images = np.ones((60_000, 784), dtype=np.float32)
    index = np.random.default_rng(0).integers(0, 60_000, 128)
    return lambda: images[index]


def cat_four(lib):
    tensors = [lib.rand(256, 256) for _ in range(4)]
    return partial(lib.cat, tensors)


def cat_four_numpy(np):
    arrays = [np.ones((256, 256), dtype=np.float32) for _ in range(4)]
    return partial(np.concatenate, arrays)


CASES = [
    contiguous_of_transposed(1024),
    contiguous_of_transposed(4096),
    Case("clone() 1024x1024", torchlike=lambda lib: lib.rand(1024, 1024).clone,
         numpy=lambda np: np.ones((1024, 1024), dtype=np.float32).copy),
    Case(".to(float64) 1024x1024", torchlike=lambda lib: partial(lib.rand(1024, 1024).to, lib.float64),
         numpy=lambda np: partial(np.ones((1024, 1024), dtype=np.float32).astype, np.float64)),
    Case("x[idx] 128 rows of (60000, 784)", torchlike=gather_rows, numpy=gather_rows_numpy),
    Case("cat of 4 (256, 256)", torchlike=cat_four, numpy=cat_four_numpy),
]
