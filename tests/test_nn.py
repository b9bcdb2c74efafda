"""tapegrad.nn against torch.nn: modules with identical weights, the fused losses, init, state."""
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
import tapegrad.nn.init as init
from helpers import assert_close, check_op, gradcheck_op

RNG = np.random.default_rng(0)
REDUCTIONS = ("mean", "sum", "none")


def copy_weights(ours, theirs):
    """Gives our module the parameters of the torch module, by the same dotted names."""
    with torch.no_grad():
        state = OrderedDict((k, tg.tensor(v.numpy())) for k, v in theirs.state_dict().items())
    ours.load_state_dict(state)


def run_both(ours, theirs, *arrays):
    """Forward both modules on the same float64 data, backward a weighted sum; returns the inputs."""
    tg_inputs = [tg.tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    tg_out, torch_out = ours(*tg_inputs), theirs(*torch_inputs)
    assert_close(tg_out, torch_out, 1e-10, 1e-8, "output")
    upstream = RNG.uniform(-1, 1, size=tuple(torch_out.shape))
    (tg_out * tg.tensor(upstream)).sum().backward()
    (torch_out * torch.tensor(upstream)).sum().backward()
    for index, (a, b) in enumerate(zip(tg_inputs, torch_inputs)):
        assert_close(a.grad, b.grad, 1e-10, 1e-8, f"gradient of input {index}")
    return tg_inputs, torch_inputs


# ---- fused losses against torch over dtypes and layouts --------------------------------------

TARGETS = np.array([3, 0, 4, 1, 2, 4])
WEIGHT = np.array([0.5, 2.0, 1.0, 0.1, 3.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 4])
def test_cross_entropy(reduction, label_smoothing, weighted, ignore_index):
    def fn(lib, x):
        weight = lib.tensor(WEIGHT, dtype=x.dtype) if weighted else None
        return lib.nn.functional.cross_entropy(x, lib.tensor(TARGETS), weight=weight, ignore_index=ignore_index,
                                               reduction=reduction, label_smoothing=label_smoothing)
    check_op(fn, (6, 5))


def test_cross_entropy_shapes():
    check_op(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(2)), (5,))  # unbatched
    spatial = RNG.integers(0, 3, size=(2, 4, 5))
    for reduction in REDUCTIONS:
        check_op(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(spatial), reduction=reduction,
                                                                label_smoothing=0.1), (2, 3, 4, 5))
    check_op(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(np.zeros(0, np.int64)), reduction="sum"), (0, 3))
    # Large logits stay finite (the max is subtracted before exp).
    check_op(lambda lib, x: lib.nn.functional.cross_entropy(x * 1000, lib.tensor(TARGETS)), (6, 5))


def test_cross_entropy_probability_targets():
    probabilities = RNG.dirichlet(np.ones(5), size=6)
    for reduction in REDUCTIONS:
        for smoothing in (0.0, 0.2):
            check_op(lambda lib, x, y: lib.nn.functional.cross_entropy(x, y, weight=lib.tensor(WEIGHT, dtype=x.dtype),
                                                                       reduction=reduction, label_smoothing=smoothing),
                     inputs=[RNG.normal(size=(6, 5)), probabilities])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("input_dtype,target_dtype", [("float32", "float64"), ("float64", "float32")])
def test_cross_entropy_probability_targets_promote(reduction, input_dtype, target_dtype):
    # The probabilities take part in type promotion: float32 logits with float64 targets give a
    # float64 loss, as in torch, and each input's gradient keeps its own dtype.
    logits, probabilities = RNG.normal(size=(6, 5)), RNG.dirichlet(np.ones(5), size=6)
    results = {}
    for lib in (tg, torch):
        x = lib.tensor(logits, dtype=getattr(lib, input_dtype), requires_grad=True)
        y = lib.tensor(probabilities, dtype=getattr(lib, target_dtype), requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, y, weight=lib.tensor(WEIGHT, dtype=getattr(lib, input_dtype)),
                                               reduction=reduction, label_smoothing=0.1)
        loss.backward(lib.ones_like(loss))
        results[lib] = (loss, x.grad, y.grad)
    for ours, theirs in zip(results[tg], results[torch]):
        assert_close(ours, theirs, atol=1e-6, rtol=1e-5)


