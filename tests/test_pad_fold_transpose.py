"""F.pad, F.unfold / F.fold and the transposed convolutions (and their modules) against PyTorch: forward and
backward over dtypes and layouts, gradcheck, zero-size inputs, modules' state_dicts and reprs, bad input."""
import math

import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from helpers import assert_close, check_op, gradcheck_op


def functional(lib):
    return F if lib is tg else torch.nn.functional


# ---- pad -----------------------------------------------------------------------------------------

# (input shape, pad, mode, value)
PAD = [
    ((2, 3, 5), (1, 2), "constant", 1.5),
    ((2, 3, 4, 5), (2, 1, 0, 3), "constant", None),
    ((2, 3, 4, 5), (1, 1, 1, 1, 1, 1, 1, 1), "constant", -2.0),  # every dim, the batch's included
    ((2, 3, 6, 5), (-1, 2, -2, -1), "constant", 0.5),  # negative: cropped
    ((2, 3, 4), (-2, -2), "constant", None),  # cropped to nothing
    ((3, 7), (2, 3), "reflect", None),
    ((2, 3, 7), (3, 0), "reflect", None),
    ((2, 3, 5, 6), (2, 1, 3, 4), "reflect", None),
    ((3, 5, 6), (1, 1, 2, 2), "reflect", None),
    ((2, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1), "reflect", None),
    ((2, 3, 7), (-1, 2), "reflect", None),
    ((2, 3, 5), (4, 2), "replicate", None),
    ((2, 3, 4, 5), (3, 0, 1, 5), "replicate", None),
    ((3, 4, 5), (2, 2, 2, 2), "replicate", None),
    ((2, 2, 3, 4, 5), (1, 0, 2, 1, 0, 3), "replicate", None),
    ((2, 3, 5), (-2, 1), "replicate", None),
    ((2, 3, 5), (2, 5), "circular", None),
    ((2, 3, 4, 5), (1, 2, 3, 1), "circular", None),
    ((2, 3, 4, 5), (-1, 2, 1, -2), "circular", None),
]


@pytest.mark.parametrize("shape,padding,mode,value", PAD)
def test_pad(shape, padding, mode, value):
    extra = {} if value is None else {"value": value}
    check_op(lambda lib, x: functional(lib).pad(x, padding, mode=mode, **extra), shape)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    gradcheck_op(lambda lib, x: F.pad(x, (2, 1, 1, 2), mode=mode), (2, 3, 4, 5))


@pytest.mark.parametrize("shape,padding,mode", [
    ((0, 3, 4), (1, 2), "constant"),
    ((2, 0, 4), (1, 2, 1, 0), "constant"),
    ((0, 2, 5), (2, 2), "reflect"),
    ((0, 2, 4, 5), (1, 1, 2, 2), "replicate"),
    ((0, 2, 3), (1, 1), "circular"),
])
def test_pad_zero_size(shape, padding, mode):
    check_op(lambda lib, x: functional(lib).pad(x, padding, mode=mode), shape, layouts=("contiguous",))


def test_pad_integer_input():
    x = np.arange(12).reshape(3, 4)
    for mode in ("constant", "reflect", "replicate", "circular"):
        ours = F.pad(tg.tensor(x)[None], (1, 2), mode=mode)
        theirs = torch.nn.functional.pad(torch.tensor(x)[None], (1, 2), mode=mode)
        assert_close(ours, theirs, 0, 0, mode)


