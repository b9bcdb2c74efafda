"""Inspecting a tensor: metadata, conversion to Python values, repr, user attributes, devices,
copying and pickling."""
import copy
import gc
import math
import pickle
import subprocess
import sys
import weakref

import numpy as np
import pytest
import torch

import tapegrad as tg


def both(data, **kwargs):
    torch_kwargs = {key: getattr(torch, str(value).split(".")[-1]) if key == "dtype" else value
                    for key, value in kwargs.items()}
    return tg.tensor(data, **kwargs), torch.tensor(data, **torch_kwargs)


def test_shape_is_a_size():
    t = tg.zeros(2, 3, 4)
    assert isinstance(t.shape, tg.Size) and isinstance(t.shape, tuple)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4)
    assert repr(t.shape) == "tapegrad.Size([2, 3, 4])"
    assert isinstance(t.shape[1:], tg.Size) and t.shape[1:] == (3, 4)
    assert t.shape[-1] == 4 and t.shape.numel() == 24
    assert isinstance(t.shape + (5,), tg.Size)
    theirs = torch.Size([2, 3])
    for make in (lambda s: s * 2, lambda s: 2 * s, lambda s: (1,) + s, lambda s: s + (1,), lambda s: s[:1]):
        assert make(tg.Size([2, 3])) == make(theirs)
        assert type(make(tg.Size([2, 3]))).__name__ == type(make(theirs)).__name__ == "Size"
    with pytest.raises(TypeError):
        tg.Size([2]) + [1]
    assert tg.zeros(()).shape == () and repr(tg.zeros(()).shape) == "tapegrad.Size([])"


@pytest.mark.parametrize("shape", [(), (0,), (1,), (3,), (2, 3), (2, 0, 4), (1, 1, 1, 5)])
def test_metadata_matches_torch(shape):
    ours, theirs = tg.zeros(shape), torch.zeros(shape)
    assert ours.dim() == ours.ndim == theirs.dim()
    assert ours.numel() == theirs.numel()
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() and ours.storage_offset() == 0
    assert ours.dtype == tg.float32 and str(ours.device) == "cpu"
    for dim in range(-len(shape), len(shape)):
        assert ours.size(dim) == theirs.size(dim) and ours.stride(dim) == theirs.stride(dim)


def test_size_and_stride_reject_bad_dims():
    t = tg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"\[size\]"):
        t.size(2)
    with pytest.raises(IndexError, match=r"\[stride\]"):
        t.stride(-3)
    assert t.size(np.int64(1)) == 3 and t.stride(dim=tg.tensor(0)) == 3 and t.size(dim=-1) == 3


# Wrong types are a TypeError, as in torch; a dim past int64 is out of range, an IndexError (torch
# raises ValueError "Overflow when unpacking long long").
@pytest.mark.parametrize("call, error, torch_error, pattern", [
    (lambda t: t.size("a"), TypeError, TypeError, r"\[size\] argument 'dim' must be int, not str"),
    (lambda t: t.size(1.0), TypeError, TypeError, r"\[size\] argument 'dim' must be int, not float"),
    (lambda t: t.size(True), TypeError, TypeError, r"\[size\] argument 'dim' must be int, not bool"),
    (lambda t: t.stride("a"), TypeError, TypeError, r"\[stride\]"),
    (lambda t: t.size(2 ** 70), IndexError, ValueError, r"\[size\] dimension out of range \(got 1180591620717411303424\)"),
    (lambda t: t.stride(2 ** 70), IndexError, ValueError, r"\[stride\] dimension out of range"),
    (lambda t: t.stride(-2 ** 70), IndexError, ValueError, r"\[stride\] dimension out of range"),
])
def test_size_and_stride_argument_errors(call, error, torch_error, pattern):
    with pytest.raises(error, match=pattern):
        call(tg.zeros(2, 3))
    with pytest.raises(torch_error):
        call(torch.zeros(2, 3))