def test_cross_entropy_all_ignored_mean_is_nan():
    loss = F.cross_entropy(tg.zeros(2, 3), tg.tensor([-100, -100]))
    assert np.isnan(loss.item())
    assert torch.isnan(torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100])))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    def fn(lib, x):
        weight = lib.tensor(WEIGHT, dtype=x.dtype) if weighted else None
        return lib.nn.functional.nll_loss(x, lib.tensor(TARGETS), weight=weight, ignore_index=1, reduction=reduction)
    check_op(fn, (6, 5))
    spatial = RNG.integers(0, 5, size=(2, 3))
    check_op(lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor(spatial), reduction=reduction), (2, 5, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    for name in ("mse_loss", "l1_loss"):
        check_op(lambda lib, x, y: getattr(lib.nn.functional, name)(x, y, reduction=reduction), (4, 3), (4, 3))
        check_op(lambda lib, x, y: getattr(lib.nn.functional, name)(x, y, reduction=reduction), (1,), (1,))
        check_op(lambda lib, x, y: getattr(lib.nn.functional, name)(x, y, reduction=reduction), (0, 3), (0, 3))
        # A target equal to the input: l1's gradient there is sign(0) = 0.
        check_op(lambda lib, x: getattr(lib.nn.functional, name)(x, x.detach(), reduction=reduction), (3, 2))


def test_mse_broadcasts_like_torch():
    with pytest.warns(UserWarning):  # torch warns about the broadcast; tapegrad follows it silently
        check_op(lambda lib, x, y: lib.nn.functional.mse_loss(x, y), (4, 3), (3,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    check_op(lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y, reduction=reduction), (4, 3), (4, 3),
             low=0.05, high=0.95)
    weight = RNG.uniform(0.5, 2, size=(3,))
    check_op(lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y, weight=lib.tensor(weight, dtype=x.dtype),
                                                                      reduction=reduction), (4, 3), (4, 3),
             low=0.05, high=0.95)
    # Probabilities of exactly 0 and 1: the logs clamp at -100 as in PyTorch.
    check_op(lambda lib, x: lib.nn.functional.binary_cross_entropy(x, lib.tensor([[1.0, 0.0, 0.5]], dtype=x.dtype),
                                                                   reduction=reduction),
             inputs=[np.array([[0.0, 1.0, 1.0]])], grad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    targets = RNG.uniform(0, 1, size=(4, 3))
    for pos in (None, RNG.uniform(0.5, 3, size=(3,))):
        for weight in (None, RNG.uniform(0.5, 2, size=(4, 1))):
            def fn(lib, x, y):
                extra = lambda a: None if a is None else lib.tensor(a, dtype=x.dtype)
                return lib.nn.functional.binary_cross_entropy_with_logits(x, y, weight=extra(weight),
                                                                          pos_weight=extra(pos), reduction=reduction)
            check_op(fn, inputs=[RNG.normal(scale=3, size=(4, 3)), targets])
    # Extreme logits stay finite.
    check_op(lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(x * 100, x.detach() * 0 + 1), (5,))


def test_losses_gradcheck():
    gradcheck_op(lambda lib, x: F.cross_entropy(x, tg.tensor([1, 0, 2]), weight=tg.tensor([1.0, 2.0, 0.5],
                                                                                        dtype=tg.float64),
                                                label_smoothing=0.3), (3, 3))
    gradcheck_op(lambda lib, x, y: F.mse_loss(x, y), (3, 2), (3, 2))
    gradcheck_op(lambda lib, x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=tg.tensor([2.0, 0.5],
                                                                                              dtype=tg.float64)),
                 (3, 2), (3, 2))
    gradcheck_op(lambda lib, x, y: F.binary_cross_entropy(x, y), (3, 2), (3, 2), low=0.1, high=0.9)


def test_loss_errors():
    logits = tg.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 4 is out of bounds for 4 classes"):
        F.cross_entropy(logits, tg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match=r"\[nll_loss\] target -1 is out of bounds for 4 classes"):
        F.nll_loss(logits, tg.tensor([0, -1, 1]))
    with pytest.raises(RuntimeError, match=r"\[cross_entropy\] input of shape \(3, 4\) needs a target of shape \(3,\)"
                                           r", got \(2,\)"):
        F.cross_entropy(logits, tg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"\[cross_entropy\] weight should be a 1-D tensor"):
        F.cross_entropy(logits, tg.tensor([0, 1, 2]), weight=tg.ones(3))
    with pytest.raises(RuntimeError, match=r"\[cross_entropy\] label_smoothing must be between"):
        F.cross_entropy(logits, tg.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(TypeError, match=r"\[cross_entropy\] expects class-index targets"):
        F.cross_entropy(logits, tg.tensor([True, False, True]))
    with pytest.raises(RuntimeError, match=r"\[binary_cross_entropy\] all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), tg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy\] target size \(3,\) must be the same as input size \(2,\)"):
        F.binary_cross_entropy(tg.tensor([0.5, 0.5]), tg.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[mse_loss\] 'average' is not a valid value for reduction"):
        F.mse_loss(tg.zeros(2), tg.zeros(2), reduction="average")
    with pytest.raises(RuntimeError, match=r"\[mse_loss\]"):
        F.mse_loss(tg.zeros(2), tg.zeros(3))
    with pytest.raises(TypeError, match=r"\[mse_loss\] expects a floating-point input"):
        F.mse_loss(tg.tensor([1, 2]), tg.tensor([1, 2]))


def test_double_backward_is_refused_by_name():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([1]))
    with pytest.raises(NotImplementedError, match=r"\[NllLossBackward0\] double backward"):
        tg.autograd.grad(loss, [x], create_graph=True)
    loss = F.cross_entropy(x, tg.tensor([1]), label_smoothing=0.1)
    with pytest.raises(NotImplementedError, match=r"\[CrossEntropyLossBackward0\] double backward"):
        tg.autograd.grad(loss, [x], create_graph=True)
    loss = F.mse_loss(x, tg.zeros(1, 2))
    (grad,) = tg.autograd.grad(loss, [x])  # first order is fine
    assert_close(grad, np.array([[1.0, 2.0]], np.float32), 1e-6, 1e-6)


def test_saved_input_modified_in_place_is_detected():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 1
    # The fused node saves the logits (without label smoothing the graph is PyTorch's log_softmax
    # and nll_loss, which save log_softmax's output instead, so there a change to y goes unseen).
    loss = F.cross_entropy(y, tg.tensor([0]), label_smoothing=0.1)
    with tg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="version"):
        loss.backward()


# ---- loss modules ----------------------------------------------------------------------------

def test_loss_modules_match_torch():
    x, y = RNG.normal(size=(6, 5)), RNG.uniform(0, 1, size=(6, 5))
    weight = RNG.uniform(0.5, 2, size=(5,))
    cases = [
        (nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), y),
        (nn.L1Loss(), torch.nn.L1Loss(), y),
        (nn.BCEWithLogitsLoss(pos_weight=tg.tensor(weight)), torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(weight)), y),
    ]
    for ours, theirs, target in cases:
        run_both(lambda a: ours(a, tg.tensor(target)), lambda a: theirs(a, torch.tensor(target)), x)
    sigmoid = 1 / (1 + np.exp(-x))
    run_both(lambda a: nn.BCELoss(weight=tg.tensor(weight))(a, tg.tensor(y)),
             lambda a: torch.nn.BCELoss(weight=torch.tensor(weight))(a, torch.tensor(y)), sigmoid)
    for reduction in REDUCTIONS:
        ours = nn.CrossEntropyLoss(weight=tg.tensor(weight), ignore_index=2, reduction=reduction, label_smoothing=0.1)
        theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight), ignore_index=2, reduction=reduction,
                                           label_smoothing=0.1)
        run_both(lambda a: ours(a, tg.tensor(TARGETS)), lambda a: theirs(a, torch.tensor(TARGETS)), x)
        ours, theirs = nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction)
        run_both(lambda a: ours(a, tg.tensor(TARGETS)), lambda a: theirs(a, torch.tensor(TARGETS)), x)
    assert list(nn.CrossEntropyLoss(weight=tg.ones(3)).state_dict()) == ["weight"]
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == torch.nn.MSELoss(size_average=False).reduction == "sum"


