"""Convolution (F.conv1d/conv2d, nn.Conv1d/Conv2d) against PyTorch: forward and backward over
dtypes and layouts (a channels-last view included), gradcheck, zero-size batches, bad input."""
import math

import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from helpers import assert_close, check_op, gradcheck_op


# PyTorch warns that its own padding='same' with an even kernel copies the input; we do not.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def functional(lib):
    return F if lib is tg else torch.nn.functional


# (input shape, weight shape, keyword arguments)
CONV2D = [
    ((2, 3, 8, 9), (4, 3, 3, 2), {}),
    ((2, 3, 8, 9), (4, 3, 3, 3), {"stride": 2, "padding": 1}),
    ((2, 3, 7, 7), (4, 3, 2, 2), {"padding": "same", "dilation": 2}),  # even kernel: extra zero at the end
    ((2, 3, 7, 7), (4, 3, 3, 3), {"padding": "valid"}),
    ((1, 4, 9, 8), (6, 2, 3, 2), {"stride": (2, 1), "padding": (2, 0), "dilation": (1, 2), "groups": 2}),
    ((3, 4, 5, 5), (4, 1, 3, 3), {"padding": 1, "groups": 4}),  # depthwise
    ((2, 5, 4, 6), (3, 5, 1, 1), {}),  # 1x1: the input is its own column matrix
    ((2, 3, 6, 6), (2, 3, 6, 6), {}),  # kernel as large as the input: one output position
]


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(input_shape, weight_shape, kwargs, bias):
    if bias:
        check_op(lambda lib, x, w, b: functional(lib).conv2d(x, w, b, **kwargs), input_shape, weight_shape,
                 (weight_shape[0],))
    else:
        check_op(lambda lib, x, w: functional(lib).conv2d(x, w, **kwargs), input_shape, weight_shape)


# Column matrices over 1 MB per image, which the forward packs straight from the image into the
# GEMM's panels (implicit GEMM) instead of writing them out: output rows that do not fill a panel
# (31 and 50 wide), padding, stride, dilation and groups.
CONV2D_LARGE_COLUMNS = [
    ((1, 32, 33, 31), (8, 32, 3, 3), {"padding": 1}),
    ((1, 64, 40, 50), (8, 32, 3, 3), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}),
]


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", CONV2D_LARGE_COLUMNS)
def test_conv2d_large_columns(input_shape, weight_shape, kwargs):
    check_op(lambda lib, x, w, b: functional(lib).conv2d(x, w, b, **kwargs), input_shape, weight_shape,
             (weight_shape[0],), layouts=("contiguous", "transposed"), low=-0.5, high=0.5)  # sums of 288


CONV1D = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 4, 11), (6, 2, 4), {"stride": 3, "padding": 2, "dilation": 2, "groups": 2}),
    ((1, 3, 8), (2, 3, 4), {"padding": "same"}),
    ((3, 8), (5, 3, 3), {"padding": 1}),  # unbatched
]


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", CONV1D)
def test_conv1d(input_shape, weight_shape, kwargs):
    check_op(lambda lib, x, w, b: functional(lib).conv1d(x, w, b, **kwargs), input_shape, weight_shape,
             (weight_shape[0],))