def test_views_report_their_layout():
    base = tg.arange(24).reshape(2, 3, 4)
    twin = torch.arange(24).reshape(2, 3, 4)
    for ours, theirs in [(base.transpose(0, 2), twin.transpose(0, 2)), (base.narrow(1, 1, 2), twin.narrow(1, 1, 2)),
                         (base.select(0, 1), twin.select(0, 1)), (base.permute(2, 0, 1), twin.permute(2, 0, 1))]:
        assert ours.shape == theirs.shape and ours.stride() == theirs.stride()
        assert ours.storage_offset() == theirs.storage_offset()
        assert ours.is_contiguous() == theirs.is_contiguous()
        assert ours.data_ptr() == base.data_ptr() + 8 * ours.storage_offset()
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("data", [3, 2.5, True, [1, 2], [[1.5, -2.0], [0.0, 3.25]], [[True], [False]], [], [[]]])
def test_tolist_and_item_match_torch(data):
    ours, theirs = both(data)
    assert ours.tolist() == theirs.tolist()
    assert [type(value) for value in np.ravel(ours.tolist())] == [type(value) for value in np.ravel(theirs.tolist())]
    if theirs.numel() == 1:
        assert ours.item() == theirs.item() and type(ours.item()) is type(theirs.item())


def test_python_conversions():
    assert float(tg.tensor([2.5])) == 2.5 and int(tg.tensor(7)) == 7 and int(tg.tensor(2.9)) == 2
    assert bool(tg.tensor([1])) is True and bool(tg.tensor(0.0)) is False
    assert len(tg.zeros(4, 2)) == 4
    assert tg.tensor(1).__index__() == 1 and [10, 20, 30][tg.tensor(2)] == 30
    with pytest.raises(RuntimeError, match=r"\[item\]"):
        tg.zeros(2).item()
    with pytest.raises(RuntimeError, match=r"\[bool\].*ambiguous"):
        bool(tg.zeros(2))
    with pytest.raises(ValueError, match=r"\[float\] only one-element tensors"):  # torch 2.13: ValueError
        float(tg.zeros(3))
    with pytest.raises(ValueError, match=r"\[int\] only one-element tensors"):
        int(tg.zeros(3))
    with pytest.raises(TypeError, match=r"\[len\]"):
        len(tg.tensor(1.0))
    with pytest.raises(TypeError, match=r"\[index\]"):
        [1, 2][tg.tensor(1.0)]


