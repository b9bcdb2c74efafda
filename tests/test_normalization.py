"""Normalisation (batch, layer, group and RMS norm, F.normalize) and channel-wise dropout against
PyTorch: forward and backward over dtypes and layouts (channels-last included), gradcheck, zero-size
batches, train/eval, running statistics over several steps, state_dict keys, bad input."""
import math
import warnings

import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from helpers import assert_close, check_op, gradcheck_op


def functional(lib):
    return F if lib is tg else torch.nn.functional


def library_nn(lib):
    return nn if lib is tg else torch.nn


def statistics(lib, channels, dtype, seed=3):
    """Running mean and variance holding the same values in both libraries."""
    rng = np.random.default_rng(seed)
    mean, var = rng.uniform(-1, 1, size=channels), rng.uniform(0.5, 2, size=channels)
    return lib.tensor(mean, dtype=dtype), lib.tensor(var, dtype=dtype)


# ---- batch norm ---------------------------------------------------------------------------------

BATCH_SHAPES = [(4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 2)]
# Not "expanded": a batch of equal rows has zero variance, where the gradients are rounding noise times 1/sqrt(eps).
TRAINING_LAYOUTS = ("contiguous", "transposed", "strided")


@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_batch_norm_training(shape):
    """Batch statistics, the affine parameters' gradients and the running statistics' update."""
    def fn(lib, x, w, b):
        running_mean, running_var = statistics(lib, shape[1], x.dtype)
        out = functional(lib).batch_norm(x, running_mean, running_var, w, b, training=True, momentum=0.3)
        return out, running_mean, running_var
    check_op(fn, shape, (shape[1],), (shape[1],), layouts=TRAINING_LAYOUTS)


@pytest.mark.parametrize("shape", BATCH_SHAPES[:3])
def test_batch_norm_training_without_affine_or_running_stats(shape):
    check_op(lambda lib, x: functional(lib).batch_norm(x, None, None, training=True), shape,
             layouts=TRAINING_LAYOUTS)
    check_op(lambda lib, x, b: functional(lib).batch_norm(x, None, None, None, b, training=True), shape, (shape[1],),
             layouts=TRAINING_LAYOUTS)


