"""The compatibility names course code still uses, against PyTorch: autograd.Variable, the legacy
constructors Tensor(data) / Tensor(*sizes) and FloatTensor & co. (with isinstance by dtype),
Tensor.type(), set_printoptions, a range or any sequence as an index, storage(), tg.multiprocessing
with shared memory, tg.accelerator and grad_fn's repr."""
import collections
import math
import re

import numpy as np
import pytest
import torch

import tapegrad as tg


def same_values(ours, theirs):
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# ---- Variable ----------------------------------------------------------------------------------

def test_variable_returns_a_tensor_as_torch():
    for lib in (tg, torch):
        data = lib.ones(3)
        variable = lib.autograd.Variable(data, requires_grad=True)
        assert type(variable) is lib.Tensor and variable is not data
        assert variable.requires_grad and variable.is_leaf and not data.requires_grad
        assert variable.data_ptr() == data.data_ptr()  # shares the memory
        assert variable.data.data_ptr() == data.data_ptr() and not variable.data.requires_grad
        assert not lib.autograd.Variable(data).requires_grad
        assert isinstance(data, lib.autograd.Variable) and isinstance(variable, lib.autograd.Variable)
        # A non-leaf becomes a new leaf without the history.
        made = lib.ones(2, requires_grad=True) * 2
        assert lib.autograd.Variable(made).grad_fn is None
        assert tuple(lib.autograd.Variable().shape) == (0,)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            lib.autograd.Variable([1.0, 2.0])
    with pytest.warns(UserWarning, match="volatile"):
        tg.autograd.Variable(tg.ones(1), volatile=True)


