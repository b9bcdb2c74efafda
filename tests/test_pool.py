"""Pooling against PyTorch: forward, backward and indices over dtypes and layouts, gradcheck,
zero-size batches, bad input; the VU notebook's CIFAR-10 net trains step for step like PyTorch."""
import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from helpers import assert_close, check_op, gradcheck_op


def functional(lib):
    return F if lib is tg else torch.nn.functional


POOLS = [
    ("max_pool2d", (2, 3, 8, 9), {"kernel_size": 2}),
    ("max_pool2d", (2, 3, 9, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max_pool2d", (1, 2, 9, 8), {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (2, 1), "padding": (1, 0)}),
    ("max_pool1d", (2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max_pool1d", (3, 10), {"kernel_size": 2, "dilation": 3}),
    ("avg_pool2d", (2, 3, 8, 9), {"kernel_size": 2}),
    ("avg_pool2d", (2, 3, 9, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg_pool2d", (2, 3, 9, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool2d", (1, 2, 7, 7), {"kernel_size": 3, "padding": 1, "divisor_override": 5}),
    ("avg_pool1d", (2, 3, 11), {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True,
                                "count_include_pad": False}),
    ("adaptive_avg_pool2d", (2, 3, 9, 7), {"output_size": (4, 3)}),
    ("adaptive_avg_pool2d", (2, 3, 5, 5), {"output_size": (7, None)}),
    ("adaptive_avg_pool1d", (2, 3, 10), {"output_size": 4}),
    ("adaptive_max_pool2d", (2, 3, 9, 7), {"output_size": (4, 3)}),
]


@pytest.mark.parametrize("name,shape,kwargs", POOLS)
def test_pool(name, shape, kwargs):
    check_op(lambda lib, x: getattr(functional(lib), name)(x, **kwargs), shape)


@pytest.mark.parametrize("name,kwargs", [("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
                                         ("adaptive_max_pool2d", {"output_size": 3}),
                                         ("max_pool1d", {"kernel_size": 3, "ceil_mode": True})])
def test_max_pool_indices(name, kwargs):
    shape = (2, 3, 8, 7) if name.endswith("2d") else (2, 3, 8)
    check_op(lambda lib, x: getattr(functional(lib), name)(x, return_indices=True, **kwargs), shape)


@pytest.mark.parametrize("name,shape,kwargs", [POOLS[1], POOLS[2], POOLS[6], POOLS[7], POOLS[10], POOLS[13]])
def test_pool_gradcheck(name, shape, kwargs):
    # Distinct values, so that no maximum is a tie a finite difference could flip.
    gradcheck_op(lambda lib, x: getattr(F, name)(x + tg.arange(x.numel(), dtype=tg.float64).reshape(x.shape), **kwargs),
                 shape, low=0, high=0.1)


def test_pool_channels_last():
    check_op(lambda lib, x: functional(lib).max_pool2d(x.permute(0, 3, 1, 2), 2) +
             functional(lib).avg_pool2d(x.permute(0, 3, 1, 2), 2), (2, 6, 6, 3), layouts=("contiguous",))


@pytest.mark.parametrize("name,kwargs", [("max_pool2d", {"kernel_size": 2}), ("avg_pool2d", {"kernel_size": 2}),
                                         ("adaptive_avg_pool2d", {"output_size": 2})])
def test_pool_zero_batch(name, kwargs):
    check_op(lambda lib, x: getattr(functional(lib), name)(x, **kwargs), (0, 3, 4, 4), layouts=("contiguous",))


def test_pool_bad_input():
    with pytest.raises(RuntimeError, match=r"\[max_pool2d\] stride should be greater than zero"):
        F.max_pool2d(tg.rand(1, 3, 4, 4), 2, stride=0)
    with pytest.raises(RuntimeError, match=r"\[max_pool2d\] Given input size: \(1, 3, 2, 2\), kernel_size=\(5, 5\)"
                                           r".*Output size is too small"):
        F.max_pool2d(tg.rand(1, 3, 2, 2), 5)
    with pytest.raises(RuntimeError, match=r"\[avg_pool2d\] pad should be at most half of effective kernel size"):
        F.avg_pool2d(tg.rand(1, 3, 8, 8), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"\[max_pool1d\] Expected 2D or 3D input"):
        F.max_pool1d(tg.rand(1, 3, 4, 4), 2)


def cifar_net(lib):
    """The VU deep-learning notebook's CIFAR-10 net, built from lib's nn."""
    nn_, F_ = (nn, F) if lib is tg else (torch.nn, torch.nn.functional)

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn_.Conv2d(3, 6, 5)
            self.pool = nn_.MaxPool2d(2, 2)
            self.conv2 = nn_.Conv2d(6, 16, 5)
            self.fc1 = nn_.Linear(16 * 5 * 5, 120)
            self.fc2 = nn_.Linear(120, 84)
            self.fc3 = nn_.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F_.relu(self.conv1(x)))
            x = self.pool(F_.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F_.relu(self.fc1(x))
            x = F_.relu(self.fc2(x))
            return self.fc3(x)

    return Net().to(lib.float64)


def train_cifar(lib, state, images, labels):
    net = cifar_net(lib)
    net.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    criterion = (nn if lib is tg else torch.nn).CrossEntropyLoss()
    optimizer = lib.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    losses = []
    for step in range(5):
        optimizer.zero_grad()
        loss = criterion(net(lib.tensor(images[step])), lib.tensor(labels[step]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, {k: v.detach().numpy() for k, v in net.state_dict().items()}


def test_cifar_net_trains_like_pytorch():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    state = {k: v.detach().numpy() for k, v in cifar_net(torch).state_dict().items()}
    images = rng.uniform(-1, 1, size=(5, 4, 3, 32, 32))
    labels = rng.integers(0, 10, size=(5, 4))
    ours_losses, ours_state = train_cifar(tg, state, images, labels)
    theirs_losses, theirs_state = train_cifar(torch, state, images, labels)
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=0, atol=1e-10)
    for key in theirs_state:
        np.testing.assert_allclose(ours_state[key], theirs_state[key], rtol=0, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_pool_node_names(name):
    ours = getattr(F, name)(tg.rand(1, 2, 4, 4, requires_grad=True), 2)
    theirs = getattr(torch.nn.functional, name)(torch.rand(1, 2, 4, 4, requires_grad=True), 2)
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_pool_module_repr():
    for module, args in [("MaxPool2d", (2,)), ("AvgPool2d", (3, 2)), ("AdaptiveAvgPool2d", ((5, 7),))]:
        assert repr(getattr(nn, module)(*args)) == repr(getattr(torch.nn, module)(*args))


# The even-window kernels: 2x2 stride 2 on float32 rows (four windows per vector, then a tail of
# two), the same in float64, 3x3 stride 3 and 2x2 stride 1 (the scalar loop), and a strided view.
EVEN_MAX_POOLS = [((2, 3, 8, 13), {"kernel_size": 2}), ((2, 3, 9, 9), {"kernel_size": 3}),
                  ((1, 2, 6, 7), {"kernel_size": 2, "stride": 1})]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kwargs", EVEN_MAX_POOLS)
def test_max_pool_even_windows(shape, kwargs, dtype):
    check_op(lambda lib, x: functional(lib).max_pool2d(x, return_indices=True, **kwargs), shape,
             dtypes=(getattr(tg, dtype),))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kwargs", EVEN_MAX_POOLS)
def test_max_pool_nan_and_infinity_win_as_in_pytorch(shape, kwargs, dtype):
    # At most one NaN per window (where PyTorch's own kernels disagree on which of two wins), and
    # a window of -inf only, whose index is its first element's.
    values = np.random.default_rng(0).standard_normal(shape)
    values[..., 1::3, 1::3] = np.nan
    values[..., :3, :3] = -np.inf
    ours = F.max_pool2d(tg.tensor(values, dtype=getattr(tg, dtype)), return_indices=True, **kwargs)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(values, dtype=getattr(torch, dtype)), return_indices=True,
                                            **kwargs)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