@pytest.mark.parametrize("shape", BATCH_SHAPES[:3])
def test_batch_norm_eval(shape):
    def fn(lib, x, w, b):
        running_mean, running_var = statistics(lib, shape[1], x.dtype)
        return functional(lib).batch_norm(x, running_mean, running_var, w, b, training=False, eps=1e-3)
    check_op(fn, shape, (shape[1],), (shape[1],))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_channels_last(dtype, training):
    """A channels-last view (NHWC memory seen as NCHW) is read in place, with PyTorch's results."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(3, 4, 5, 6)).astype(np.float32 if dtype == tg.float32 else np.float64)
    w, b = rng.uniform(0.5, 1.5, size=4).astype(x.dtype), rng.uniform(-1, 1, size=4).astype(x.dtype)
    ours_base = tg.tensor(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), requires_grad=True)
    ours_x = ours_base.permute(0, 3, 1, 2)
    assert not ours_x.is_contiguous()
    theirs_x = torch.tensor(x).to(memory_format=torch.channels_last).requires_grad_(True)
    ours_w, theirs_w = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours_b, theirs_b = tg.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours_stats, theirs_stats = statistics(tg, 4, dtype), statistics(torch, 4, theirs_x.dtype)
    ours = F.batch_norm(ours_x, *ours_stats, ours_w, ours_b, training=training)
    theirs = torch.nn.functional.batch_norm(theirs_x, *theirs_stats, theirs_w, theirs_b, training=training)
    tolerance = (1e-5, 1e-4) if dtype == tg.float32 else (1e-10, 1e-8)
    assert_close(ours, theirs.contiguous(), *tolerance, "output")
    for mine, torchs in zip(ours_stats, theirs_stats):
        assert_close(mine, torchs, *tolerance, "running statistics")
    upstream = rng.uniform(-1, 1, size=tuple(theirs.shape)).astype(x.dtype)
    (ours * tg.tensor(upstream)).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    assert_close(ours_base.grad.permute(0, 3, 1, 2), theirs_x.grad.contiguous(), *tolerance, "input gradient")
    assert_close(ours_w.grad, theirs_w.grad, *tolerance, "weight gradient")
    assert_close(ours_b.grad, theirs_b.grad, *tolerance, "bias gradient")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    def fn(lib, x, w, b):
        running_mean, running_var = statistics(tg, 3, tg.float64)
        return F.batch_norm(x, running_mean, running_var, w, b, training=training)
    gradcheck_op(fn, (4, 3, 5), (3,), (3,))
    gradcheck_op(lambda lib, x: F.batch_norm(x, None, None, training=True), (5, 2))


def test_batch_norm_zero_batch():
    """An empty batch gives an empty output, zero parameter gradients and untouched running statistics."""
    def fn(lib, x, w, b):
        running_mean, running_var = statistics(lib, 3, x.dtype)
        return functional(lib).batch_norm(x, running_mean, running_var, w, b, training=True), running_mean, running_var
    check_op(fn, (0, 3, 4), (3,), (3,), layouts=("contiguous",))


def copy_module(ours, theirs):
    ours.load_state_dict({key: tg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})


@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 5, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_steps(name, shape, momentum):
    """Several training steps (parameters moved by SGD), then eval: outputs, gradients, running statistics and
    num_batches_tracked step for step like PyTorch's."""
    theirs = getattr(torch.nn, name)(3, momentum=momentum, dtype=torch.float64)
    ours = getattr(nn, name)(3, momentum=momentum, dtype=tg.float64)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    copy_module(ours, theirs)
    rng = np.random.default_rng(0)
    for step in range(4):
        data = rng.uniform(-2, 3, size=shape)
        out_ours, out_theirs = ours(tg.tensor(data)), theirs(torch.tensor(data))
        assert_close(out_ours, out_theirs, 1e-10, 1e-8, f"step {step} output")
        (out_ours * out_ours).sum().backward()
        (out_theirs * out_theirs).sum().backward()
        for (key, p_ours), p_theirs in zip(ours.named_parameters(), theirs.parameters()):
            assert_close(p_ours.grad, p_theirs.grad, 1e-10, 1e-8, f"step {step} {key} gradient")
            with tg.no_grad():
                p_ours -= 0.1 * p_ours.grad
            with torch.no_grad():
                p_theirs -= 0.1 * p_theirs.grad
            p_ours.grad, p_theirs.grad = None, None
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, 1e-10, 1e-8, f"step {step} {key}")
    ours.eval()
    theirs.eval()
    data = rng.uniform(-2, 3, size=shape)
    assert_close(ours(tg.tensor(data)), theirs(torch.tensor(data)), 1e-10, 1e-8, "eval output")
    assert ours.num_batches_tracked.item() == 4


@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"track_running_stats": False}, {"bias": False},
                                    {"affine": False, "track_running_stats": False}])
def test_batch_norm_module_state(kwargs):
    """Parameters, buffers, state_dict keys, dtypes, initial values and repr as PyTorch's."""
    for name in ("BatchNorm1d", "BatchNorm2d"):
        ours, theirs = getattr(nn, name)(4, **kwargs), getattr(torch.nn, name)(4, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, 0, 0, key)
        assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
        assert repr(ours) == repr(theirs)


def test_batch_norm_module_eval_without_running_stats():
    """track_running_stats=False: eval mode still normalises with the batch's statistics."""
    data = np.random.default_rng(2).uniform(-1, 1, size=(5, 3))
    ours = nn.BatchNorm1d(3, track_running_stats=False).eval()
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert_close(ours(tg.tensor(data, dtype=tg.float32)), theirs(torch.tensor(data, dtype=torch.float32)), 1e-5, 1e-4)