def test_iteration_walks_dim_zero_as_torch():
    ours, theirs = both([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    rows = list(ours)
    assert [row.tolist() for row in rows] == [row.tolist() for row in theirs]
    assert all(row.data_ptr() == ours.data_ptr() + 8 * i for i, row in enumerate(rows))  # views, as torch's
    assert list(tg.zeros(0, 3)) == list(torch.zeros(0, 3)) == []
    assert [row.tolist() for row in tg.arange(6).reshape(3, 2).t()] == [[0, 2, 4], [1, 3, 5]]
    with pytest.raises(TypeError, match=r"\[iter\] iteration over a 0-d tensor"):
        list(tg.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(torch.tensor(1.0))
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    first, second = x
    (first * 2 + second * 3).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [3.0, 3.0]]


@pytest.mark.parametrize("value, spec", [(1.2345, ".2f"), (3, "5d"), (1.5, ""), (-2.5, "+.1e"), (True, "")])
def test_format_of_zero_dim_tensors_formats_the_number(value, spec):
    ours, theirs = both(value)
    assert format(ours, spec) == format(theirs, spec)
    assert f"{ours}" == f"{theirs}"


def test_format_of_other_tensors_takes_no_spec():
    for data in ([1.2345], [1.0, 2.0]):
        ours, theirs = both(data)
        assert format(ours, "") == repr(ours)
        with pytest.raises(TypeError, match="unsupported format string"):
            format(ours, ".2f")
        with pytest.raises(TypeError, match="unsupported format string"):
            format(theirs, ".2f")


def test_arbitrary_attributes_stay_with_the_tensor():
    x = tg.ones(3)
    x.g = tg.zeros(3)
    x.name = "weights"
    assert x.requires_grad_() is x  # the same Python object comes back from C++
    assert x.name == "weights" and x.g.tolist() == [0.0, 0.0, 0.0]
    del x.name
    assert not hasattr(x, "name")


def test_attributes_survive_a_trip_through_cpp():
    # w.grad is a new Python object each time (the TensorImpl lives on in C++), as torch's would
    # not be; its attributes must come back all the same.
    w = tg.zeros(2)
    w.grad = tg.ones(2)
    w.grad.tag = 1
    assert w.grad.tag == 1
    grad = w.grad
    grad.tag, grad.other = 2, "x"
    del grad
    assert (w.grad.tag, w.grad.other) == (2, "x")
    x = tg.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    x.grad.note = "made by backward"
    assert x.grad.note == "made by backward"
    assert not hasattr(tg.zeros(2), "tag") and not hasattr(tg.ones(3, requires_grad=True).grad, "__dict__tag")


def test_kept_attributes_are_released_with_their_tensor():
    class Marker:
        pass

    marker = Marker()
    alive = weakref.ref(marker)
    w = tg.zeros(2)
    w.grad = tg.ones(2)
    w.grad.marker = marker
    del marker
    gc.collect()
    assert alive() is not None  # kept on the TensorImpl while no Python object stands for it
    del w
    gc.collect()
    assert alive() is None
    # A dict that refers to its own Python object is an ordinary cycle: the collector frees it.
    y = tg.zeros(2)
    y.grad = tg.ones(2)
    grad = y.grad
    grad.me = grad
    del grad
    gc.collect()
    assert not hasattr(y.grad, "me")


# Every case is printed by both libraries; the strings must agree once "torch." reads "tapegrad.".
REPR_CASES = [
    "[1., 2., 3.]", "[[0.12345, 0.5]]", "3.", "3", "True", "[1, 2, 3]", "[-10, 200]", "[True, False]", "[]", "[[]]",
    "[[], []]", "[1e-5, 1.]", "[1e10, 1.]", "[123456789., 1.]", "[1e-3, 5e2]", "[0.5, 1e5]", "[0., 0.]", "[-0.0, 1.5]",
    "[float('nan'), 1.5, float('inf')]", "[float('nan'), 1., -float('inf')]", "[float('nan')]", "[[1, 2], [3, 4]]",
    "[[[1., 2.], [3., 4.]], [[5., 6.], [7., 8.]]]", "[0.1 * i for i in range(30)]", "list(range(2000))",
    "[[float(i * j) / 7 for i in range(40)] for j in range(40)]", "[[[i + j + k for i in range(11)] for j in range(11)] for k in range(11)]",
    "[float(i) ** 3 for i in range(1500)]", "[[1e-8 * i for i in range(3)]]", "[2 ** 40, -3]",
]


@pytest.mark.parametrize("case", REPR_CASES)
def test_repr_matches_torch(case):
    ours, theirs = both(eval(case))
    assert repr(ours) == repr(theirs).replace("torch.", "tapegrad.")
    assert str(ours) == repr(ours)


@pytest.mark.parametrize("dtype", ["float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("case", ["[1, 0, 3]", "[]", "[[1.5, 2]]", "7"])
def test_repr_names_dtypes_like_torch(case, dtype):
    data = eval(case)
    ours = tg.tensor(data, dtype=getattr(tg, dtype))
    theirs = torch.tensor(data, dtype=getattr(torch, dtype))
    assert repr(ours) == repr(theirs).replace("torch.", "tapegrad.")


def test_repr_shows_autograd_state():
    x, y = tg.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == repr(y)
    assert repr(x * 2) == repr(y * 2)



def test_repr_wraps_suffixes_past_the_line_width():
    # "tapegrad." is longer than "torch.", so where the suffix wraps differs from torch's string;
    # the rule is torch's: a suffix that would pass 80 columns starts a new line at the indent.
    text = repr(tg.ones(12, dtype=tg.float64, requires_grad=True) + 1.5)
    assert text.endswith("dtype=tapegrad.float64,\n       grad_fn=<AddBackward0>)")
    assert all(len(line) <= 80 for line in text.splitlines())


def test_repr_of_views_and_summaries():
    ours, theirs = tg.arange(3000.0).reshape(30, 100), torch.arange(3000.0).reshape(30, 100)
    assert repr(ours.t()) == repr(theirs.t())
    assert repr(ours.narrow(1, 5, 3)) == repr(theirs.narrow(1, 5, 3))
    assert "..." in repr(ours) and repr(ours) == repr(theirs)


def test_repr_follows_the_default_dtype():
    tg.set_default_dtype(tg.float64)
    try:
        assert repr(tg.tensor([1.5])) == "tensor([1.5000])"
        assert repr(tg.tensor([1.5], dtype=tg.float32)) == "tensor([1.5000], dtype=tapegrad.float32)"
    finally:
        tg.set_default_dtype(tg.float32)
    assert math.isclose(tg.tensor([1.5]).item(), 1.5)


def test_repr_of_huge_expanded_tensors_is_a_summary():
    for make in (lambda lib: lib.zeros(1).expand(2 ** 62), lambda lib: lib.zeros(1, 1).expand(2 ** 31, 2 ** 31),
                 lambda lib: lib.arange(3.0).reshape(3, 1, 1).expand(3, 2 ** 30, 2 ** 31)):
        assert repr(make(tg)) == repr(make(torch))


# ---- integers that do not fit their dtype ------------------------------------------------------------

def set_first(tensor, value):
    tensor[0] = value
    return tensor


# Storing a number into a tensor checks that the dtype holds it, in both libraries.
@pytest.mark.parametrize("store, pattern", [
    (lambda lib: set_first(lib.zeros(2, dtype=lib.int32), 2 ** 40), r"\[__setitem__\] value 1099511627776 cannot be converted to type int32"),
    (lambda lib: set_first(lib.arange(3), float("nan")), r"\[__setitem__\] value nan cannot be converted to type int64"),
    (lambda lib: set_first(lib.zeros(3, 2, dtype=lib.int32), -2 ** 31 - 1), r"\[__setitem__\]"),
    (lambda lib: set_first(lib.zeros(2, dtype=lib.int32)[lib.tensor([True, False])], 2 ** 40), r"\[__setitem__\]"),
    (lambda lib: lib.zeros(3, dtype=lib.int32).__setitem__(lib.tensor([0, 2]), 2 ** 40), r"\[__setitem__\]"),
    (lambda lib: set_first(lib.zeros(2), 1e300), r"\[__setitem__\] value 1e\+300 cannot be converted to type float32"),
    (lambda lib: lib.full((2,), 2 ** 40, dtype=lib.int32), r"\[full\] value 1099511627776 cannot be converted to type int32"),
    (lambda lib: lib.full((2,), float("inf"), dtype=lib.int64), r"\[full\]"),
    (lambda lib: lib.zeros(2, dtype=lib.int64).fill_(float("inf")), r"\[fill_\] value inf cannot be converted to type int64"),
    (lambda lib: lib.zeros(2, dtype=lib.int32).fill_(2147483647.5), r"\[fill_\]"),
    (lambda lib: lib.zeros(2).fill_(-1e39), r"\[fill_\] value -1e\+39 cannot be converted to type float32"),
    (lambda lib: lib.zeros(2, dtype=lib.int32).clamp(0, 2 ** 40), r"\[clamp\]"),
    (lambda lib: lib.zeros(2, dtype=lib.int32).clamp(min=2 ** 40), r"\[clamp\]"),
    (lambda lib: lib.zeros(2, dtype=lib.int32).clamp_(0, 2 ** 40), r"\[clamp\]"),
    (lambda lib: lib.zeros(2, dtype=lib.int32).masked_fill(lib.tensor([True, False]), 2 ** 40), r"\[masked_fill\]"),
    (lambda lib: lib.zeros(2, dtype=lib.int32).masked_fill_(lib.tensor([True, False]), float("nan")), r"\[masked_fill_\]"),
    (lambda lib: lib.where(lib.tensor([True, False]), lib.zeros(2, dtype=lib.int32), 2 ** 40), r"\[where\]"),
    (lambda lib: lib.where(lib.tensor([True, False]), 2 ** 40, lib.zeros(2, dtype=lib.int32)), r"\[where\]"),
    (lambda lib: lib.arange(0, 1e30, 1e29, dtype=lib.int64), r"\[arange\] value 1e\+30 cannot be converted to type int64"),
])
def test_numbers_that_do_not_fit_the_dtype_are_refused(store, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        store(tg)
    with pytest.raises(RuntimeError, match="cannot be converted to type"):
        store(torch)


# What fits is stored as torch stores it: truncated toward zero, anything into bool, the most
# negative int32, and int32 arithmetic with a big Python int wrapping as torch's does.
@pytest.mark.parametrize("store", [
    lambda lib: set_first(lib.zeros(2, dtype=lib.int32), 2.7), lambda lib: set_first(lib.zeros(2, dtype=lib.int64), -2.7),
    lambda lib: set_first(lib.zeros(2, dtype=lib.bool), 2 ** 40), lambda lib: set_first(lib.zeros(2, dtype=lib.bool), float("nan")),
    lambda lib: lib.zeros(2, dtype=lib.int32).fill_(-2 ** 31), lambda lib: lib.zeros(2, dtype=lib.int64).fill_(-2 ** 63),
    lambda lib: lib.full((2,), -2.5, dtype=lib.int64), lambda lib: lib.zeros(2).fill_(float("inf")),
    lambda lib: lib.zeros(2).fill_(1e-50), lambda lib: lib.zeros(2, dtype=lib.int32) + 2 ** 40,
    lambda lib: lib.zeros(2, dtype=lib.int32).masked_fill(lib.tensor([True, False]), 2.5),
])
def test_numbers_that_fit_are_stored_as_torch_stores_them(store):
    ours, theirs = store(tg), store(torch)
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype).replace("torch", "tapegrad")


# ---- devices -----------------------------------------------------------------------------------------

def test_device_objects_are_like_torch_devices():
    for args in (("cpu",), ("cuda",), ("cuda", 0), ("cuda:1",), ("cpu", 0)):
        ours, theirs = tg.device(*args), torch.device(*args)
        assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
        assert ours.type == theirs.type and ours.index == theirs.index
        assert pickle.loads(pickle.dumps(ours)) == ours and copy.deepcopy(ours) == ours
    assert tg.device(tg.device("cuda:1")) == tg.device("cuda", 1) == tg.device(1) != tg.device("cuda")
    assert tg.device("cpu:0") != tg.device("cpu") and hash(tg.device("cpu")) == hash(tg.device("cpu"))
    # Unlike torch.device, a device equals the string naming it (Tensor.device used to be one).
    assert tg.device("cpu") == "cpu" and "cpu" == tg.device("cpu") and tg.device("cpu") != "cuda"
    assert tg.device("cpu") != "not a device" and tg.device("cpu") != 3
    for args, error in [(("gpu",), ValueError), (("cuda", -1), RuntimeError), (("cuda:1", 0), RuntimeError),
                        ((5.0,), TypeError), (("cpu", "a"), TypeError)]:
        with pytest.raises(error, match=r"\[device\]"):
            tg.device(*args)


def test_tensors_report_and_take_devices():
    t = tg.zeros(2)
    assert isinstance(t.device, tg.device) and t.device == tg.device("cpu") and t.device.type == "cpu"
    assert repr(t.device) == repr(torch.zeros(2).device)
    for device in ("cpu", tg.device("cpu"), torch.device("cpu"), None):
        assert tg.zeros(2, device=device).device == "cpu" and tg.tensor([1.0], device=device).device == "cpu"
        assert tg.ones(2).to(device).device == "cpu"
    assert tg.zeros_like(t, device=tg.device("cpu")).device == "cpu"
    assert tg.cuda.is_available() is torch.cuda.is_available() is False
    assert tg.cuda.device_count() == torch.cuda.device_count() == 0
    tg.cuda.manual_seed_all(0)
    assert tg.device("cuda" if tg.cuda.is_available() else "cpu") == tg.device("cpu")


@pytest.mark.parametrize("move, pattern", [
    (lambda t: t.cuda(), r"\[cuda\] this build of tapegrad has no CUDA support"),
    (lambda t: t.cuda(0), r"\[cuda\]"),
    (lambda t: t.to("cuda"), r"\[to\] this build of tapegrad has no CUDA support"),
    (lambda t: t.to(0), r"\[to\]"),
    (lambda t: t.to(tg.device("cuda", 0)), r"\[to\]"),
    (lambda t: t.to(device="cuda:0", dtype=tg.float64), r"\[to\]"),
    (lambda t: tg.zeros(2, device="cuda"), r"\[zeros\]"),
    (lambda t: tg.tensor([1.0], device=tg.device("cuda")), r"\[tensor\]"),
])
def test_cuda_is_refused_clearly(move, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        move(tg.zeros(2))


# Every form of Tensor.to that torch parses: (dtype), (device, dtype), (other), with non_blocking
# and copy positionally or by keyword.
@pytest.mark.parametrize("convert", [
    lambda lib, t: t.to(lib.float64), lambda lib, t: t.to("cpu"), lambda lib, t: t.to("cpu", non_blocking=True),
    lambda lib, t: t.to("cpu", lib.int32), lambda lib, t: t.to(lib.device("cpu"), lib.int64),
    lambda lib, t: t.to(lib.ones(2, dtype=lib.float64)), lambda lib, t: t.to(None), lambda lib, t: t.to(None, lib.int32),
    lambda lib, t: t.to(dtype=lib.int64, device="cpu"), lambda lib, t: t.to(lib.float64, True),
    lambda lib, t: t.to("cpu", lib.float64, False, True), lambda lib, t: t.to(lib.float32, copy=True, non_blocking=True),
    lambda lib, t: t.to(lib.ones(1), False, True), lambda lib, t: t.to(device=lib.device("cpu")),
])
def test_to_parses_every_torch_form(convert):
    ours, theirs = both([1.5, -2.0])
    converted, expected = convert(tg, ours), convert(torch, theirs)
    assert converted.tolist() == expected.tolist()
    assert str(converted.dtype) == str(expected.dtype).replace("torch", "tapegrad")
    assert (converted is ours) == (expected is theirs)


def test_to_rejects_arguments_torch_rejects():
    for convert in (lambda lib, t: t.to("cpu", lib.float64, False, True, 5), lambda lib, t: t.to(lib.float64, 1)):
        with pytest.raises(TypeError, match=r"\[to\]"):
            convert(tg, tg.zeros(2))
        with pytest.raises(TypeError):
            convert(torch, torch.zeros(2))


# ---- copy, deepcopy, pickle --------------------------------------------------------------------------

def round_trips(tensor):
    return copy.deepcopy(tensor), pickle.loads(pickle.dumps(tensor)), copy.copy(tensor)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([[1.5, -2.0], [3.0, 4.25]]), lambda lib: lib.arange(12).reshape(3, 4).t(),
    lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4)[1:, ::2], lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor(2.5, requires_grad=True), lambda lib: lib.zeros(0, 3), lambda lib: lib.ones(2, 3, dtype=lib.int32),
    lambda lib: lib.zeros(1, 3).expand(2, 3),
])
def test_copies_keep_values_dtype_layout_and_requires_grad(make):
    ours, theirs = make(tg), make(torch)
    for mine, torchs in zip(round_trips(ours), round_trips(theirs)):
        assert mine.tolist() == torchs.tolist() and str(mine.dtype) == str(torchs.dtype).replace("torch", "tapegrad")
        assert mine.stride() == torchs.stride() and mine.storage_offset() == torchs.storage_offset()
        assert mine.requires_grad == torchs.requires_grad and mine.is_leaf and type(mine) is tg.Tensor


def test_copies_share_memory_as_torch_copies_do():
    def writes_reach(lib, make_copies):
        base = lib.zeros(3, 4)
        first, second = make_copies([base, base[1]])
        first[1, 0] = 5
        return second[0].item() == 5, first.data_ptr() == base.data_ptr()
    for make_copies in (copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x)), lambda x: [copy.copy(t) for t in x]):
        assert writes_reach(tg, make_copies) == writes_reach(torch, make_copies)