def test_lecture_style_training_with_variable():
    """PyTorchZeroToAll's lectures: Variable-wrapped legacy tensors, a linear model, SGD."""
    def run(lib):
        from_autograd = lib.autograd.Variable
        x_data = from_autograd(lib.Tensor([[1.0], [2.0], [3.0]]))
        y_data = from_autograd(lib.Tensor([[2.0], [4.0], [6.0]]))
        model = lib.nn.Linear(1, 1)
        with lib.no_grad():
            model.weight.fill_(0.3)
            model.bias.fill_(-0.1)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
        for _ in range(20):
            loss = lib.nn.MSELoss(reduction="sum")(model(x_data), y_data)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return model(from_autograd(lib.Tensor([[4.0]]))).data, loss.data
    for ours, theirs in zip(run(tg), run(torch)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


# ---- legacy constructors -----------------------------------------------------------------------

CONSTRUCTIONS = [
    lambda lib: lib.Tensor([-4.0]),
    lambda lib: lib.Tensor([1, 2]),
    lambda lib: lib.Tensor([[1.0, 2.0], [3.0, 4.0]]),
    lambda lib: lib.Tensor((2, 3)),  # a tuple is data, not sizes
    lambda lib: lib.Tensor([]),
    lambda lib: lib.Tensor(),
    lambda lib: lib.Tensor(np.array([1, 2], dtype=np.int64)),
    lambda lib: lib.FloatTensor([1, 2]),
    lambda lib: lib.DoubleTensor([[1.5], [2.5]]),
    lambda lib: lib.LongTensor([1.7, -2.7, 3.0]),
    lambda lib: lib.LongTensor([[0, 1], [2, 3]]),
    lambda lib: lib.IntTensor([1, 2]),
    lambda lib: lib.BoolTensor([1, 0, 1]),
    lambda lib: lib.LongTensor(np.array([4, 5])),
    lambda lib: lib.FloatTensor(),
]


@pytest.mark.parametrize("make", CONSTRUCTIONS)
def test_legacy_construction_from_data_as_torch(make):
    same_values(make(tg), make(torch))


@pytest.mark.parametrize("make", [
    lambda lib: lib.Tensor(2, 3), lambda lib: lib.Tensor(4), lambda lib: lib.Tensor(lib.Size([2, 0, 3])),
    lambda lib: lib.FloatTensor(3, 2), lambda lib: lib.DoubleTensor(2), lambda lib: lib.LongTensor(2, 2),
    lambda lib: lib.IntTensor(lib.Size([3])), lambda lib: lib.BoolTensor(5),
])
def test_legacy_construction_from_sizes_as_torch(make):
    ours, theirs = make(tg), make(torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert not ours.requires_grad and ours.is_leaf


def test_legacy_tensor_follows_the_default_dtype():
    for lib in (tg, torch):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            assert lib.Tensor([1.0]).dtype == lib.float64 and lib.Tensor(2).dtype == lib.float64
            assert lib.FloatTensor([1.0]).dtype == lib.float32
        finally:
            lib.set_default_dtype(previous)


def test_legacy_construction_aliases_a_tensor_of_its_dtype():
    for lib in (tg, torch):
        data = lib.ones(3)
        for alias in (lib.Tensor(data), lib.FloatTensor(data)):
            assert alias.data_ptr() == data.data_ptr() and alias is not data
        with pytest.raises(TypeError):
            lib.FloatTensor(lib.ones(2, dtype=lib.float64))
        # Parameter(data) aliases as before.
        assert lib.nn.Parameter(data).data_ptr() == data.data_ptr()


@pytest.mark.parametrize("make", [
    lambda lib: lib.Tensor(2.5), lambda lib: lib.Tensor(2, "a"), lambda lib: lib.LongTensor(1.5),
    lambda lib: lib.FloatTensor([1.0], [2.0]), lambda lib: lib.Tensor(2, 3.0),
])
def test_legacy_construction_errors_as_torch(make):
    for lib in (tg, torch):
        with pytest.raises(TypeError):
            make(lib)


def test_micrograd_sanity_check():
    """micrograd's test_engine.py against its torch reference, written with the legacy constructor."""
    def run(lib):
        x = lib.Tensor([-4.0]).double()
        x.requires_grad = True
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y = h + q + q * x
        y.backward()
        return y.data.item(), x.grad.item()
    assert run(tg) == run(torch)


TYPES = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"]
DTYPES = ["float32", "float64", "int64", "int32", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_isinstance_by_dtype_as_torch(dtype):
    ours, theirs = tg.zeros(2, dtype=getattr(tg, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    for name in TYPES:
        assert isinstance(ours, getattr(tg, name)) == isinstance(theirs, getattr(torch, name)), name
    assert isinstance(ours, tg.Tensor)
    assert not isinstance(ours.numpy(), tg.FloatTensor) and not isinstance(1.0, tg.FloatTensor)


@pytest.mark.parametrize("dtype", DTYPES)
def test_type_names_and_conversions_as_torch(dtype):
    ours, theirs = tg.ones(2, dtype=getattr(tg, dtype)), torch.ones(2, dtype=getattr(torch, dtype))
    assert ours.type().replace("tapegrad", "torch") == theirs.type()
    for name in TYPES:
        same_values(ours.type(f"torch.{name}"), theirs.type(f"torch.{name}"))
        same_values(ours.type(f"tapegrad.{name}"), theirs.type(f"torch.{name}"))
        same_values(ours.type(getattr(tg, name)), theirs.type(getattr(torch, name)))
    for target in DTYPES:
        same_values(ours.type(getattr(tg, target)), theirs.type(getattr(torch, target)))
    assert ours.type(ours.dtype) is ours and theirs.type(theirs.dtype) is theirs
    with pytest.raises(TypeError, match=r"\[type\]"):
        ours.type("torch.HalfTensor")


def test_typed_constructor_classes():
    assert repr(tg.FloatTensor) == "<class 'tapegrad.FloatTensor'>"
    assert tg.LongTensor.dtype == tg.int64
    for name in TYPES:
        assert getattr(tg, name).__doc__


# ---- set_printoptions --------------------------------------------------------------------------

@pytest.fixture
def default_printoptions():
    yield
    tg.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def printed(lib, make):
    return repr(make(lib)).replace("torch", "tapegrad")


PRINTED = [
    lambda lib: lib.tensor([1.123456789, -2.5, 3.0]),
    lambda lib: lib.tensor([1.0, 2.0, 3.0]),
    lambda lib: lib.tensor([1e-5, 1.0, 123456.0]),
    lambda lib: lib.arange(30),
    lambda lib: lib.arange(2000.0).reshape(40, 50) / 7,
    # Default dtypes only: "dtype=tapegrad.float64" is longer than torch's suffix, so lines wrap apart.
    lambda lib: lib.arange(25.0) / 24,
    lambda lib: lib.tensor([[0.1234, 5.0], [6.0, 7.5]], requires_grad=True),
]
OPTIONS = [
    dict(precision=2), dict(precision=8), dict(threshold=10), dict(edgeitems=1, threshold=5), dict(linewidth=40),
    dict(sci_mode=True), dict(sci_mode=False), dict(profile="short"), dict(profile="full"),
    dict(profile="short", precision=6), dict(precision=3, sci_mode=True, linewidth=50),
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_set_printoptions_prints_as_torch(options, default_printoptions):
    tg.set_printoptions(**options)
    torch.set_printoptions(**options)
    for make in PRINTED:
        assert printed(tg, make) == printed(torch, make)


def test_set_printoptions_keeps_unnamed_options_and_resets(default_printoptions):
    for lib in (tg, torch):
        lib.set_printoptions(precision=2)
        lib.set_printoptions(threshold=5)  # precision stays 2
    assert printed(tg, PRINTED[3]) == printed(torch, PRINTED[3])
    assert printed(tg, PRINTED[0]) == printed(torch, PRINTED[0])
    for lib in (tg, torch):
        lib.set_printoptions(profile="default")
    assert repr(tg.tensor([1.123456])) == "tensor([1.1235])"
    with pytest.raises(ValueError, match=r"\[set_printoptions\] profile"):
        tg.set_printoptions(profile="long")


# ---- indexing with a range or any sequence -----------------------------------------------------

INDEXES = [
    lambda lib, x: x[range(4), lib.tensor([0, 2, 1, 2])],
    lambda lib, x: x[range(4), [0, 2, 1, 2]],
    lambda lib, x: x[range(1, 3)],
    lambda lib, x: x[range(0, 4, 2), 1:],
    lambda lib, x: x[:, range(2)],
    lambda lib, x: x[collections.deque([3, 0])],
    lambda lib, x: x[range(0)],
    lambda lib, x: x[(range(2), range(1, 3))],
]


@pytest.mark.parametrize("index", INDEXES)
def test_sequence_and_range_indices_as_torch(index):
    array = np.arange(12.0).reshape(4, 3)
    ours, theirs = tg.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    our_result, their_result = index(tg, ours), index(torch, theirs)
    same_values(our_result, their_result)
    if our_result.numel():
        our_result.sum().backward()
        their_result.sum().backward()
        same_values(ours.grad, theirs.grad)


def test_cross_entropy_by_hand_with_a_range_index():
    """fast.ai's nll: -input[range(target.shape[0]), target].mean()."""
    logits = np.random.default_rng(0).normal(size=(5, 4))
    target = np.array([0, 3, 1, 1, 2])
    for lib in (tg, torch):
        x = lib.tensor(logits).log_softmax(-1)
        manual = -x[range(target.shape[0]), lib.tensor(target)].mean()
        np.testing.assert_allclose(manual.item(), torch.nn.functional.cross_entropy(torch.tensor(logits),
                                                                                   torch.tensor(target)).item())


def test_strings_are_not_indices():
    with pytest.raises(IndexError, match=r"\[index\] only integers"):
        tg.ones(3)["a"]


# ---- storage -----------------------------------------------------------------------------------

def test_storage_minimal_forms_as_torch():
    ours, theirs = tg.arange(6.0).reshape(2, 3)[:, 1], torch.arange(6.0).reshape(2, 3)[:, 1]
    with pytest.warns(UserWarning):
        their_storage = theirs.storage()  # deprecated there, as TypedStorage
    our_storage = ours.storage()
    assert len(our_storage) == len(their_storage) == our_storage.size() == 6
    assert our_storage.tolist() == their_storage.tolist() and our_storage[2] == their_storage[2]
    assert list(our_storage) == list(their_storage)
    assert our_storage.dtype == tg.float32 and our_storage.element_size() == 4
    assert our_storage.data_ptr() == ours.data_ptr() - 4  # the view starts one element in
    untyped = ours.untyped_storage()
    assert untyped.nbytes() == len(untyped) == theirs.untyped_storage().nbytes() == 24
    assert untyped.data_ptr() == our_storage.data_ptr()
    assert our_storage.untyped().nbytes() == 24
    assert untyped.tolist()[:4] == list(theirs.untyped_storage().tolist()[:4])
    assert "TypedStorage" in repr(our_storage) and "24 bytes" in repr(untyped)


# ---- multiprocessing ---------------------------------------------------------------------------

def _send_back_doubled(inbox, outbox):
    tensor = inbox.get()
    outbox.put(tensor * 2)  # a new tensor: sent as a copy
    outbox.put(tensor.is_shared())
    tensor.mul_(-1)
    outbox.put(tensor)  # the shared one goes back by reference


def _write_in_place(shared, done):
    shared.add_(1)
    shared[0] = 42.0
    done.put(True)


def test_tensors_cross_a_queue_and_arrive_equal():
    import tapegrad.multiprocessing as mp
    assert mp.Queue is not None and mp.Process is not None and mp.cpu_count() >= 1
    inbox, outbox = mp.Queue(), mp.Queue()
    worker = mp.Process(target=_send_back_doubled, args=(inbox, outbox))
    worker.start()
    sent = tg.arange(12, dtype=tg.float64).reshape(3, 4).t()  # a transposed view
    inbox.put(sent)
    received = outbox.get(timeout=60)
    arrived_shared = outbox.get(timeout=60)
    returned = outbox.get(timeout=60)
    worker.join(timeout=60)
    assert worker.exitcode == 0
    expected = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()
    same_values(received, expected * 2)
    assert not received.is_shared()
    assert arrived_shared and sent.is_shared()  # sending moved it into shared memory, as torch does
    same_values(sent, -expected)  # the worker's in-place write is seen here
    assert returned.data_ptr() != sent.data_ptr() and returned.is_shared()
    same_values(returned, -expected)


def test_share_memory_makes_writes_visible_across_processes():
    import tapegrad.multiprocessing as mp
    shared = tg.zeros(2, 3).share_memory_()
    assert shared.is_shared() and shared.share_memory_() is shared
    done = mp.Queue()
    worker = mp.Process(target=_write_in_place, args=(shared[1], done))
    worker.start()
    assert done.get(timeout=60)
    worker.join(timeout=60)
    assert worker.exitcode == 0
    assert shared.tolist() == [[0.0, 0.0, 0.0], [42.0, 1.0, 1.0]]


def test_share_memory_keeps_values_and_grad_state():
    x = tg.arange(6.0).reshape(2, 3).t().requires_grad_()
    before = x.detach().clone()
    assert not x.is_shared()
    assert x.share_memory_() is x and x.is_shared()
    same_values(x, torch.arange(6.0).reshape(2, 3).t())
    assert x.requires_grad and x.is_leaf and x.stride() == before.stride()
    assert tg.zeros(0).share_memory_().numel() == 0


# ---- accelerator, grad_fn ------------------------------------------------------------------------

def test_accelerator_as_torch_without_one():
    assert tg.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is None
    assert tg.accelerator.device_count() == 0
    device = tg.accelerator.current_accelerator() if tg.accelerator.is_available() else tg.device("cpu")
    assert str(device) == "cpu"


def test_grad_fn_repr_prints_its_address_in_hex():
    for lib in (tg, torch):
        node = (lib.ones(2, requires_grad=True) * 2).grad_fn
        match = re.fullmatch(r"<MulBackward0 object at (0x[0-9a-f]+)>", repr(node))
        assert match, repr(node)
        assert int(match.group(1), 16) != 0


def test_math_of_legacy_tensors():
    # A FloatTensor computes as any float32 tensor.
    ours, theirs = tg.FloatTensor([1.0, 4.0]).sqrt() + math.pi, torch.FloatTensor([1.0, 4.0]).sqrt() + math.pi
    same_values(ours, theirs)