def test_batch_norm_node_name_and_double_backward():
    x = tg.rand(4, 3, requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    assert len(y.grad_fn.next_functions) == 3
    with pytest.raises(NotImplementedError, match=r"\[NativeBatchNormBackward0\] double backward"):
        tg.autograd.grad((y * y).sum(), x, create_graph=True)


def test_batch_norm_bad_input():
    x = tg.rand(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] running_mean should contain 3 elements not 4 "
                                           r"\(input of shape \(2, 3, 4\)\)"):
        F.batch_norm(x, tg.zeros(4), tg.ones(4), training=True)
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] weight should contain 3 elements not 4"):
        F.batch_norm(x, None, None, tg.ones(4), training=True)
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] bias should contain 3 elements not 2"):
        F.batch_norm(x, None, None, None, tg.ones(2), training=True)
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] running_mean and running_var must be defined in "
                                           r"evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"\[1, 3\]"):
        F.batch_norm(tg.rand(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel"):
        nn.BatchNorm2d(3)(tg.rand(1, 3, 1, 1))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(x)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(tg.rand(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] running_mean should contain 3 elements not 4"):
        nn.BatchNorm1d(4)(x)
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] expected running_mean \(float64\) to have the input's "
                                           r"dtype \(float32\)"):
        F.batch_norm(x, tg.zeros(3, dtype=tg.float64), tg.ones(3), training=True)
    with pytest.raises(TypeError, match=r"\[batch_norm\] not implemented for dtype int64"):
        F.batch_norm(tg.ones(2, 3, dtype=tg.int64), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"\[batch_norm\] expected an input of 2 or more dims"):
        F.batch_norm(tg.rand(4), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm eps must be positive during training"):
        F.batch_norm(x, None, None, training=True, eps=0.0)


# ---- layer norm and group norm ------------------------------------------------------------------

LAYER_NORM = [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)), ((3, 4, 2, 3), (4, 2, 3))]


@pytest.mark.parametrize("shape,normalized", LAYER_NORM)
def test_layer_norm(shape, normalized):
    check_op(lambda lib, x, w, b: functional(lib).layer_norm(x, normalized, w, b, eps=1e-4), shape, normalized,
             normalized)
    check_op(lambda lib, x: functional(lib).layer_norm(x, normalized), shape)
    check_op(lambda lib, x, w: functional(lib).layer_norm(x, normalized, w), shape, normalized)


def test_layer_norm_gradcheck_and_zero_size():
    gradcheck_op(lambda lib, x, w, b: F.layer_norm(x, (3, 4), w, b), (2, 3, 4), (3, 4), (3, 4))
    check_op(lambda lib, x, w, b: functional(lib).layer_norm(x, (4,), w, b), (0, 4), (4,), (4,),
             layouts=("contiguous",))
    check_op(lambda lib, x, w, b: functional(lib).layer_norm(x, (0,), w, b), (3, 0), (0,), (0,),
             layouts=("contiguous",))