def test_deepcopy_brings_grad_and_attributes_and_refuses_non_leaves():
    for lib in (tg, torch):
        w = lib.zeros(2, requires_grad=True)
        w.grad = lib.ones(2)
        w.label = ["weights"]
        deep, pickled, shallow = round_trips(w)
        assert deep.grad.tolist() == [1.0, 1.0] and pickled.grad is None and shallow.grad is None
        assert deep.label == pickled.label == shallow.label == ["weights"] and deep.label is not w.label
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(w * 2)
        assert pickle.loads(pickle.dumps(w * 2)).requires_grad and copy.copy(w * 2).requires_grad


def test_deepcopy_of_state_dicts():
    model = tg.nn.Linear(3, 2)
    optimizer = tg.optim.Adam(model.parameters())
    model(tg.ones(4, 3)).sum().backward()
    optimizer.step()
    state = copy.deepcopy(model.state_dict())
    assert all(state[name].tolist() == value.tolist() and state[name].data_ptr() != value.data_ptr()
               for name, value in model.state_dict().items())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    original = optimizer.state_dict()
    for index, entry in original["state"].items():
        for key, value in entry.items():
            if isinstance(value, tg.Tensor):
                assert optimizer_state["state"][index][key].tolist() == value.tolist()
    assert optimizer_state["param_groups"] == original["param_groups"]