def test_pad_bad_input():
    x = tg.rand(1, 2, 3)
    with pytest.raises(RuntimeError, match=r"\[pad\] Padding length must be divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match=r"\[pad\] Padding length should be less than or equal to two times the "
                                           r"input dimension but got padding length 8 and input of dimension 3"):
        F.pad(x, (1,) * 8)
    with pytest.raises(RuntimeError, match=r"\[pad\] The input size 3, plus negative padding -1 and -3 resulted in a "
                                           r"negative output size"):
        F.pad(x, (-1, -3))
    with pytest.raises(RuntimeError, match=r"\[pad\] Argument #4: Padding size should be less than the corresponding "
                                           r"input dimension, but got: padding \(3, 1\) at dimension 2 of input "
                                           r"\[1, 2, 3\]"):
        F.pad(x, (3, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match=r"\[pad\] Padding size 4 is not supported for 2D input tensor "
                                                  r"\(shape \[2, 3\]\)"):
        F.pad(x[0], (1, 1, 1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match=r"\[pad\] Padding size 2 is not supported for 1D input tensor"):
        F.pad(x[0, 0], (1, 1), mode="replicate")
    with pytest.raises(NotImplementedError, match=r"\[pad\] Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match=r"\[pad\] Padding value causes wrapping around more than once"):
        F.pad(x, (4, 1), mode="circular")
    with pytest.raises(RuntimeError, match=r"\[pad\] Padding mode \"reflect\" doesn't take in value argument"):
        F.pad(x, (1, 1), mode="reflect", value=1)
    with pytest.raises(RuntimeError, match=r"\[pad\] Expected 2D or 3D \(batch mode\) tensor with possibly 0 batch "
                                           r"size and other non-zero dimensions for input, but got: \[1, 0, 3\]"):
        F.pad(tg.rand(1, 0, 3), (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match=r"\[pad\] input \(size 3 at dimension 1\) is too small\. Calculated "
                                           r"output size: -1"):
        F.pad(tg.rand(2, 3), (-2, -2), mode="replicate")
    with pytest.raises(TypeError, match=r"\[pad\] pad must be a sequence of ints"):
        F.pad(x, (1.0, 1))


@pytest.mark.parametrize("module,args,input_shape", [
    ("ConstantPad1d", ((1, 2), 3.5), (2, 3, 4)),
    ("ConstantPad2d", (2, -1.0), (2, 3, 4, 5)),
    ("ZeroPad2d", ((1, 0, 2, 3),), (3, 4, 5)),
    ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, 1),), (3, 4)),
    ("ReplicationPad2d", (2,), (2, 3, 4, 5)),
])
def test_pad_modules(module, args, input_shape):
    ours, theirs = getattr(nn, module)(*args), getattr(torch.nn, module)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    check_op(lambda lib, x: (ours if lib is tg else theirs)(x), input_shape, layouts=("contiguous", "transposed"))


# ---- unfold / fold -------------------------------------------------------------------------------

# (image shape, keyword arguments)
BLOCKS = [
    ((2, 3, 5, 6), {"kernel_size": 3}),
    ((2, 3, 7, 6), {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}),
    ((1, 2, 8, 8), {"kernel_size": 4, "stride": 4}),  # blocks that do not overlap
    ((2, 2, 5, 5), {"kernel_size": 1}),
    ((3, 5, 6), {"kernel_size": 2, "padding": 1, "stride": 2}),  # unbatched
]


def columns_shape(image_shape, kwargs):
    """The shape unfold gives image_shape, from PyTorch."""
    return tuple(torch.nn.functional.unfold(torch.zeros(image_shape), **kwargs).shape)


@pytest.mark.parametrize("image_shape,kwargs", BLOCKS)
def test_unfold(image_shape, kwargs):
    check_op(lambda lib, x: functional(lib).unfold(x, **kwargs), image_shape)


@pytest.mark.parametrize("image_shape,kwargs", BLOCKS)
def test_fold(image_shape, kwargs):
    check_op(lambda lib, x: functional(lib).fold(x, image_shape[-2:], **kwargs), columns_shape(image_shape, kwargs))


@pytest.mark.parametrize("image_shape,kwargs", [BLOCKS[1], BLOCKS[4]])
def test_unfold_fold_gradcheck(image_shape, kwargs):
    gradcheck_op(lambda lib, x: F.unfold(x, **kwargs), image_shape)
    gradcheck_op(lambda lib, x: F.fold(x, image_shape[-2:], **kwargs), columns_shape(image_shape, kwargs))


def test_unfold_fold_double_backward():
    """Each one's backward is the other, so second derivatives come out (of a product, not zero)."""
    x = tg.rand(1, 2, 5, 5, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda x: F.unfold(x * x, 3, padding=1), [x])
    columns = tg.rand(1, 8, 16, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda c: F.fold(c * c, (5, 5), 2), [columns])


def test_unfold_fold_zero_batch():
    check_op(lambda lib, x: functional(lib).unfold(x, 2, padding=1), (0, 3, 4, 4), layouts=("contiguous",))
    check_op(lambda lib, x: functional(lib).fold(x, (4, 4), 2), (0, 12, 9), layouts=("contiguous",))


def test_unfold_fold_bad_input():
    with pytest.raises(RuntimeError, match=r"\[unfold\] Given input with spatial size \(5, 5\), "
                                           r"kernel_size=\(6, 6\), dilation=\(1, 1\), padding=\(0, 0\), calculated "
                                           r"shape of the array of sliding blocks as \(0, 0\)"):
        F.unfold(tg.rand(2, 3, 5, 5), 6)
    with pytest.raises(RuntimeError, match=r"\[unfold\] stride should be greater than zero, but got stride_height: 0"):
        F.unfold(tg.rand(2, 3, 5, 5), 3, stride=0)
    with pytest.raises(RuntimeError, match=r"\[unfold\] Expected 3D or 4D \(batch mode\) tensor .* but got: "
                                           r"\[1, 0, 5, 5\]"):
        F.unfold(tg.rand(1, 0, 5, 5), 3)
    with pytest.raises(RuntimeError, match=r"\[unfold\] Expected 3D or 4D .* but got: \[5, 5\]"):
        F.unfold(tg.rand(5, 5), 3)
    with pytest.raises(RuntimeError, match=r"\[fold\] Given output_size=\(5, 6\), kernel_size=\(3, 3\), "
                                           r"dilation=\(1, 1\), padding=\(0, 0\), stride=\(1, 1\), expected size of "
                                           r"input's dimension 2 to match the calculated number of sliding blocks "
                                           r"3 \* 4 = 12, but got input.size\(2\)=9\."):
        F.fold(tg.rand(2, 27, 9), (5, 6), 3)
    with pytest.raises(RuntimeError, match=r"\[fold\] Expected size of input's dimension 1 to be divisible by the "
                                           r"product of kernel_size, but got input.size\(1\)=26"):
        F.fold(tg.rand(2, 26, 9), (5, 5), 3)
    with pytest.raises(RuntimeError, match=r"\[fold\] padding should be non-negative, but got pad_height: -1"):
        F.fold(tg.rand(2, 27, 9), (5, 5), 3, padding=-1)
    with pytest.raises(RuntimeError, match=r"\[fold\] Expected 2D or 3D .* but got: \[9\]"):
        F.fold(tg.rand(9), (5, 5), 3)


def test_fold_unfold_modules():
    ours, theirs = nn.Unfold(3, padding=1), torch.nn.Unfold(3, padding=1)
    assert repr(ours) == repr(theirs)
    check_op(lambda lib, x: (ours if lib is tg else theirs)(x), (2, 3, 4, 5), layouts=("contiguous",))
    ours, theirs = nn.Fold((4, 5), 2, stride=(1, 2)), torch.nn.Fold((4, 5), 2, stride=(1, 2))
    assert repr(ours) == repr(theirs)
    check_op(lambda lib, x: (ours if lib is tg else theirs)(x), (2, 12, 6), layouts=("contiguous",))


# ---- transposed convolution ----------------------------------------------------------------------

# (input shape, weight shape, keyword arguments)
CONV_TRANSPOSE2D = [
    ((2, 3, 5, 6), (3, 4, 3, 2), {}),
    ((2, 4, 5, 5), (4, 2, 4, 4), {"stride": 2, "padding": 1}),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}),
    ((1, 4, 5, 4), (4, 3, 3, 2), {"stride": 2, "padding": 2, "dilation": (2, 1), "groups": 2}),
    ((2, 4, 4, 4), (4, 1, 3, 3), {"stride": 2, "groups": 4}),  # depthwise
    ((2, 3, 4, 4), (3, 2, 3, 3), {"dilation": 2, "output_padding": 1}),  # output_padding below the dilation
    ((2, 5, 3, 4), (5, 3, 1, 1), {}),
    ((3, 5, 6), (3, 2, 3, 3), {"stride": 2, "padding": 1}),  # unbatched
]


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", CONV_TRANSPOSE2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d(input_shape, weight_shape, kwargs, bias):
    out_channels = weight_shape[1] * kwargs.get("groups", 1)
    if bias:
        check_op(lambda lib, x, w, b: functional(lib).conv_transpose2d(x, w, b, **kwargs), input_shape, weight_shape,
                 (out_channels,))
    else:
        check_op(lambda lib, x, w: functional(lib).conv_transpose2d(x, w, **kwargs), input_shape, weight_shape)


