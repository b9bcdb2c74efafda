"""Creation functions and tensor(data): values, dtypes and shapes against PyTorch; errors; RNG."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close

# Each expression runs with lib = tapegrad and lib = torch; dtype, shape and values must agree.
SAME_AS_TORCH = [
    "lib.arange(5)", "lib.arange(0., 1., .1)", "lib.arange(1, 4, 0.5)", "lib.arange(10, 0, -3)", "lib.arange(0, 10, 3)",
    "lib.arange(5.)", "lib.arange(1, 2.5)", "lib.arange(np.int64(4))", "lib.arange(0, 5, dtype=lib.float64)",
    "lib.arange(0, 5, 1.5, dtype=lib.int64)", "lib.arange(0.5, 4.7, dtype=lib.int32)",
    "lib.arange(-0.5, 4.7, dtype=lib.int64)", "lib.arange(0.5, 4.7, 1.5, dtype=lib.int32)", "lib.arange(7, -2, -2.5, dtype=lib.int64)",
    "lib.arange(1, 10, 2, dtype=lib.float32)", "lib.arange(0, 1, 0.1, dtype=lib.float64)", "lib.arange(0)", "lib.arange(-3, 3)", "lib.arange(0.5, -2.5, -0.25)",
    "lib.full((2, 3), 2)", "lib.full((2, 3), 2.)", "lib.full((2,), True)", "lib.full([2], 1, dtype=lib.float64)",
    "lib.full((2,), 1.5, dtype=lib.int64)", "lib.full((), -4.5)", "lib.full((0, 3), 1)",
    "lib.zeros(2, 3)", "lib.zeros((2, 3))", "lib.zeros(size=(2, 3))", "lib.zeros([2, 3])", "lib.zeros(())", "lib.zeros(0)",
    "lib.zeros(2, 3, dtype=lib.bool)", "lib.zeros(lib.Size([2, 3]))", "lib.ones(2, dtype=lib.int32)", "lib.ones(3, 1)",
    "lib.ones((2, 0, 3))", "lib.ones(size=[4], dtype=lib.float64)",
    "lib.linspace(0, 1, 5)", "lib.linspace(0, 1, 1)", "lib.linspace(0, 1, 0)", "lib.linspace(0, 10, 4, dtype=lib.int64)",
    "lib.linspace(0, 1, steps=3)", "lib.linspace(-2.5, 7, 101)", "lib.linspace(3, -3, 7, dtype=lib.float64)",
    "lib.eye(3)", "lib.eye(2, 3)", "lib.eye(3, 2)", "lib.eye(3, dtype=lib.int64)", "lib.eye(0)", "lib.eye(2, dtype=lib.bool)",
    "lib.zeros_like(lib.ones(2, dtype=lib.int32))", "lib.ones_like(lib.ones(2), dtype=lib.float64)",
    "lib.full_like(lib.ones(2), 7)", "lib.full_like(lib.ones(2, dtype=lib.int64), 2.7)", "lib.ones_like(lib.zeros(2, 3).t())",
    "lib.zeros_like(lib.zeros(2, 3, 4).permute(2, 0, 1))", "lib.full_like(lib.zeros(2, 3, 4).permute(1, 2, 0)[1:], 1.5)",
    "lib.ones_like(lib.zeros(4, 3)[::2].t(), dtype=lib.int32)", "lib.zeros_like(lib.zeros(3, 1).expand(3, 4))",
    "lib.zeros_like(lib.zeros(3, 1, 4).transpose(0, 1))", "lib.full_like(lib.zeros(0, 3).t(), 2)",
    "lib.tensor([])", "lib.tensor([[], []])", "lib.tensor(3)", "lib.tensor(2.5)", "lib.tensor(True)", "lib.tensor([1, 2.5])",
    "lib.tensor([True, 2])", "lib.tensor([[1, 2], [3, 4]])", "lib.tensor(((1., 2.), (3., 4.)))", "lib.tensor([2 ** 62, -1])",
    "lib.tensor([2 ** 64, 1.5])", "lib.tensor([1.7, -1.2], dtype=lib.int64)", "lib.tensor([3, 0], dtype=lib.bool)",
    "lib.tensor([0.5, 0.0], dtype=lib.bool)", "lib.tensor([1, 2], dtype=lib.float64)", "lib.tensor([lib.tensor(1.5), 2, True])",
    "lib.tensor([lib.tensor(1, dtype=lib.int32), 2])", "lib.tensor([lib.tensor([1.]), lib.tensor([2.])])",
    "lib.tensor([np.float64(1.), np.int32(3)])", "lib.tensor([np.int32(1), np.int32(2)])", "lib.tensor(np.float64(2.))",
    "lib.tensor([np.bool_(True), False])", "lib.tensor([np.array([1, 2]), np.array([3, 4])])",
    "lib.tensor(np.arange(6.).reshape(2, 3))", "lib.tensor(np.arange(6, dtype=np.int32)[::2])",
    "lib.tensor(np.arange(12.).reshape(3, 4).T)", "lib.tensor(np.array([True, False]))", "lib.tensor(np.zeros((0, 2)))",
    "lib.tensor(np.arange(3.), dtype=lib.float32)", "lib.tensor(lib.arange(4.))", "lib.tensor(lib.arange(4), dtype=lib.float64)",
    "lib.as_tensor([1, 2])", "lib.as_tensor(np.arange(3.))", "lib.as_tensor(np.arange(3), dtype=lib.float32)",
    "lib.tensor([[float(10 * row + column) for column in range(10)] for row in range(100)])",
]


def numpy_of(value):
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


@pytest.mark.parametrize("expression", SAME_AS_TORCH)
def test_same_as_torch(expression):
    ours = eval(expression, {"lib": tg, "np": np})
    theirs = eval(expression, {"lib": torch, "np": np})
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "tapegrad.")
    assert ours.shape == tuple(theirs.shape)
    # Layouts as PyTorch's (ones_like of a transposed tensor is transposed); PyTorch's strides of
    # a tensor with no elements are arbitrary.
    assert ours.stride() == theirs.stride() if theirs.numel() else ours.is_contiguous()
    assert_close(ours, theirs, atol=1e-6, rtol=1e-6, what=expression)


@pytest.mark.parametrize("expression, error, message", [
    ("tg.zeros(2, -1)", RuntimeError, r"\[zeros\] negative dimension -1"),
    ("tg.ones(-1)", RuntimeError, r"\[ones\] negative dimension"),
    ("tg.empty(-2, 3)", RuntimeError, r"\[empty\] negative dimension"),
    ("tg.full((-1,), 1.0)", RuntimeError, r"\[full\] negative dimension"),
    ("tg.zeros(2.5)", TypeError, r"\[zeros\] sizes must be integers"),
    ("tg.zeros('a')", TypeError, r"\[zeros\]"),
    ("tg.zeros((2, 3), size=(2, 3))", TypeError, r"\[zeros\]"),
    ("tg.arange(-5)", RuntimeError, r"\[arange\] upper bound and lower bound inconsistent"),
    ("tg.arange(0, 1, 0)", RuntimeError, r"\[arange\] step must be nonzero"),
    ("tg.arange(0, float('inf'))", RuntimeError, r"\[arange\] unsupported range"),
    ("tg.arange(0, 1e30, 1e-30)", RuntimeError, r"\[arange\] invalid size"),
    ("tg.linspace(0, 1, -1)", RuntimeError, r"\[linspace\] number of steps must be non-negative"),
    ("tg.eye(-1)", RuntimeError, r"\[eye\]"),
    ("tg.randint(5, 3, (2,))", RuntimeError, r"\[randint\] expects low < high"),
    ("tg.randperm(-1)", RuntimeError, r"\[randperm\]"),
    ("tg.rand(2, dtype=tg.int64)", TypeError, r"floating-point"),
    ("tg.zeros(1 << 40, 1 << 40)", RuntimeError, r"more elements than int64"),
    ("tg.tensor([1, 2], requires_grad=True)", RuntimeError, r"floating point"),
    ("tg.tensor([2 ** 64, 1])", ValueError, r"\[tensor\] integer 18446744073709551616 does not fit in int64"),
    ("tg.tensor([float('nan')], dtype=tg.int64)", RuntimeError, r"\[tensor\] value nan cannot be converted to type int64"),
    ("tg.tensor([2 ** 40], dtype=tg.int32)", RuntimeError, r"\[tensor\] value 1099511627776 cannot be converted to type int32"),
    ("tg.tensor([1.0], device='cuda')", RuntimeError, r"\[tensor\] device cuda"),
    ("tg.empty(2 ** 64)", RuntimeError, r"\[empty\] size 18446744073709551616 does not fit in int64"),
    ("tg.zeros(2, -2 ** 63 - 1)", RuntimeError, r"\[zeros\] size -9223372036854775809 does not fit in int64"),
    ("tg.zeros(0, 2 ** 62, 2 ** 62)", RuntimeError, r"\[zeros\] the strides of shape \(0, 4611686018427387904, "
                                                     r"4611686018427387904\) overflow int64"),
    ("tg.empty([1] * 65)", RuntimeError, r"\[empty\] tensors can have at most 64 dims, got 65"),
    ("tg.zeros(True)", TypeError, r"\[zeros\]"),
    ("tg.ones([2.0])", TypeError, r"\[ones\] sizes must be integers, got float"),
    ("tg.randperm(2 ** 64)", RuntimeError, r"\[randperm\] argument 'n' is 18446744073709551616, which does not fit"),
    ("tg.randperm(2.0)", TypeError, r"\[randperm\] argument 'n' must be int, not float"),
    ("tg.randint(0, 2 ** 64, (2,))", RuntimeError, r"\[randint\] argument 'high'"),
    ("tg.eye(2 ** 70)", RuntimeError, r"\[eye\] argument 'n'"),
    ("tg.eye(2, 'a')", TypeError, r"\[eye\] argument 'm' must be int, not str"),
    ("tg.linspace(0, 1, 2.0)", TypeError, r"\[linspace\] argument 'steps' must be int, not float"),
    ("tg.manual_seed(2 ** 64)", ValueError, r"\[manual_seed\]"),
    ("tg.full((2,), 2 ** 40, dtype=tg.int32)", RuntimeError, r"\[full\] value 1099511627776 cannot be converted"),
    ("tg.full_like(tg.zeros(2, dtype=tg.int32), 2 ** 40)", RuntimeError, r"\[full_like\] value 1099511627776"),
    ("tg.full_like(tg.zeros(2), float('nan'), dtype=tg.int64)", RuntimeError, r"\[full_like\] value nan"),
    ("tg.randint_like(tg.zeros(2))", TypeError, r"\[randint_like\] expected randint_like\(input, high\)"),
    ("tg.randint_like(tg.zeros(2), 3, 1)", RuntimeError, r"\[randint\] expects low < high"),
])
def test_errors(expression, error, message):
    with pytest.raises(error, match=message):
        eval(expression)


@pytest.mark.parametrize("size", [1 << 50, (1 << 31, 1 << 31)])
def test_huge_allocations_raise_instead_of_crashing(size):
    with pytest.raises((MemoryError, RuntimeError), match=r"\[empty\]"):
        tg.empty(size)


def test_impossible_randperm_is_a_memory_error():
    with pytest.raises(MemoryError, match=r"\[randperm\] shape \(4611686018427387904,\) needs more bytes"):
        tg.randperm(2 ** 62)


# The random and uninitialised *_like functions lay their result out as torch's preserve_format
# does (values differ, so only the layout is compared).
@pytest.mark.parametrize("like", [
    "lib.zeros(3, 4).t()", "lib.zeros(2, 3, 4).permute(2, 0, 1)", "lib.zeros(4, 6)[:, ::2]", "lib.zeros(2, 3)",
    "lib.zeros(3, 1).expand(3, 4)", "lib.zeros(2, 3, 4).permute(1, 2, 0)[1:]", "lib.zeros(0, 3).t()",
])
@pytest.mark.parametrize("make", [
    "lib.empty_like({})", "lib.rand_like({})", "lib.randn_like({}, dtype=lib.float64)", "lib.randint_like({}, 10)",
    "lib.randint_like({}, 2, 10, dtype=lib.int32)", "lib.randint_like({}, high=5)",
])
def test_random_and_empty_like_keep_the_layout(like, make):
    ours = eval(make.format(like), {"lib": tg})
    theirs = eval(make.format(like), {"lib": torch})
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch", "tapegrad")
    assert ours.stride() == theirs.stride() if theirs.numel() else ours.is_contiguous()


def test_randint_like_draws_in_range():
    tg.manual_seed(3)
    values = tg.randint_like(tg.zeros(40, 50).t(), 3, 7)
    assert values.dtype == tg.float32 and set(values.flatten().tolist()) == {3.0, 4.0, 5.0, 6.0}
    assert tg.randint_like(tg.zeros(2, dtype=tg.int32), 5).dtype == tg.int32
    assert tg.randint_like(tg.zeros(3), 5, requires_grad=True).requires_grad
    tg.manual_seed(3)
    assert tg.randint_like(tg.zeros(40, 50).t(), 3, 7).tolist() == values.tolist()


def test_rand_like_fills_every_element():
    values = tg.rand_like(tg.zeros(30, 40).t()).numpy()
    assert values.min() >= 0.0 and values.max() < 1.0 and len(np.unique(values)) > 1000


@pytest.mark.parametrize("data, dimension, detail", [
    ([[1, 2], [3]], 1, "length 2 at dim 1 \\(got 1\\)"),
    ([[1, 2], 3], 1, "length 2 at dim 1 \\(got int\\)"),
    ([1, [2]], 1, "number at dim 1 \\(got list\\)"),
    ([[[1], [2]], [[3], [4, 5]]], 2, "length 1 at dim 2 \\(got 2\\)"),
    ([[], [1]], 1, "length 0 at dim 1 \\(got 1\\)"),
])
def test_ragged_data_names_the_dimension(data, dimension, detail):
    # PyTorch raises TypeError for some of these and accepts [[], [1]]; tapegrad calls all ValueError.
    with pytest.raises(ValueError, match=r"\[tensor\] ragged nested sequence: expected a .*" + detail):
        tg.tensor(data)


@pytest.mark.parametrize("data, message", [
    (["a"], r"\[tensor\] can't convert an element of type str"),
    ([None], r"\[tensor\] can't convert an element of type NoneType"),
    (object(), r"\[tensor\] can't make a tensor from an object of type object"),
    (np.array(["x"]), r"\[tensor\] can't convert a NumPy array of dtype <U1"),
    (np.array([1 + 2j]), r"\[tensor\] can't convert a NumPy array of dtype complex128"),
    (np.array([1], dtype=np.uint64), r"\[tensor\] can't convert a NumPy array of dtype uint64"),
])
def test_unconvertible_data(data, message):
    with pytest.raises(TypeError, match=message):
        tg.tensor(data)


def test_only_one_element_tensors_can_be_elements():
    with pytest.raises(ValueError, match=r"\[tensor\] only one-element tensors .* shape \(2,\)"):
        tg.tensor([tg.ones(2)])
    with pytest.raises(ValueError, match=r"only one element tensors"):
        torch.tensor([torch.ones(2)])


# tapegrad has no int8/uint8/int16/uint16/float16: tensor() widens them to a dtype holding every value.
@pytest.mark.parametrize("numpy_dtype, expected", [
    (np.int8, tg.int32), (np.uint8, tg.int32), (np.int16, tg.int32), (np.uint16, tg.int32), (np.uint32, tg.int64),
    (np.float16, tg.float32), (np.float32, tg.float32), (np.float64, tg.float64), (np.int32, tg.int32),
    (np.int64, tg.int64), (np.bool_, tg.bool), (np.dtype(">f8"), tg.float64),
])
def test_tensor_widens_numpy_dtypes_it_lacks(numpy_dtype, expected):
    array = np.array([0, 1, 100], dtype=numpy_dtype)
    result = tg.tensor(array)
    assert result.dtype == expected
    assert result.tolist() == array.tolist()
    assert tg.tensor(array[0]).dtype == expected and tg.tensor(array[0]).dim() == 0


def test_tensor_copies_its_data():
    array = np.arange(4.0)
    from_array = tg.tensor(array)
    array[0] = 100.0
    assert from_array.tolist() == [0.0, 1.0, 2.0, 3.0]
    source = tg.arange(3.0, requires_grad=True)
    copy = tg.tensor(source)
    assert copy.data_ptr() != source.data_ptr() and not copy.requires_grad and copy.grad_fn is None
    assert copy.tolist() == [0.0, 1.0, 2.0]


def test_tensor_options():
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf and leaf.grad_fn is None
    assert tg.tensor([1, 2], dtype=tg.float64, device="cpu").dtype == tg.float64
    tg.set_default_dtype(tg.float64)
    try:
        assert tg.tensor([1.5]).dtype == tg.float64 and tg.tensor([1]).dtype == tg.int64
        assert tg.arange(0.0, 1.0, 0.5).dtype == tg.float64 and tg.zeros(1).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)


def test_zero_dim_arrays_inside_lists_count_as_numpy_scalars():
    # PyTorch raises "len() of unsized object" here; tapegrad reads them as it reads np.float64(1.0).
    assert tg.tensor([np.array(1.0), 2.0]).dtype == tg.float64
    assert tg.tensor([np.array(1, dtype=np.int32), 2]).tolist() == [1, 2]


def test_tensor_from_other_array_likes():
    assert tg.tensor(torch.arange(3)).tolist() == [0, 1, 2]
    assert tg.tensor(memoryview(np.arange(3.0))).tolist() == [0.0, 1.0, 2.0]
    assert tg.tensor(range(4)).tolist() == [0, 1, 2, 3]


def test_as_tensor_shares_when_it_can():
    array = np.arange(3.0)
    shared = tg.as_tensor(array)
    array[0] = 7.0
    assert shared.tolist() == [7.0, 1.0, 2.0]
    converted = tg.as_tensor(array, dtype=tg.float32)
    array[1] = 9.0
    assert converted.tolist() == [7.0, 1.0, 2.0]
    existing = tg.ones(2)
    assert tg.as_tensor(existing) is existing
    assert tg.as_tensor(np.arange(5.0)[::-1]).tolist() == [4.0, 3.0, 2.0, 1.0, 0.0]


def test_creation_functions_take_requires_grad():
    for tensor in (tg.zeros(2, requires_grad=True), tg.ones(2, requires_grad=True), tg.rand(2, requires_grad=True),
                   tg.full((2,), 1.0, requires_grad=True), tg.arange(3.0, requires_grad=True),
                   tg.zeros_like(tg.ones(2), requires_grad=True)):
        assert tensor.requires_grad and tensor.is_leaf


# ---- random numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("draw", [
    lambda: tg.rand(5, 3), lambda: tg.randn(7), lambda: tg.randint(0, 100, (10,)), lambda: tg.randperm(20),
    lambda: tg.rand(4, dtype=tg.float64), lambda: tg.empty(3, 2).uniform_(-1, 1), lambda: tg.empty(6).normal_(2.0, 3.0),
])
def test_manual_seed_makes_streams_reproducible(draw):
    tg.manual_seed(1234)
    first = [draw().tolist() for _ in range(3)]
    tg.manual_seed(1234)
    assert [draw().tolist() for _ in range(3)] == first
    tg.manual_seed(4321)
    assert [draw().tolist() for _ in range(3)] != first
    assert tg.initial_seed() == 4321


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_rand_is_uniform_on_the_half_open_unit_interval(dtype):
    tg.manual_seed(0)
    values = tg.rand(200_000, dtype=dtype).numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.005 and abs(values.var() - 1 / 12) < 0.002
    assert np.histogram(values, bins=10, range=(0, 1))[0].min() > 19_000


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_randn_is_standard_normal(dtype):
    tg.manual_seed(0)
    values = tg.randn(200_000, dtype=dtype).numpy()
    assert values.dtype == {tg.float32: np.float32, tg.float64: np.float64}[dtype]
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1.0) < 0.01
    assert abs((np.abs(values) < 1.0).mean() - 0.6827) < 0.01
    assert np.isfinite(values).all()


@pytest.mark.parametrize("low, high, dtype", [(0, 10, None), (-5, -2, None), (3, 4, None), (0, 7, tg.int32),
                                              (-(2 ** 40), 2 ** 40, None), (0, 5, tg.float32)])
def test_randint_stays_in_range(low, high, dtype):
    tg.manual_seed(0)
    values = (tg.randint(low, high, (20_000,)) if dtype is None else tg.randint(low, high, (20_000,), dtype=dtype))
    assert values.dtype == (dtype or tg.int64) and values.shape == (20_000,)
    array = values.numpy()
    assert array.min() >= low and array.max() < high
    if high - low <= 10:
        assert set(np.unique(array).tolist()) == set(range(low, high))


def test_randint_argument_forms():
    assert tg.randint(5, (3, 2)).shape == (3, 2)
    assert tg.randint(5, size=(4,)).shape == (4,)
    assert tg.randint(2, 5, size=(4,)).numpy().min() >= 2
    assert tg.randint(low=1, high=3, size=(2,)).shape == (2,)


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_randperm_is_a_permutation(n):
    permutation = tg.randperm(n)
    assert permutation.dtype == tg.int64 and sorted(permutation.tolist()) == list(range(n))


def test_randperm_shuffles():
    tg.manual_seed(0)
    assert tg.randperm(50).tolist() != list(range(50))
    assert sorted(tg.randperm(5, dtype=tg.float64).tolist()) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_random_fills_write_through_views():
    base = tg.zeros(4, 6)
    view = base.t()
    view.uniform_(2.0, 3.0)
    values = base.numpy()
    assert values.min() >= 2.0 and values.max() < 3.0


def test_deeply_nested_data_is_refused_without_crashing():
    data = [1.0]
    for _ in range(100000):
        data = [data]
    with pytest.raises(ValueError, match=r"\[tensor\] too many dimensions: lists nested deeper than 64 levels"):
        tg.tensor(data)
    with pytest.raises(ValueError, match="too many dimensions"):
        torch.tensor(data)
    looped = []
    looped.append(looped)
    with pytest.raises(ValueError, match=r"\[tensor\] too many dimensions"):
        tg.tensor(looped)
    data = 2.5
    for _ in range(64):
        data = (data,)
    assert tg.tensor(data).shape == (1,) * 64 and tg.tensor(data).item() == 2.5
