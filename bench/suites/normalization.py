"""Normalisation forward+backward: batch_norm over a small ResNet block's activations (batch 64, 64
channels, 32x32) in training mode, and layer_norm over a transformer's (32x64 tokens of 256
features), each with affine parameters. Gradients accumulate across calls, as they would without
zero_grad. NumPy has no contestant.
"""

from bench.harness import Case


def functional(lib):
    return lib.nn.functional


def batch_norm_2d(lib):
    x = lib.randn(64, 64, 32, 32, requires_grad=True)
    weight, bias = lib.ones(64, requires_grad=True), lib.zeros(64, requires_grad=True)
    running_mean, running_var = lib.zeros(64), lib.ones(64)
    F = functional(lib)

    def step():
        F.batch_norm(x, running_mean, running_var, weight, bias, training=True).sum().backward()

    return step


def layer_norm(lib):
    x = lib.randn(32, 64, 256, requires_grad=True)
    weight, bias = lib.ones(256, requires_grad=True), lib.zeros(256, requires_grad=True)
    F = functional(lib)

    def step():
        F.layer_norm(x, (256,), weight, bias).sum().backward()

    return step


CASES = [
    Case("batch_norm2d 64x64x32x32 train forward+backward", torchlike=batch_norm_2d),
    Case("layer_norm 32x64x256 forward+backward", torchlike=layer_norm),
]