@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_layer_norm_module(kwargs):
    ours, theirs = nn.LayerNorm((3, 4), **kwargs), torch.nn.LayerNorm((3, 4), **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert repr(nn.LayerNorm(5)) == repr(torch.nn.LayerNorm(5))
    data = np.random.default_rng(0).uniform(-2, 2, size=(2, 3, 4))
    assert_close(ours(tg.tensor(data, dtype=tg.float32)), theirs(torch.tensor(data, dtype=torch.float32)), 1e-5, 1e-4)


def test_layer_norm_node_name_and_errors():
    x = tg.rand(2, 3, 4, requires_grad=True)
    y = F.layer_norm(x, (4,))
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    with pytest.raises(NotImplementedError, match=r"\[NativeLayerNormBackward0\] double backward"):
        tg.autograd.grad((y * y).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"\[layer_norm\] Given normalized_shape=\(5,\), expected input with shape "
                                           r"\(\*, 5\), but got input of size \(2, 3, 4\)"):
        F.layer_norm(x, (5,))
    with pytest.raises(RuntimeError, match=r"\[layer_norm\] Given normalized_shape=\(2, 3, 4, 5\)"):
        F.layer_norm(x, (2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"\[layer_norm\] Expected weight to be of same shape as normalized_shape, "
                                           r"but got weight of shape \(4,\) and normalized_shape = \(3, 4\)"):
        F.layer_norm(x, (3, 4), tg.ones(4))
    with pytest.raises(RuntimeError, match=r"\[layer_norm\] Expected bias to be of same shape"):
        F.layer_norm(x, (3, 4), tg.ones(3, 4), tg.ones(4))
    with pytest.raises(RuntimeError, match=r"\[layer_norm\] Expected normalized_shape to be at least 1-dimensional"):
        F.layer_norm(x, ())


GROUP_NORM = [((2, 6, 5), 3), ((3, 4, 2, 3), 2), ((2, 6), 2), ((2, 6, 2, 2, 2), 1)]


@pytest.mark.parametrize("shape,groups", GROUP_NORM)
def test_group_norm(shape, groups):
    channels = shape[1]
    check_op(lambda lib, x, w, b: functional(lib).group_norm(x, groups, w, b), shape, (channels,), (channels,))
    check_op(lambda lib, x: functional(lib).group_norm(x, groups, eps=1e-3), shape)


def test_group_norm_gradcheck_zero_size_module_and_errors():
    gradcheck_op(lambda lib, x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), (4,), (4,))
    check_op(lambda lib, x, w, b: functional(lib).group_norm(x, 3, w, b), (0, 3, 2), (3,), (3,),
             layouts=("contiguous",))
    for kwargs in ({}, {"affine": False}, {"bias": False}):
        ours, theirs = nn.GroupNorm(2, 4, **kwargs), torch.nn.GroupNorm(2, 4, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)
    x = tg.rand(2, 3, 4, requires_grad=True)
    y = F.group_norm(x, 3)
    assert y.grad_fn.name() == "NativeGroupNormBackward0"
    with pytest.raises(NotImplementedError, match=r"\[NativeGroupNormBackward0\] double backward"):
        tg.autograd.grad((y * y).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"\[group_norm\] Expected number of channels in input to be divisible by "
                                           r"num_groups, but got input of shape \(2, 3, 4\) and num_groups=2"):
        F.group_norm(x, 2)
    with pytest.raises(RuntimeError, match=r"\[group_norm\] Expected weight to be a vector of size equal to the "
                                           r"number of channels in input, but got weight of shape \(4,\)"):
        F.group_norm(x, 3, tg.ones(4))
    with pytest.raises(RuntimeError, match=r"\[group_norm\] Expected at least 2 dimensions"):
        F.group_norm(tg.rand(3), 3)
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups \(2\)"):
        nn.GroupNorm(2, 3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel"):
        F.group_norm(tg.rand(1, 3), 3)


# ---- RMS norm, normalize ------------------------------------------------------------------------

@pytest.mark.parametrize("shape,normalized", LAYER_NORM[:3])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm(shape, normalized, eps):
    check_op(lambda lib, x, w: functional(lib).rms_norm(x, normalized, w, eps), shape, normalized)
    check_op(lambda lib, x: functional(lib).rms_norm(x, normalized, eps=eps), shape)


def test_rms_norm_module_gradcheck_and_errors():
    gradcheck_op(lambda lib, x, w: F.rms_norm(x, (4,), w), (3, 4), (4,))
    for kwargs in ({}, {"eps": 1e-4}, {"elementwise_affine": False}):
        ours, theirs = nn.RMSNorm((3, 4), **kwargs), torch.nn.RMSNorm((3, 4), **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)
        data = np.random.default_rng(0).uniform(-2, 2, size=(2, 3, 4)).astype(np.float32)
        assert_close(ours(tg.tensor(data)), theirs(torch.tensor(data)), 1e-5, 1e-4)
    x = tg.rand(2, 3, requires_grad=True)
    assert F.rms_norm(x, (3,)).grad_fn.name() == torch.nn.functional.rms_norm(torch.rand(2, 3, requires_grad=True),
                                                                              (3,)).grad_fn.name()
    with pytest.raises(RuntimeError, match=r"\[rms_norm\] Given normalized_shape=\[5\], expected input with shape "
                                           r"\[\*, 5\], but got input of size \[2, 3\]"):
        F.rms_norm(x, (5,))
    with pytest.raises(RuntimeError, match=r"\[rms_norm\] Expected weight to be of same shape"):
        F.rms_norm(x, (3,), tg.ones(2))


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, -1), (3.0, 0), (math.inf, 1), (0.5, 1)])
def test_normalize(p, dim):
    check_op(lambda lib, x: functional(lib).normalize(x, p=p, dim=dim), (3, 4), low=0.5)
    check_op(lambda lib, x: functional(lib).normalize(x, p=p, dim=dim), (2, 3, 4))