# ---- layers ----------------------------------------------------------------------------------

def test_linear_matches_torch():
    theirs = torch.nn.Linear(4, 3, dtype=torch.float64)
    ours = nn.Linear(4, 3, dtype=tg.float64)
    copy_weights(ours, theirs)
    run_both(ours, theirs, RNG.normal(size=(5, 4)))
    assert_close(ours.weight.grad, theirs.weight.grad, 1e-10, 1e-8, "weight grad")
    assert_close(ours.bias.grad, theirs.bias.grad, 1e-10, 1e-8, "bias grad")
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]


def test_mlp_matches_torch():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(12, 8), lib.nn.ReLU(), lib.nn.Linear(8, 8),
                                 lib.nn.Tanh(), lib.nn.Linear(8, 8), lib.nn.Sigmoid(), lib.nn.Linear(8, 4))
    theirs = build(torch).double()
    ours = build(tg).double()
    copy_weights(ours, theirs)
    run_both(ours, theirs, RNG.normal(size=(6, 3, 4)))
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(a.grad, b.grad, 1e-10, 1e-8, name)
    target = RNG.integers(0, 4, size=6)
    loss = F.cross_entropy(ours(tg.tensor(RNG.normal(size=(6, 3, 4)))), tg.tensor(target))
    assert loss.shape == ()


