"""Convolution and pooling in float32: forward and backward of each layer of LeNet-5 at batch 64, of
a small ResNet block's 3x3 convolution, of a DCGAN-style transposed convolution, F.pad and F.unfold,
and one epoch of LeNet-5 training on Fashion-MNIST's shape
(60,000 28x28 images, batch 64, SGD with momentum 0.9: `tapegrad-train --model lenet`'s loop). Run
with --threads 2 for the issue's figures. (Synthetic inputs: the times do not depend on the values.)

Each forward+backward case computes the gradients with autograd.grad, so no .grad accumulation is
timed; the first LeNet convolution's input needs no gradient (the images), the others' do."""
from bench.harness import Case

LENET_BATCH, SAMPLES, CLASSES = 64, 60_000, 10


def conv_forward_backward(batch, in_channels, size, out_channels, kernel, padding, input_grad):
    def torchlike(lib):
        lib.manual_seed(0)
        x = lib.randn(batch, in_channels, size, size, requires_grad=input_grad)
        weight = (lib.randn(out_channels, in_channels, kernel, kernel) * 0.1).requires_grad_()
        bias = lib.zeros(out_channels, requires_grad=True)
        inputs = (x, weight, bias) if input_grad else (weight, bias)
        out_size = size + 2 * padding - kernel + 1
        grad = lib.randn(batch, out_channels, out_size, out_size)

        def step():
            out = lib.nn.functional.conv2d(x, weight, bias, padding=padding)
            lib.autograd.grad(out, inputs, grad)

        return step

    name = (f"conv2d fwd+bwd {batch}x{in_channels}x{size}x{size}, {out_channels}@{kernel}x{kernel} pad {padding}"
            + ("" if input_grad else ", no input grad"))
    return Case(name, torchlike=torchlike)


def max_pool_forward_backward(batch, channels, size):
    def torchlike(lib):
        lib.manual_seed(0)
        x = lib.randn(batch, channels, size, size, requires_grad=True)
        grad = lib.randn(batch, channels, size // 2, size // 2)
        return lambda: lib.autograd.grad(lib.nn.functional.max_pool2d(x, 2), (x,), grad)

    return Case(f"max_pool2d 2x2 fwd+bwd {batch}x{channels}x{size}x{size}", torchlike=torchlike)


def conv_transpose_forward_backward(batch, in_channels, size, out_channels, kernel, stride, padding):
    def torchlike(lib):
        lib.manual_seed(0)
        x = lib.randn(batch, in_channels, size, size, requires_grad=True)
        weight = (lib.randn(in_channels, out_channels, kernel, kernel) * 0.1).requires_grad_()
        bias = lib.zeros(out_channels, requires_grad=True)
        out_size = (size - 1) * stride - 2 * padding + kernel
        grad = lib.randn(batch, out_channels, out_size, out_size)

        def step():
            out = lib.nn.functional.conv_transpose2d(x, weight, bias, stride=stride, padding=padding)
            lib.autograd.grad(out, (x, weight, bias), grad)

        return step

    return Case(f"conv_transpose2d fwd+bwd {batch}x{in_channels}x{size}x{size}, {out_channels}@{kernel}x{kernel} "
                f"stride {stride} pad {padding}", torchlike=torchlike)


def pad_forward_backward(shape, amount, mode):
    def torchlike(lib):
        lib.manual_seed(0)
        x = lib.randn(*shape, requires_grad=True)
        grad = lib.randn(*shape[:-2], shape[-2] + 2 * amount, shape[-1] + 2 * amount)
        return lambda: lib.autograd.grad(lib.nn.functional.pad(x, (amount,) * 4, mode=mode), (x,), grad)

    return Case(f"F.pad {mode} {amount} fwd+bwd {'x'.join(map(str, shape))}", torchlike=torchlike)


def unfold_forward_backward(shape, kernel, padding):
    def torchlike(lib):
        lib.manual_seed(0)
        x = lib.randn(*shape, requires_grad=True)
        blocks = (shape[-2] + 2 * padding - kernel + 1) * (shape[-1] + 2 * padding - kernel + 1)
        grad = lib.randn(shape[0], shape[1] * kernel * kernel, blocks)
        return lambda: lib.autograd.grad(lib.nn.functional.unfold(x, kernel, padding=padding), (x,), grad)

    return Case(f"F.unfold {kernel}x{kernel} pad {padding} fwd+bwd {'x'.join(map(str, shape))}", torchlike=torchlike)


def lenet(lib):
    """LeNet-5 as tapegrad-train --model lenet builds it (ReLU and max pooling)."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, CLASSES))


def lenet_epoch(lib):
    lib.manual_seed(0)
    images = lib.randn(SAMPLES, 1, 28, 28)
    labels = lib.randint(0, CLASSES, (SAMPLES,))
    model = lenet(lib)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

    def epoch():
        order = lib.randperm(SAMPLES)
        for start in range(0, SAMPLES, LENET_BATCH):
            index = order[start:start + LENET_BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(images[index]), labels[index])
            loss.backward()
            optimizer.step()

    return epoch


CASES = [
    conv_forward_backward(LENET_BATCH, 1, 28, 6, 5, 2, input_grad=False),
    max_pool_forward_backward(LENET_BATCH, 6, 28),
    conv_forward_backward(LENET_BATCH, 6, 14, 16, 5, 0, input_grad=True),
    max_pool_forward_backward(LENET_BATCH, 16, 10),
    conv_forward_backward(32, 64, 32, 64, 3, 1, input_grad=True),
    conv_transpose_forward_backward(32, 16, 16, 8, 4, 2, 1),
    pad_forward_backward((32, 16, 64, 64), 2, "reflect"),
    pad_forward_backward((32, 16, 64, 64), 2, "constant"),
    unfold_forward_backward((32, 16, 32, 32), 3, 1),
    Case("one epoch LeNet-5, batch 64, SGD momentum", torchlike=lenet_epoch),
]