def test_dtypes_pickle_as_themselves():
    for dtype in (tg.float32, tg.float64, tg.int32, tg.int64, tg.bool):
        assert pickle.loads(pickle.dumps(dtype)) is dtype and copy.deepcopy(dtype) is dtype


def test_import_does_not_load_urllib():
    code = "import sys, tapegrad; print('urllib.request' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


class Doubled(tg.Tensor):
    """A subclass overriding one of the methods that have a fast no-argument path."""

    def relu(self):
        return super().relu() * 2


def test_fast_method_paths_agree_with_their_full_bindings():
    """relu(), sum() and backward() without arguments skip pybind11's dispatcher; every other call
    goes to the full binding, which keeps its keywords, docstring, errors and subclass overrides."""
    x = tg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    assert x.sum().item() == x.sum(dim=None).item() == 6.0
    assert x.sum(1, keepdim=True).shape == (2, 1)
    assert x.sum(dtype=tg.float64).dtype == tg.float64
    assert tg.equal(x.relu(), tg.relu(x))
    x.sum().backward()
    (x * 2).sum().backward(None, None, False)
    (x * 3).sum().backward(retain_graph=False)
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 6.0))
    assert "keepdim" in tg.Tensor.sum.__doc__
    with pytest.raises(TypeError):
        x.relu(1)
    with pytest.raises(TypeError):
        x.backward(nonsense=True)
    with pytest.raises(IndexError, match=r"\[sum\] dimension out of range"):
        x.sum(5)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(2).sum().backward()
    doubled = Doubled(tg.tensor([-1.0, 2.0]))
    assert doubled.relu().tolist() == [0.0, 4.0]
    assert Doubled(tg.tensor([1.0, 2.0])).sum().item() == 3.0