def test_linear_default_init_bounds():
    tg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / 400 ** 0.5
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert weight.shape == (300, 400) and bias.shape == (300,)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.99 * bound
    assert np.abs(bias).max() <= bound and np.abs(bias).max() > 0.98 * bound
    assert abs(weight.mean()) < 0.01 * bound * 10


@pytest.mark.parametrize("name", ["ReLU", "Sigmoid", "Tanh", "Identity"])
def test_activation_modules(name):
    check_op(lambda lib, x: getattr(lib.nn, name)()(x), (3, 4))


@pytest.mark.parametrize("name,function", [("Softmax", "softmax"), ("LogSoftmax", "log_softmax")])
def test_softmax_modules(name, function):
    check_op(lambda lib, x: getattr(lib.nn, name)(dim=1)(x), (3, 4))
    check_op(lambda lib, x: getattr(lib.nn.functional, function)(x, dim=-1), (2, 3, 4))
    check_op(lambda lib, x: getattr(lib.nn.functional, function)(x, dim=0, dtype=lib.float64), (3, 2), dtypes=(tg.float32,))


def test_flatten():
    check_op(lambda lib, x: lib.nn.Flatten()(x), (2, 3, 4), layouts=("contiguous",))
    check_op(lambda lib, x: lib.nn.Flatten(0, 1)(x), (2, 3, 4), layouts=("contiguous",))
    check_op(lambda lib, x: lib.nn.functional.flatten(x) if lib is tg else lib.flatten(x), (2, 3), layouts=("contiguous",))


def test_dropout():
    tg.manual_seed(1)
    x = tg.ones(200, 50, requires_grad=True)
    layer = nn.Dropout(0.3)
    out = layer(x)
    values = out.detach().numpy()
    kept = values != 0
    assert np.allclose(values[kept], 1 / 0.7)
    assert 0.27 < 1 - kept.mean() < 0.33
    out.sum().backward()
    assert np.array_equal(x.grad.numpy() != 0, kept)
    assert layer.eval()(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert not F.dropout(x, 1.0).detach().numpy().any()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_one_hot():
    labels = np.array([[0, 2], [1, 3]])
    ours, theirs = F.one_hot(tg.tensor(labels)), torch.nn.functional.one_hot(torch.tensor(labels))
    assert ours.dtype == tg.int64
    assert_close(ours, theirs, 0, 0)
    assert_close(F.one_hot(tg.tensor(labels), 6), torch.nn.functional.one_hot(torch.tensor(labels), 6), 0, 0)
    with pytest.raises(RuntimeError, match=r"\[one_hot\] class values must be smaller than num_classes \(3\)"):
        F.one_hot(tg.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match=r"\[one_hot\] class values must be non-negative"):
        F.one_hot(tg.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match=r"\[one_hot\] is only applicable to index tensors"):
        F.one_hot(tg.tensor([0.0]))


# ---- Module mechanics ------------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self, lib_nn):
        super().__init__()
        self.fc = lib_nn.Linear(3, 2)
        self.act = lib_nn.ReLU()
        self.register_buffer("running", tg.zeros(2) if lib_nn is nn else torch.zeros(2))
        self.register_buffer("scratch", tg.zeros(1) if lib_nn is nn else torch.zeros(1), persistent=False)


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.act = torch.nn.ReLU()
        self.register_buffer("running", torch.zeros(2))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)


def nested(lib):
    block = Block(nn) if lib is tg else TorchBlock()
    return lib.nn.Sequential(OrderedDict(first=block, drop=lib.nn.Dropout(0.1),
                                         stack=lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)]
                                                                 + [lib.nn.Softmax(dim=-1)]),
                                         last=lib.nn.Sequential(lib.nn.Linear(2, 5, bias=False), lib.nn.LogSoftmax(1))))


def test_repr_matches_torch():
    assert repr(nested(tg)).replace("Block", "TorchBlock") == repr(nested(torch))
    mlp = [nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)]
    torch_mlp = [torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)]
    assert repr(nn.Sequential(*mlp)) == repr(torch.nn.Sequential(*torch_mlp))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(nn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))


