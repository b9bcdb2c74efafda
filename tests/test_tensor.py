"""Inspecting a tensor: metadata, conversion to Python values, repr, and user attributes."""
import math

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
    with pytest.raises(RuntimeError, match=r"\[float\]"):
        float(tg.zeros(3))
    with pytest.raises(TypeError, match=r"\[len\]"):
        len(tg.tensor(1.0))
    with pytest.raises(TypeError, match=r"\[index\]"):
        [1, 2][tg.tensor(1.0)]


def test_arbitrary_attributes_stay_with_the_tensor():
    x = tg.ones(3)
    x.g = tg.zeros(3)
    x.name = "weights"
    assert x.requires_grad_() is x  # the same Python object comes back from C++
    assert x.name == "weights" and x.g.tolist() == [0.0, 0.0, 0.0]
    del x.name
    assert not hasattr(x, "name")


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