CONV_TRANSPOSE1D = [
    ((2, 3, 7), (3, 4, 3), {}),
    ((2, 4, 6), (4, 3, 4), {"stride": 3, "padding": 2, "output_padding": 1, "dilation": 2, "groups": 2}),
    ((3, 8), (3, 5, 3), {"stride": 2, "padding": 1}),  # unbatched
]


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", CONV_TRANSPOSE1D)
def test_conv_transpose1d(input_shape, weight_shape, kwargs):
    out_channels = weight_shape[1] * kwargs.get("groups", 1)
    check_op(lambda lib, x, w, b: functional(lib).conv_transpose1d(x, w, b, **kwargs), input_shape, weight_shape,
             (out_channels,))


@pytest.mark.parametrize("input_shape,weight_shape,kwargs", [CONV_TRANSPOSE2D[2], CONV_TRANSPOSE2D[3]])
def test_conv_transpose2d_gradcheck(input_shape, weight_shape, kwargs):
    out_channels = weight_shape[1] * kwargs.get("groups", 1)
    gradcheck_op(lambda lib, x, w, b: F.conv_transpose2d(x, w, b, **kwargs), input_shape, weight_shape,
                 (out_channels,))


def test_conv_transpose1d_gradcheck():
    gradcheck_op(lambda lib, x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1), (2, 2, 5),
                 (2, 3, 3), (3,))