def test_named_parameters_buffers_and_state_dict_keys_match_torch():
    ours, theirs = nested(tg), nested(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [n for n, _ in ours.named_parameters(prefix="net", recurse=False)] == []
    assert [n for n, _ in ours.first.named_parameters(prefix="net")] == ["net.fc.weight", "net.fc.bias"]


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3
    tied = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    assert [n for n, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]


def test_sequential_container():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert isinstance(model[1:], nn.Sequential) and list(model[1:]) == layers[1:]
    assert list(model[1:]._modules) == ["1", "2"]
    model.append(nn.Sigmoid())
    assert len(model) == 4 and isinstance(model[3], nn.Sigmoid)
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[1] is layers[2]
    with pytest.raises(IndexError, match="index 7 is out of range"):
        model[7]
    stack = nn.ModuleList([nn.ReLU()])
    stack.append(nn.Tanh())
    stack.extend([nn.Sigmoid()])
    assert [type(m).__name__ for m in stack] == ["ReLU", "Tanh", "Sigmoid"] and len(stack[1:]) == 2


def test_attribute_registration():
    module = nn.Module()
    module.weight = nn.Parameter(tg.ones(2))
    module.child = nn.ReLU()
    module.plain = tg.ones(1)  # a plain tensor is just an attribute
    assert [n for n, _ in module.named_parameters()] == ["weight"]
    assert list(module._modules) == ["child"] and "plain" not in module.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        module.weight = tg.ones(2)
    module.weight = None
    assert module.weight is None and list(module.parameters()) == []
    del module.child
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'child'"):
        module.child
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.register_parameter("plain", nn.Parameter(tg.ones(1)))
    with pytest.raises(KeyError, match="buffer name can.{1,3}t contain"):
        module.register_buffer("a.b", tg.ones(1))

    class Early(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(tg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_parameter():
    data = tg.zeros(2, 3)
    param = nn.Parameter(data)
    assert isinstance(param, tg.Tensor) and isinstance(param, nn.Parameter)
    assert param.is_leaf and param.requires_grad and param.grad_fn is None
    data.fill_(2.0)
    assert param.detach().numpy().sum() == 12  # shares data
    assert repr(param).startswith("Parameter containing:\ntensor([[2., 2., 2.],")
    assert not nn.Parameter(tg.ones(1), requires_grad=False).requires_grad
    assert type(param.requires_grad_()) is nn.Parameter
    assert tuple(nn.Parameter().shape) == (0,)
    with pytest.raises(TypeError, match=r"\[Parameter\] expected a tensor"):
        nn.Parameter([1.0])


def test_deepcopy_and_pickle_copy_parameters():
    import copy
    import pickle
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model[2].weight.requires_grad_(False)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert repr(clone) == repr(model)
        for (name, ours), (_, theirs) in zip(clone.named_parameters(), model.named_parameters()):
            assert isinstance(ours, nn.Parameter) and ours is not theirs, name
            assert ours.requires_grad == theirs.requires_grad and ours.dtype == theirs.dtype, name
            assert np.array_equal(ours.detach().numpy(), theirs.detach().numpy()), name
        clone[0].weight.data.fill_(5.0)
        assert not (model[0].weight.detach().numpy() == 5.0).any()


def test_state_dict_round_trip():
    source, target = nested(tg), nested(tg)
    source.first.running.fill_(3.0)
    state = source.state_dict()
    assert "first.scratch" not in state and not any(v.requires_grad for v in state.values())
    weight = target.first.fc.weight
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.first.fc.weight is weight
    for key, value in target.state_dict().items():
        assert np.array_equal(value.numpy(), state[key].numpy()), key
    # The state dict holds detached aliases: loading copies, it does not share.
    state["first.fc.bias"].fill_(7.0)
    assert not np.any(target.first.fc.bias.detach().numpy() == 7.0)


def test_load_state_dict_errors():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    state = model.state_dict()
    del state["2.bias"]
    state["extra.weight"] = tg.zeros(1)
    with pytest.raises(RuntimeError, match=r'(?s)Error\(s\) in loading state_dict for Sequential.*Missing key\(s\) in '
                                           r'state_dict: "2.bias".*Unexpected key\(s\) in state_dict: "extra.weight"'):
        model.load_state_dict(state)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra.weight"]
    assert result == (["2.bias"], ["extra.weight"])
    bad = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(3, 1)).state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape "
                                           r"tapegrad.Size\(\[4, 2\]\) from checkpoint, the shape in current model is "
                                           r"tapegrad.Size\(\[3, 2\]\)"):
        model.load_state_dict(bad, strict=False)


def test_to_dtype_keeps_parameter_identity():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    weight = model[0].weight
    weight.grad = tg.ones(3, 2)
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == tg.float64 and weight.grad.dtype == tg.float64
    assert isinstance(weight, nn.Parameter) and weight.requires_grad and weight.is_leaf
    model.to(tg.float32)
    assert weight.dtype == tg.float32
    model.to(dtype=tg.float64)
    assert all(p.dtype == tg.float64 for p in model.parameters())
    model.float()
    assert all(p.dtype == tg.float32 for p in model.parameters())
    with pytest.raises(TypeError, match="floating point dtypes"):
        model.to(tg.int64)


def test_train_eval_zero_grad_apply_requires_grad():
    model = nested(tg)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    for p in model.parameters():
        p.grad = tg.ones(*p.shape)
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Sequential" and visited.count("Linear") == 5
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_forward_hooks():
    layer = nn.Identity()
    seen = []
    handle = layer.register_forward_hook(lambda module, args, output: seen.append(output))
    layer.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    out = layer(tg.ones(1))
    assert out.item() == 2 and seen[0] is out
    handle.remove()
    layer(tg.ones(1))
    assert len(seen) == 1


# ---- softmax without dim, module lookups and conversions, containers ------------------------

@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_warns_and_picks_torchs_dim(function, shape):
    def run(lib, x):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {function} has been deprecated"):
            return getattr(lib.nn.functional, function)(x)
    check_op(run, shape, dtypes=(tg.float64,), layouts=("contiguous",))


def test_softmax_module_without_dim_warns_at_the_callers_line():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax") as record:
        nn.Softmax()(tg.ones(2, 3))
    assert record[0].filename == __file__


def test_get_submodule_parameter_and_buffer_match_torch():
    def lookups(lib):
        model = nested(lib)
        names = [type(model.get_submodule(target)).__name__ for target in ("", "stack", "stack.1", "first.fc")]
        return [name.replace("TorchBlock", "Block") for name in names] + \
            [tuple(model.get_parameter(target).shape) for target in ("last.0.weight", "first.fc.bias")] + \
            [tuple(model.get_buffer("first.running").shape)]
    assert lookups(tg) == lookups(torch)
    for lib in (tg, torch):
        model = nested(lib)
        for method, target, message in [("get_submodule", "stack.7", "has no attribute `7`"),
                                        ("get_submodule", "first.fc.weight", "`weight` is not an nn.Module"),
                                        ("get_parameter", "first.nothing", "has no attribute `nothing`"),
                                        ("get_parameter", "first.running", "`running` is not an nn.Parameter"),
                                        ("get_buffer", "first.fc.weight", "`weight` is not a buffer")]:
            with pytest.raises(AttributeError, match=message):
                getattr(model, method)(target)


def test_module_type_casts_every_tensor_and_requires_grad_():
    for lib in (tg, torch):
        model = nested(lib)
        model.register_buffer("count", lib.zeros(2, dtype=lib.int64))
        assert model.type(lib.float64) is model
        assert {str(t.dtype).split(".")[-1] for t in model.state_dict().values()} == {"float64"}
        assert model.requires_grad_(False) is model and not any(p.requires_grad for p in model.parameters())


def test_module_to_takes_devices_dtypes_and_tensors():
    model = nn.Linear(2, 3)
    weight = model.weight
    assert model.to("cpu") is model and model.to(device="cpu", non_blocking=True) is model and model.cpu() is model
    assert model.to("cpu", tg.float64).weight.dtype == tg.float64 and model.weight is weight
    model.to(tg.zeros(1))
    assert model.weight.dtype == tg.float32
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        model.to(tg.int64)


def structure(lib, module):
    return [(name, tuple(p.shape)) for name, p in module.named_parameters()], repr(module).replace("torch.", "") \
        .replace("tapegrad.", "")


def test_sequential_editing_matches_torch():
    def edited(lib):
        def fresh():
            return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 4))
        model = fresh()
        model.insert(1, lib.nn.Tanh())
        model.insert(-1, lib.nn.Sigmoid())
        model.extend(lib.nn.Sequential(lib.nn.Identity()))
        popped = type(model.pop(0)).__name__
        sliced = model[1:3]
        combined = fresh() + lib.nn.Sequential(lib.nn.Linear(4, 1))
        grown = fresh()
        grown += lib.nn.Sequential(lib.nn.ReLU())
        tripled = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh()) * 3
        doubled = 2 * lib.nn.Sequential(lib.nn.ReLU())
        in_place = lib.nn.Sequential(lib.nn.Tanh())
        in_place *= 2
        return [popped, structure(lib, model), structure(lib, sliced), structure(lib, combined),
                structure(lib, grown), structure(lib, tripled), structure(lib, doubled), structure(lib, in_place)]
    assert edited(tg) == edited(torch)
    for lib in (tg, torch):
        with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
            lib.nn.Sequential() + lib.nn.ReLU()
        with pytest.raises(ValueError, match="Non-positive multiplication factor"):
            lib.nn.Sequential(lib.nn.ReLU()) * 0
        with pytest.raises(IndexError):
            lib.nn.Sequential(lib.nn.ReLU()).insert(3, lib.nn.ReLU())