def test_conv2d_unbatched():
    check_op(lambda lib, x, w, b: functional(lib).conv2d(x, w, b, padding=1), (3, 6, 5), (2, 3, 3, 3), (2,))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_conv2d_channels_last(dtype):
    """A channels-last view (NHWC memory seen as NCHW) is read in place, with PyTorch's results."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(2, 3, 7, 6)).astype(np.float32 if dtype == tg.float32 else np.float64)
    w = rng.uniform(-1, 1, size=(4, 3, 3, 3)).astype(x.dtype)
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    ours_base = tg.tensor(nhwc, requires_grad=True)
    ours_x = ours_base.permute(0, 3, 1, 2)
    assert not ours_x.is_contiguous()
    theirs_x = torch.tensor(x).to(memory_format=torch.channels_last).requires_grad_(True)
    ours_w, theirs_w = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = F.conv2d(ours_x, ours_w, stride=2, padding=1)
    theirs = torch.nn.functional.conv2d(theirs_x, theirs_w, stride=2, padding=1)
    tolerance = (1e-5, 1e-4) if dtype == tg.float32 else (1e-10, 1e-8)
    assert_close(ours, theirs.contiguous(), *tolerance, "output")
    upstream = rng.uniform(-1, 1, size=tuple(theirs.shape)).astype(x.dtype)
    (ours * tg.tensor(upstream)).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    assert_close(ours_base.grad.permute(0, 3, 1, 2), theirs_x.grad.contiguous(), *tolerance, "input gradient")
    assert_close(ours_w.grad, theirs_w.grad, *tolerance, "weight gradient")


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", [CONV2D[1], CONV2D[2], CONV2D[4]])
def test_conv2d_gradcheck(input_shape, weight_shape, kwargs):
    gradcheck_op(lambda lib, x, w, b: F.conv2d(x, w, b, **kwargs), input_shape, weight_shape, (weight_shape[0],))


def test_conv1d_gradcheck():
    gradcheck_op(lambda lib, x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), (2, 2, 9), (3, 2, 3), (3,))


@pytest.mark.parametrize("spatial", [1, 2])
def test_conv_zero_batch(spatial):
    """A zero-size batch gives an empty output and zero weight and bias gradients, as PyTorch."""
    check_op(lambda lib, x, w, b: getattr(functional(lib), f"conv{spatial}d")(x, w, b, padding=1),
             (0, 3) + (5,) * spatial, (2, 3) + (3,) * spatial, (2,), layouts=("contiguous",))


def test_conv_node_name():
    x = tg.rand(1, 2, 5, 5, requires_grad=True)
    assert F.conv2d(x, tg.rand(3, 2, 3, 3)).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv1d(tg.rand(1, 2, 5, requires_grad=True), tg.rand(3, 2, 3)).grad_fn.name() == "ConvolutionBackward0"


def test_conv_double_backward_refused():
    x = tg.rand(1, 2, 5, 5, requires_grad=True)
    y = F.conv2d(x, tg.rand(3, 2, 3, 3)).sum()
    with pytest.raises(NotImplementedError, match=r"\[ConvolutionBackward0\] double backward"):
        tg.autograd.grad(y, x, create_graph=True)


def test_conv_bad_input():
    x, w = tg.rand(1, 4, 8, 8), tg.rand(6, 3, 5, 5)
    with pytest.raises(RuntimeError, match=r"\[conv2d\] Given groups=1, weight of size \(6, 3, 5, 5\), expected "
                                           r"input\(1, 4, 8, 8\) to have 3 channels, but got 4 channels instead"):
        F.conv2d(x, w)
    with pytest.raises(RuntimeError, match=r"\[conv2d\] Calculated padded input size per channel: \(4 x 4\)\. "
                                           r"Kernel size: \(5 x 5\)\. Kernel size can't be greater"):
        F.conv2d(tg.rand(1, 3, 2, 2), w, padding=1)
    with pytest.raises(RuntimeError, match=r"\[conv1d\] Calculated padded input size per channel: \(3\)"):
        F.conv1d(tg.rand(1, 3, 3), tg.rand(2, 3, 5))
    with pytest.raises(RuntimeError, match=r"\[conv2d\] non-positive stride is not supported"):
        F.conv2d(tg.rand(1, 3, 8, 8), w, stride=0)
    with pytest.raises(RuntimeError, match=r"\[conv2d\] padding='same' is not supported for strided"):
        F.conv2d(tg.rand(1, 3, 8, 8), w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Invalid padding string 'full'"):
        F.conv2d(tg.rand(1, 3, 8, 8), w, padding="full")
    with pytest.raises(RuntimeError, match=r"\[conv2d\] Expected 3D \(unbatched\) or 4D \(batched\) input"):
        F.conv2d(tg.rand(3, 8), w)
    with pytest.raises(RuntimeError, match=r"\[conv2d\] expected input \(float32\), weight \(float64\)"):
        F.conv2d(tg.rand(1, 3, 8, 8), w.double())
    with pytest.raises(RuntimeError, match=r"\[conv2d\] Given weight of size \(6, 3, 5, 5\), expected bias"):
        F.conv2d(tg.rand(1, 3, 8, 8), w, tg.rand(5))
    with pytest.raises(RuntimeError, match=r"\[conv2d\] Given groups=2"):
        F.conv2d(tg.rand(1, 3, 8, 8), tg.rand(4, 3, 3, 3), groups=2)


@pytest.mark.parametrize("module,args,kwargs,input_shape", [
    ("Conv2d", (3, 6, 5), {}, (2, 3, 12, 12)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": 2, "padding": (1, 0), "groups": 2, "bias": False}, (2, 4, 9, 8)),
    ("Conv2d", (3, 5, 3), {"padding": "same", "dilation": 2}, (1, 3, 7, 7)),
    ("Conv1d", (3, 6, 3), {"stride": 2}, (2, 3, 11)),
    ("Conv1d", (4, 4, 3), {"padding": "valid", "groups": 4}, (2, 4, 6)),
])
def test_conv_modules(module, args, kwargs, input_shape):
    """State_dict keys, parameter shapes and init bounds as PyTorch's; same outputs and gradients
    with copied weights."""
    torch.manual_seed(0)
    ours, theirs = getattr(nn, module)(*args, **kwargs, dtype=tg.float64), getattr(torch.nn, module)(
        *args, **kwargs, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert tuple(ours.state_dict()[key].shape) == tuple(value.shape), key
    fan_in = theirs.weight[0].numel()
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(ours.weight.detach().numpy()).max() > 0.5 / math.sqrt(fan_in)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).uniform(-1, 1, size=input_shape)
    ours_x, theirs_x = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours_out, theirs_out = ours(ours_x), theirs(theirs_x)
    assert_close(ours_out, theirs_out, 1e-10, 1e-8, "output")
    ours_out.sum().backward()
    theirs_out.sum().backward()
    assert_close(ours_x.grad, theirs_x.grad, 1e-10, 1e-8, "input gradient")
    assert_close(ours.weight.grad, theirs.weight.grad, 1e-10, 1e-8, "weight gradient")
    if theirs.bias is not None:
        assert_close(ours.bias.grad, theirs.bias.grad, 1e-10, 1e-8, "bias gradient")


def test_conv_module_bad_arguments():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(3, 6, 3, stride=2, padding="same")