@pytest.mark.parametrize("spatial", [1, 2])
def test_conv_transpose_zero_batch(spatial):
    check_op(lambda lib, x, w, b: getattr(functional(lib), f"conv_transpose{spatial}d")(x, w, b, stride=2),
             (0, 3) + (4,) * spatial, (3, 2) + (3,) * spatial, (2,), layouts=("contiguous",))


def test_conv_transpose_node_name():
    x = tg.rand(1, 2, 5, 5, requires_grad=True)
    assert F.conv_transpose2d(x, tg.rand(2, 3, 3, 3)).grad_fn.name() == "ConvolutionBackward0"
    with pytest.raises(NotImplementedError, match=r"\[ConvolutionBackward0\] double backward"):
        tg.autograd.grad(F.conv_transpose2d(x, tg.rand(2, 3, 3, 3)).sum(), x, create_graph=True)


def test_conv_transpose_bad_input():
    x, w = tg.rand(1, 4, 5, 5), tg.rand(4, 2, 3, 3)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] output padding must be smaller than either stride "
                                           r"or dilation, but got output_padding 2, stride 2 and dilation 1 \(input "
                                           r"\(1, 4, 5, 5\), weight \(4, 2, 3, 3\)\)"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] Given transposed=1, weight of size \(3, 2, 3, 3\), "
                                           r"expected input\(1, 4, 5, 5\) to have 3 channels, but got 4 channels"):
        F.conv_transpose2d(x, tg.rand(3, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] Given groups=3, expected weight to be divisible by "
                                           r"3 at dimension 0, but got weight of size \(4, 2, 3, 3\)"):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] Given input size per channel: \(5 x 5\)\. "
                                           r"Calculated output size per channel: \(-1 x -1\)\. Output size is too "
                                           r"small"):
        F.conv_transpose2d(x, w, padding=4)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] negative padding is not supported"):
        F.conv_transpose2d(x, w, padding=-1)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] non-positive stride is not supported"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           r"to conv_transpose2d, but got input of size: \(4, 5\)"):
        F.conv_transpose2d(x[0, :, 0], w)
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] Given transposed=1, weight of size \(4, 2, 3, 3\), "
                                           r"expected bias to be 1-dimensional with 2 elements, but got bias of size "
                                           r"\(3,\)"):
        F.conv_transpose2d(x, w, tg.rand(3))
    with pytest.raises(RuntimeError, match=r"\[conv_transpose1d\] expected input \(float32\), weight \(float64\)"):
        F.conv_transpose1d(x[0], w[..., 0].double())
    with pytest.raises(RuntimeError, match=r"\[conv_transpose2d\] expected stride to be a single integer or a list "
                                           r"of 2 integers"):
        F.conv_transpose2d(x, w, stride=(1, 2, 3))