def test_module_list_and_dict_match_torch():
    def built(lib):
        layers = lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.ReLU()])
        layers += [lib.nn.Tanh()]
        joined = layers + lib.nn.ModuleList([lib.nn.Linear(2, 1)])
        popped = type(joined.pop(1)).__name__
        heads = lib.nn.ModuleDict({"b": lib.nn.Linear(3, 1), "a": lib.nn.Linear(3, 2)})
        heads["c"] = lib.nn.ReLU()
        heads.update([("d", lib.nn.Tanh())])
        removed = type(heads.pop("b")).__name__
        return [popped, structure(lib, layers), structure(lib, joined), structure(lib, heads), list(heads.keys()),
                "a" in heads, len(heads), [type(m).__name__ for m in heads.values()]]
    assert built(tg) == built(torch)
    for lib in (tg, torch):
        with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
            lib.nn.ModuleDict(3)
        with pytest.raises(ValueError, match="has length 3; 2 is required"):
            lib.nn.ModuleDict([("a", lib.nn.ReLU(), 1)])


def test_parameter_list_and_dict_match_torch():
    def built(lib):
        params = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])
        params.append(lib.zeros(1, dtype=lib.float64))
        params.extend([lib.zeros(5)])
        kinds = [type(p).__name__ for p in params]
        table = lib.nn.ParameterDict({"z": lib.zeros(2), "a": lib.nn.Parameter(lib.ones(3))})
        table["m"] = lib.zeros(1)
        table.update([("b", lib.zeros(4))])
        popped = tuple(table.pop("z").shape)
        model = lib.nn.Module()
        model.params, model.table = params, table
        return [kinds, structure(lib, params), structure(lib, table), popped, list(table.keys()), "a" in table,
                list(model.state_dict().keys()), tuple(params[-1].shape), len(params[1:3]),
                table.get("missing", 5), sorted(table.copy().keys())]
    assert built(tg) == built(torch)
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            lib.nn.ParameterList()(1)
        with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
            lib.nn.ParameterDict()[1] = lib.zeros(1)
        with pytest.raises(IndexError):
            lib.nn.ParameterList([lib.zeros(1)])[2]


