"""Matrix products in float32: square matmul, and the products of one training step of the
784-128-10 MLP at batch 128 with the operand layouts its forward and backward use (the transposes
are views, so each contestant multiplies through strides exactly as autograd would)."""

from bench.harness import Case

BATCH, INPUTS, HIDDEN, CLASSES = 128, 784, 128, 10


def uniform(np, shape):
    """float32 in [0, 1), as lib.rand gives the other contestants (never all-equal data: a kernel
    could run faster on it than on real inputs)."""
    return np.random.default_rng(0).random(shape, dtype=np.float32)


def square(size):
    def torchlike(lib):
        a, b = lib.rand(size, size), lib.rand(size, size)
        return lambda: a @ b

    def numpy(np):
        a, b = uniform(np, (size, size)), uniform(np, (size, size))
        return lambda: a @ b

    return Case(f"matmul {size}x{size}", torchlike=torchlike, numpy=numpy)


def product(name, left_shape, right_shape, transpose_left=False, transpose_right=False):
    """left @ right where a transposed operand is stored the other way round and viewed with .T."""
    def stored(shape, transposed):
        return tuple(reversed(shape)) if transposed else shape

    def torchlike(lib):
        left = lib.rand(*stored(left_shape, transpose_left))
        right = lib.rand(*stored(right_shape, transpose_right))
        left, right = (left.t() if transpose_left else left), (right.t() if transpose_right else right)
        return lambda: left @ right

    def numpy(np):
        left = uniform(np, stored(left_shape, transpose_left))
        right = uniform(np, stored(right_shape, transpose_right))
        left, right = (left.T if transpose_left else left), (right.T if transpose_right else right)
        return lambda: left @ right

    return Case(name, torchlike=torchlike, numpy=numpy)


CASES = [
    *(square(size) for size in (256, 512, 1024, 2048)),
    # forward: activations times the transposed weights
    product("X(128x784) @ W1^T", (BATCH, INPUTS), (INPUTS, HIDDEN), transpose_right=True),
    product("h(128x128) @ W2^T", (BATCH, HIDDEN), (HIDDEN, CLASSES), transpose_right=True),
    # backward: grad_input = G @ W and grad_weight = G^T @ input
    product("G2(128x10) @ W2", (BATCH, CLASSES), (CLASSES, HIDDEN)),
    product("G2^T @ h", (CLASSES, BATCH), (BATCH, HIDDEN), transpose_left=True),
    product("G1(128x128) @ W1", (BATCH, HIDDEN), (HIDDEN, INPUTS)),
    product("G1^T @ X", (HIDDEN, BATCH), (BATCH, INPUTS), transpose_left=True),
]