@pytest.mark.parametrize("module,args,kwargs,input_shape", [
    ("ConvTranspose2d", (3, 6, 3), {}, (2, 3, 5, 5)),
    ("ConvTranspose2d", (4, 6, (3, 2)), {"stride": 2, "padding": (1, 0), "output_padding": 1, "groups": 2,
                                         "bias": False}, (2, 4, 4, 5)),
    ("ConvTranspose2d", (3, 5, 3), {"dilation": 2, "stride": 2}, (1, 3, 4, 4)),
    ("ConvTranspose1d", (3, 6, 3), {"stride": 2}, (2, 3, 7)),
    ("ConvTranspose1d", (4, 4, 3), {"groups": 4, "output_padding": 1, "stride": 2, "dilation": 2}, (2, 4, 6)),
])
def test_conv_transpose_modules(module, args, kwargs, input_shape):
    """State_dict keys, parameter shapes, init bounds and reprs as PyTorch's; same outputs and gradients with
    copied weights."""
    torch.manual_seed(0)
    ours = getattr(nn, module)(*args, **kwargs, dtype=tg.float64)
    theirs = getattr(torch.nn, module)(*args, **kwargs, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert tuple(ours.state_dict()[key].shape) == tuple(value.shape), key
    fan_in = theirs.weight[0].numel()
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(ours.weight.detach().numpy()).max() > 0.5 / math.sqrt(fan_in)
    if theirs.bias is not None:
        assert np.abs(ours.bias.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    assert repr(ours) == repr(theirs)
    assert (ours.transposed, ours.output_padding) == (theirs.transposed, theirs.output_padding)
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


@pytest.mark.parametrize("output_size", [(11, 11), (12, 11), (1, 6, 12, 12)])
def test_conv_transpose_output_size(output_size):
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64)
    ours = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=tg.float64)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).uniform(-1, 1, size=(1, 4, 6, 6))
    expected = theirs(torch.tensor(x), output_size=output_size)
    assert_close(ours(tg.tensor(x), output_size=output_size), expected, 1e-10, 1e-8, "output")


def test_conv_transpose_module_bad_arguments():
    module = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    with pytest.raises(ValueError, match=r"requested an output size of \[13, 12\], but valid sizes range from "
                                         r"\[11, 11\] to \[12, 12\] \(for an input of \[5, 5\]\)"):
        module(tg.rand(1, 4, 5, 5), output_size=(13, 12))
    with pytest.raises(ValueError, match=r"ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements"):
        module(tg.rand(1, 4, 5, 5), output_size=(12,))
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose2d(4, 6, 3, groups=4)


@pytest.mark.parametrize("mode, values, pad", [("replicate", [1., 2.], (2, -3)), ("reflect", [1., 2., 3.], (2, -4)),
                                               ("replicate", [1., 2.], (-3, 2)), ("reflect", [1., 2., 3.], (-4, 2))])
def test_border_pad_where_the_crop_on_one_side_exceeds_the_pad_on_the_other(mode, values, pad):
    ours, theirs = tg.tensor([[values]], requires_grad=True), torch.tensor([[values]], requires_grad=True)
    result, expected = tg.nn.functional.pad(ours, pad, mode), torch.nn.functional.pad(theirs, pad, mode=mode)
    result.sum().backward()
    expected.sum().backward()
    assert result.tolist() == expected.tolist() and ours.grad.tolist() == theirs.grad.tolist()