# ---- gradient clipping -----------------------------------------------------------------------

def grads_pair(scale=1.0):
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=shape) * scale for shape in [(3, 4), (5,), (2, 2, 2)]]
    ours = [tg.tensor(np.zeros_like(a), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(np.zeros_like(a), requires_grad=True) for a in arrays]
    for a, o, t in zip(arrays, ours, theirs):
        o.grad, t.grad = tg.tensor(a), torch.tensor(a)
    ours.append(tg.zeros(2, requires_grad=True))  # no gradient: skipped
    theirs.append(torch.zeros(2, requires_grad=True))
    return ours, theirs


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1), (0.3, float("inf")),
                                                 (2.0, 3.0), (1.0, "inf")])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    ours, theirs = grads_pair()
    total = tg.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert abs(total.item() - expected.item()) <= 1e-12 * expected.item()
    for o, t in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert ours[3].grad is None


def test_clip_grad_norm_edge_cases():
    assert tg.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    single = tg.zeros(3, requires_grad=True)
    single.grad = tg.tensor([3.0, 4.0, 0.0])
    assert tg.nn.utils.clip_grad_norm_(single, 1.0).item() == pytest.approx(5.0)
    assert single.grad.tolist() == pytest.approx([0.6, 0.8, 0.0], rel=1e-5)
    with pytest.warns(UserWarning, match="empty generator"):
        tg.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    single.grad = tg.tensor([float("inf"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        tg.nn.utils.clip_grad_norm_([single], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ours, theirs = grads_pair(scale=3.0)
    tg.nn.utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for o, t in zip(ours[:3], theirs[:3]):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2)
    vector = tg.nn.utils.parameters_to_vector(model.parameters())
    assert tuple(vector.shape) == (8,)
    tg.nn.utils.vector_to_parameters(tg.arange(8.0), model.parameters())
    assert model.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and model.bias.tolist() == [6.0, 7.0]


# ---- init ------------------------------------------------------------------------------------

def test_init_formulas_match_torch():
    for nonlinearity, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)
    for shape in [(3, 4), (5, 2, 3, 3)]:
        assert init._calculate_fan_in_and_fan_out(tg.zeros(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tg.zeros(3))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_normal_quantile_is_accurate_to_double_precision():
    import statistics

    p = np.array([1e-300, 1e-30, 1e-10, 1e-3, 0.02, 0.3, 0.5, 0.7, 0.97, 0.999, 1 - 1e-12])
    expected = [statistics.NormalDist().inv_cdf(value) for value in p]
    np.testing.assert_allclose(init._normal_quantile(p), expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04),
                                             (1.0, 1.0, 1.5, 8.0)])
def test_trunc_normal_has_the_truncated_normals_moments(mean, std, a, b):
    tg.manual_seed(0)
    weight = nn.Parameter(tg.empty(300, 200))
    assert init.trunc_normal_(weight, mean, std, a, b) is weight
    values = weight.detach().numpy().astype(np.float64)
    assert values.min() >= a and values.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    density = [math.exp(-x * x / 2) / math.sqrt(2 * math.pi) for x in (alpha, beta)]
    mass = init._normal_cdf(beta) - init._normal_cdf(alpha)
    shift = (density[0] - density[1]) / mass
    expected_mean = mean + std * shift
    expected_std = std * math.sqrt(1 + (alpha * density[0] - beta * density[1]) / mass - shift ** 2)
    assert abs(values.mean() - expected_mean) < 0.02 * expected_std
    assert abs(values.std() - expected_std) < 0.02 * expected_std


def test_trunc_normal_warns_as_torch_when_the_mean_is_far_outside():
    for lib in (tg, torch):
        with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\]"):
            lib.nn.init.trunc_normal_(lib.empty(3), mean=10.0, std=1.0, a=-2.0, b=2.0)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 3, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    tg.manual_seed(0)
    weight = init.orthogonal_(tg.empty(*shape), gain=2.0)
    matrix = weight.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
    gram = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
    np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-6)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(tg.empty(3))