def test_normalize_zero_vector_and_gradcheck():
    """An all-zero row is divided by eps, and its gradient is finite, as PyTorch's."""
    data = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    check_op(lambda lib, x: functional(lib).normalize(x), inputs=[data], layouts=("contiguous",))
    gradcheck_op(lambda lib, x: F.normalize(x, dim=0), (3, 4))
    assert F.normalize(tg.rand(2, 3, requires_grad=True)).grad_fn.name() == "DivBackward0"


# ---- channel-wise dropout -----------------------------------------------------------------------

@pytest.mark.parametrize("name,shape,channel_dim", [("dropout1d", (6, 8, 50), 1), ("dropout1d", (8, 50), 0),
                                                    ("dropout2d", (6, 8, 5, 10), 1), ("dropout2d", (6, 8, 50), 1)])
def test_channel_dropout(name, shape, channel_dim):
    """Each channel is either all zeros or all scaled by 1/(1-p), about p of them zeroed; eval is the identity."""
    tg.manual_seed(0)
    x = tg.rand(*shape) + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, name)(x, p=0.4)
        assert getattr(F, name)(x, p=0.4, training=False) is x
        assert np.all(getattr(F, name)(x, p=1.0).numpy() == 0)
    ratio = (y / x).numpy()
    channels = ratio.reshape(int(np.prod(shape[:channel_dim + 1])), -1)
    for row in channels:
        assert np.allclose(row, 0.0) or np.allclose(row, 1 / 0.6)
    zeroed = np.mean([np.allclose(row, 0.0) for row in channels])
    assert 0.15 < zeroed < 0.65


def test_channel_dropout_modules_and_errors():
    tg.manual_seed(1)
    for name in ("Dropout1d", "Dropout2d"):
        ours, theirs = getattr(nn, name)(0.3), getattr(torch.nn, name)(0.3)
        assert repr(ours) == repr(theirs)
        assert ours.eval()(x := tg.rand(*((2, 3, 4) if name == "Dropout1d" else (2, 3, 4, 5)))) is x
    x = tg.ones(2, 3, 4)
    out = nn.Dropout1d(0.5, inplace=True)(x)
    assert out is x
    with pytest.raises(RuntimeError, match=r"dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(tg.rand(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout2d(tg.rand(2, 3, 4, 5), p=1.5)
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1"):
        nn.Dropout2d(-0.1)
    with pytest.warns(UserWarning, match=r"dropout2d: Received a 3D input"):
        F.dropout2d(tg.rand(2, 3, 4))
    with pytest.warns(UserWarning, match=r"dropout2d: Received a 2-D input"):
        F.dropout2d(tg.rand(2, 3))


# ---- threads ----------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("op", ["batch_norm", "layer_norm", "group_norm"])
def test_large_inputs_split_over_threads(op, threads):
    """Inputs large enough for the kernels to split their channels, rows or blocks of rows over threads give
    PyTorch's results, on one thread and on several."""
    calls = {
        "batch_norm": (lambda lib, x, w, b: functional(lib).batch_norm(x, None, None, w, b, training=True), 6),
        "layer_norm": (lambda lib, x, w, b: functional(lib).layer_norm(x, (33,), w, b), 33),
        "group_norm": (lambda lib, x, w, b: functional(lib).group_norm(x, 2, w, b), 6),
    }
    fn, affine = calls[op]
    shape = (40, 6, 16, 33)
    previous = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        check_op(fn, shape, (affine,), (affine,), dtypes=(tg.float64,), layouts=("contiguous", "transposed"))
    finally:
        tg.set_num_threads(previous)
