"""Differential testing against PyTorch: one line per op case.

    check_op(lambda lib, a, b: a * b + lib.exp(a), (3, 4), (4,))

runs the same function on tapegrad and torch tensors holding the same values, in float32 and
float64, with each input laid out contiguous, transposed, strided (sliced) and expanded (where the
shape allows), and compares the outputs and the gradients of every input (backward with a random
upstream gradient). `lib` is the tapegrad or torch module, so one lambda serves both.
"""
import numpy as np
import torch

import tapegrad as tg

LAYOUTS = ("contiguous", "transposed", "strided", "expanded")
TOLERANCES = {tg.float32: (1e-5, 1e-4), tg.float64: (1e-10, 1e-8)}
NUMPY_DTYPES = {tg.float32: np.float32, tg.float64: np.float64, tg.int64: np.int64, tg.int32: np.int32,
                tg.bool: np.bool_}
TORCH_DTYPES = {tg.float32: torch.float32, tg.float64: torch.float64, tg.int64: torch.int64, tg.int32: torch.int32,
                tg.bool: torch.bool}


def to_numpy(value):
    if isinstance(value, tg.Tensor):
        return value.detach().numpy()
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def assert_close(actual, expected, atol, rtol, what=""):
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch's {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != torch's {expected.dtype}"
    if actual.dtype == np.bool_ or actual.dtype.kind in "iu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True, err_msg=what)


def _layout(lib, data, layout, requires_grad):
    """A tensor of lib equal to `data`, laid out as asked; returns (leaf, value)."""
    def leaf(array):
        t = lib.tensor(np.ascontiguousarray(array))
        if requires_grad:
            t.requires_grad_(True)
        return t

    if layout == "transposed" and data.ndim >= 2:
        order = tuple(reversed(range(data.ndim)))
        base = leaf(data.transpose(order))
        return base, base.permute(*order)
    if layout == "strided" and data.ndim >= 1 and data.size > 0:
        doubled = np.stack([data, np.zeros_like(data)], axis=-1)  # (..., n, 2)
        base = leaf(doubled)
        return base, base.select(-1, 0)
    if layout == "expanded" and data.ndim >= 1 and data.shape[0] > 1:
        base = leaf(data[:1])
        return base, base.expand(*data.shape)
    base = leaf(data)
    return base, base


def make_data(shape, dtype, rng, low=-2.0, high=2.0, expanded=False):
    data = rng.uniform(low, high, size=shape).astype(np.float64)
    if expanded and len(shape) >= 1 and shape[0] > 1:
        data = np.broadcast_to(data[:1], shape).copy()
    if dtype in (tg.int64, tg.int32):
        data = np.round(data)
    return data.astype(NUMPY_DTYPES[dtype])


def check_op(fn, *shapes, dtypes=(tg.float32, tg.float64), layouts=LAYOUTS, grad=True, low=-2.0, high=2.0,
             atol=None, rtol=None, seed=0, inputs=None):
    """Compare fn(tapegrad, *tensors) with fn(torch, *tensors). `inputs` may give NumPy arrays instead
    of shapes (cast to each dtype)."""
    rng = np.random.default_rng(seed)
    for dtype in dtypes:
        default_atol, default_rtol = TOLERANCES.get(dtype, (0, 0))
        tolerance = (default_atol if atol is None else atol, default_rtol if rtol is None else rtol)
        differentiable = grad and dtype in (tg.float32, tg.float64)
        for layout in layouts:
            if inputs is not None:
                arrays = [np.asarray(a).astype(NUMPY_DTYPES[dtype]) for a in inputs]
            else:
                arrays = [make_data(s, dtype, rng, low, high, expanded=layout == "expanded") for s in shapes]
            _compare(fn, arrays, layout, differentiable, tolerance, rng, f"{dtype!r} {layout}")


def _compare(fn, arrays, layout, differentiable, tolerance, rng, label):
    tg_leaves, tg_values, torch_leaves, torch_values = [], [], [], []
    for array in arrays:
        leaf, value = _layout(tg, array, layout, differentiable)
        tg_leaves.append(leaf)
        tg_values.append(value)
        leaf, value = _layout(torch, array, layout, differentiable)
        torch_leaves.append(leaf)
        torch_values.append(value)
    tg_out = fn(tg, *tg_values)
    torch_out = fn(torch, *torch_values)
    tg_outputs = tg_out if isinstance(tg_out, (tuple, list)) else (tg_out,)
    torch_outputs = torch_out if isinstance(torch_out, (tuple, list)) else (torch_out,)
    assert len(tg_outputs) == len(torch_outputs), f"{label}: {len(tg_outputs)} outputs vs torch's {len(torch_outputs)}"
    for index, (ours, theirs) in enumerate(zip(tg_outputs, torch_outputs)):
        assert_close(ours, theirs, *tolerance, what=f"{label}: output {index}")
    if not differentiable:
        return
    tg_loss, torch_loss = None, None
    for ours, theirs in zip(tg_outputs, torch_outputs):
        if not (isinstance(theirs, torch.Tensor) and theirs.requires_grad):
            continue
        upstream = rng.uniform(-1, 1, size=tuple(theirs.shape)).astype(to_numpy(theirs).dtype)
        tg_term = (ours * tg.tensor(upstream)).sum()
        torch_term = (theirs * torch.tensor(upstream)).sum()
        tg_loss = tg_term if tg_loss is None else tg_loss + tg_term
        torch_loss = torch_term if torch_loss is None else torch_loss + torch_term
    if torch_loss is None:
        return
    torch_loss.backward()
    tg_loss.backward()
    for index, (ours, theirs) in enumerate(zip(tg_leaves, torch_leaves)):
        if theirs.grad is None:
            assert ours.grad is None or not np.any(to_numpy(ours.grad)), f"{label}: input {index} got a gradient, torch's none"
            continue
        assert ours.grad is not None, f"{label}: input {index} got no gradient"
        assert_close(ours.grad, theirs.grad, *tolerance, what=f"{label}: gradient of input {index}")


def gradcheck_op(fn, *shapes, low=-2.0, high=2.0, seed=0):
    """tapegrad.autograd.gradcheck of fn(tapegrad, *tensors) on random float64 inputs."""
    rng = np.random.default_rng(seed)
    inputs = [tg.tensor(rng.uniform(low, high, size=s), dtype=tg.float64, requires_grad=True) for s in shapes]
    assert tg.autograd.gradcheck(lambda *xs: fn(tg, *xs), inputs)


def resident_kilobytes():
    """This process's resident memory, for tests that memory stays flat over many steps."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4