def test_eye_matches_torch():
    assert init.eye_(tg.empty(3, 5)).tolist() == torch.nn.init.eye_(torch.empty(3, 5)).tolist()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(tg.empty(3))


@pytest.mark.parametrize("name, args", [("uniform_", (-1.0, 1.0)), ("normal_", (0.0, 2.0)), ("trunc_normal_", ()),
                                        ("xavier_uniform_", ()), ("xavier_normal_", ()), ("kaiming_uniform_", ()),
                                        ("kaiming_normal_", ()), ("orthogonal_", ())])
def test_initialisers_draw_from_a_given_generator(name, args):
    tg.manual_seed(0)
    expected_global = tg.rand(2).tolist()
    tg.manual_seed(0)
    first = getattr(init, name)(tg.empty(4, 3), *args, generator=tg.Generator().manual_seed(9)).tolist()
    assert tg.rand(2).tolist() == expected_global  # the global stream was not touched
    assert getattr(init, name)(tg.empty(4, 3), *args, generator=tg.Generator().manual_seed(9)).tolist() == first


def test_initialisers():
    tg.manual_seed(0)
    weight = nn.Parameter(tg.empty(200, 300))
    assert init.kaiming_uniform_(weight) is weight
    bound = 3 ** 0.5 * init.calculate_gain("leaky_relu", 0) / 300 ** 0.5
    values = weight.detach().numpy()
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    init.kaiming_uniform_(weight, mode="fan_out", nonlinearity="relu")
    assert np.abs(weight.detach().numpy()).max() <= 3 ** 0.5 * 2 ** 0.5 / 200 ** 0.5
    init.xavier_uniform_(weight, gain=2.0)
    assert np.abs(weight.detach().numpy()).max() <= 2.0 * (6 / 500) ** 0.5
    init.kaiming_normal_(weight, nonlinearity="relu")
    assert abs(weight.detach().numpy().std() - (2 / 300) ** 0.5) < 0.002
    init.xavier_normal_(weight)
    assert abs(weight.detach().numpy().std() - (2 / 500) ** 0.5) < 0.002
    init.normal_(weight, 3.0, 0.5)
    assert abs(weight.detach().numpy().mean() - 3.0) < 0.01
    init.uniform_(weight, -1, 2)
    assert weight.detach().numpy().min() >= -1 and weight.detach().numpy().max() <= 2
    assert not init.zeros_(weight).detach().numpy().any()
    assert (init.ones_(weight).detach().numpy() == 1).all()
    assert (init.constant_(weight, 0.25).detach().numpy() == 0.25).all()
    assert weight.is_leaf and weight.grad_fn is None
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(weight, mode="fan_avg")


def test_module_and_tensor_hooks_return_one_removable_handle_class():
    layer = nn.Linear(2, 2)
    calls = []
    module_handle = layer.register_forward_hook(lambda module, args, output: calls.append("forward"))
    tensor_handle = tg.ones(2, requires_grad=True).register_hook(lambda grad: None)
    assert type(module_handle) is type(tensor_handle)
    assert type(module_handle).__name__ == "RemovableHandle"
    layer(tg.ones(1, 2))
    module_handle.remove()
    module_handle.remove()  # removing twice is harmless
    layer(tg.ones(1, 2))
    assert calls == ["forward"]
    with layer.register_forward_pre_hook(lambda module, args: calls.append("pre")):
        layer(tg.ones(1, 2))
    layer(tg.ones(1, 2))
    assert calls == ["forward", "pre"]
