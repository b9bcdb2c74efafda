"""The losses beyond test_nn.py's against PyTorch: smooth_l1 and huber (fused, rows of the
pointwise-loss table), kl_div, cosine_embedding and margin_ranking (composed of tapegrad ops as
PyTorch composes them), their modules, node names, gradcheck, zero-size inputs and errors."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from helpers import check_op, gradcheck_op

RNG = np.random.default_rng(0)
REDUCTIONS = ("mean", "sum", "none")
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])


@pytest.mark.filterwarnings("ignore:Using a target size")  # PyTorch's, when the target broadcasts
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
def test_smooth_l1_loss(reduction, beta):
    check_op(lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta), (4, 5), (4, 5))
    check_op(lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta), (4, 5), (5,))


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber_loss(reduction, delta):
    check_op(lambda lib, x, y: lib.nn.functional.huber_loss(x, y, reduction=reduction, delta=delta), (4, 5), (4, 5))
    check_op(lambda lib, x, y: lib.nn.functional.huber_loss(x, y, reduction=reduction, delta=delta), (4, 1), (5,))
    check_op(lambda lib, x, y, w: lib.nn.functional.huber_loss(x, y, reduction=reduction, delta=delta, weight=w),
             (4, 5), (4, 5), (4, 5), layouts=("contiguous", "transposed"))


def test_smooth_l1_and_huber_at_the_threshold_and_special_values():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    for name in ("smooth_l1_loss", "huber_loss"):
        check_op(lambda lib, a, b: getattr(lib.nn.functional, name)(a, b, reduction="none"), inputs=[x, np.zeros(6)])
        special = np.array([np.inf, -np.inf, np.nan, 1e30, 0.0])
        with np.errstate(all="ignore"):
            check_op(lambda lib, a, b: getattr(lib.nn.functional, name)(a, b, reduction="none"),
                     inputs=[special, np.zeros(5)], grad=False, layouts=("contiguous",))


def kl_inputs(shape=(6, 5)):
    log_probabilities = np.log(RNG.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    return log_probabilities, RNG.dirichlet(np.ones(shape[-1]), size=shape[:-1])


@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    log_probabilities, target = kl_inputs()
    if log_target:
        target = np.log(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns in both libraries (tested below)
        check_op(lambda lib, x, y: lib.nn.functional.kl_div(x, y, reduction=reduction, log_target=log_target),
                 inputs=[log_probabilities, target])


def test_kl_div_zero_targets_and_warning():
    log_probabilities, target = kl_inputs((3, 4))
    target[0, 1] = 0.0  # contributes 0, as xlogy(0, 0) in PyTorch
    check_op(lambda lib, x, y: lib.nn.functional.kl_div(x, y.detach(), reduction="sum"),
             inputs=[log_probabilities, target])
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(tg.tensor(log_probabilities), tg.tensor(target))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(tg.tensor(log_probabilities), tg.tensor(target), reduction="batchmean")
        assert nn.KLDivLoss(reduce=False).reduction == "none"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
def test_cosine_embedding_loss(reduction, margin):
    def fn(lib, a, b):
        return lib.nn.functional.cosine_embedding_loss(a, b, lib.tensor(SIGNS, dtype=a.dtype), margin=margin,
                                                       reduction=reduction)
    check_op(fn, (6, 4), (6, 4))
    check_op(lambda lib, a, b: lib.nn.functional.cosine_embedding_loss(a, b, lib.tensor(-1.0, dtype=a.dtype),
                                                                        margin=margin, reduction=reduction), (4,), (4,))
    # A zero vector: PyTorch's epsilon keeps the cosine finite.
    check_op(fn, inputs=[np.zeros((6, 4)), RNG.normal(size=(6, 4))], layouts=("contiguous",))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss(reduction, margin):
    def fn(lib, a, b):
        return lib.nn.functional.margin_ranking_loss(a, b, lib.tensor(SIGNS, dtype=a.dtype), margin=margin,
                                                     reduction=reduction)
    check_op(fn, (6,), (6,))
    check_op(fn, (6,), (1,))  # broadcasting


def test_gradcheck():
    gradcheck_op(lambda lib, x, y: F.smooth_l1_loss(x, y, beta=0.7), (3, 4), (3, 4))
    gradcheck_op(lambda lib, x, y: F.huber_loss(x, y, delta=0.7, reduction="sum"), (3, 4), (3, 4))
    gradcheck_op(lambda lib, x, y: F.kl_div(x, y, reduction="batchmean", log_target=True), (3, 4), (3, 4))
    gradcheck_op(lambda lib, x, y: F.kl_div(x, y, reduction="sum"), (3, 4), (3, 4), low=0.1, high=1.0)
    signs = tg.tensor([1.0, -1.0, 1.0], dtype=tg.float64)
    gradcheck_op(lambda lib, x, y: F.cosine_embedding_loss(x, y, signs, margin=-0.9), (3, 4), (3, 4))
    gradcheck_op(lambda lib, x, y: F.margin_ranking_loss(x, y, signs, margin=5.0), (3,), (3,))


def test_zero_size():
    for fn in (lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y, reduction="sum"),
               lambda lib, x, y: lib.nn.functional.huber_loss(x, y, reduction="none"),
               lambda lib, x, y: lib.nn.functional.kl_div(x, y, reduction="sum"),
               lambda lib, x, y: lib.nn.functional.kl_div(x, y, reduction="batchmean"),
               lambda lib, x, y: lib.nn.functional.margin_ranking_loss(x, y, x.detach().sign(), reduction="sum")):
        check_op(fn, (0,), (0,))
    check_op(lambda lib, x, y: lib.nn.functional.cosine_embedding_loss(x, y, lib.ones(0, dtype=x.dtype),
                                                                        reduction="sum"), (0, 3), (0, 3))


def test_node_names_match_torch():
    x, tx = tg.ones(3, 4, requires_grad=True), torch.ones(3, 4, requires_grad=True)
    y, ty = tg.zeros(3, 4), torch.zeros(3, 4)
    signs, torch_signs = tg.tensor([1.0, -1.0, 1.0]), torch.tensor([1.0, -1.0, 1.0])
    cases = [
        (lambda f, a, b, s: f.smooth_l1_loss(a, b), 1),
        (lambda f, a, b, s: f.huber_loss(a, b), 1),
        (lambda f, a, b, s: f.kl_div(a, b + 0.25, reduction="batchmean"), 2),
        (lambda f, a, b, s: f.kl_div(a, b + 0.25, reduction="sum", log_target=True), 2),
        (lambda f, a, b, s: f.cosine_embedding_loss(a, b + 1, s), 2),
        (lambda f, a, b, s: f.margin_ranking_loss(a[:, 0], b[:, 0], s), 2),
    ]
    for fn, depth in cases:
        ours, theirs = fn(F, x, y, signs).grad_fn, fn(torch.nn.functional, tx, ty, torch_signs).grad_fn
        expected = []
        while theirs is not None and len(expected) < depth:
            expected.append(type(theirs).__name__)
            theirs = next((n for n, _ in theirs.next_functions if n is not None), None)
        got = []
        while ours is not None and len(got) < depth:
            got.append(ours.name())
            ours = next((n for n, _ in ours.next_functions if n is not None), None)
        assert got == expected


def test_errors():
    x = tg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"\[smooth_l1_loss\] smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match=r"\[huber_loss\] huber_loss does not support non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(RuntimeError, match=r"\[smooth_l1_loss\].*\(3, 4\).*\(2,\)"):
        F.smooth_l1_loss(x, tg.zeros(2))
    with pytest.raises(TypeError, match=r"\[huber_loss\] expects a floating-point input"):
        F.huber_loss(tg.tensor([1, 2]), tg.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"\[huber_loss\] weights and input must have the same size"):
        F.huber_loss(x, x, weight=tg.ones(4))
    with pytest.raises(ValueError, match=r"\[kl_div\] 'average' is not a valid value for reduction"):
        F.kl_div(x, x, reduction="average")
    with pytest.raises(RuntimeError, match=r"\[cosine_embedding_loss\] 1D target tensor expects 2D input tensors, but "
                                           r"found inputs with sizes \[3, 4\] and \[4\]"):
        F.cosine_embedding_loss(x, tg.zeros(4), tg.ones(3))
    with pytest.raises(RuntimeError, match=r"\[cosine_embedding_loss\] 0D or 1D target tensor expected"):
        F.cosine_embedding_loss(x, x, tg.ones(3, 1))
    with pytest.raises(RuntimeError, match=r"\[margin_ranking_loss\] All input tensors should have same dimension but "
                                           r"got sizes: input1: \[3, 4\], input2: \[3\], target: \[3\]"):
        F.margin_ranking_loss(x, tg.zeros(3), tg.ones(3))


MODULES = [
    ("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}), ("HuberLoss", {"delta": 0.5}),
    ("HuberLoss", {"reduction": "none"}), ("KLDivLoss", {"reduction": "batchmean"}),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}), ("CosineEmbeddingLoss", {"margin": 0.2}),
    ("MarginRankingLoss", {"margin": 0.1, "reduction": "sum"}), ("SmoothL1Loss", {"size_average": False}),
]


@pytest.mark.parametrize("name, kwargs", MODULES)
def test_modules_match_torch(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # size_average's deprecation, in both libraries
        ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    for attribute in ("reduction", "beta", "delta", "log_target", "margin"):
        assert getattr(ours, attribute, None) == getattr(theirs, attribute, None), attribute
    assert list(ours.state_dict()) == []
    if name in ("CosineEmbeddingLoss", "MarginRankingLoss"):
        shape = (6, 4) if name == "CosineEmbeddingLoss" else (6,)
        check_op(lambda lib, a, b: (ours if lib is tg else theirs)(a, b, lib.tensor(SIGNS, dtype=a.dtype)), shape, shape,
                 layouts=("contiguous",))
    else:
        inputs = kl_inputs() if name == "KLDivLoss" else (RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5)))
        if kwargs.get("log_target"):
            inputs = (inputs[0], np.log(inputs[1]))
        check_op(lambda lib, a, b: (ours if lib is tg else theirs)(a, b), inputs=list(inputs), layouts=("contiguous",))


# ---- cross_entropy's graph -----------------------------------------------------------------------

def graph_names(node, depth):
    """The names down the first-input chain from node, depth deep, as each library spells them."""
    names = []
    while node is not None and len(names) < depth:
        names.append(node.name())
        node = next((n for n, _ in node.next_functions if n is not None), None)
    return names


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
# (Spatial inputs differ: PyTorch reshapes them or names the node NllLoss2DBackward0; ours is NllLossBackward0.)
@pytest.mark.parametrize("shape, target", [((4, 3), [0, 2, 1, 2]), ((3,), 1)])
def test_cross_entropy_graph_is_torchs(reduction, weighted, shape, target):
    data = RNG.normal(size=shape)
    results = []
    for lib in (tg, torch):
        x = lib.tensor(data, requires_grad=True)
        weight = lib.tensor([0.5, 2.0, 1.0], dtype=x.dtype) if weighted else None
        loss = lib.nn.functional.cross_entropy(x * 1, lib.tensor(target), weight=weight, ignore_index=2,
                                               reduction=reduction)
        results.append(graph_names(loss.grad_fn, 3))
    assert results[0] == results[1] == ["NllLossBackward0", "LogSoftmaxBackward0", "MulBackward0"]
    check_op(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor(target), ignore_index=2, reduction=reduction),
             shape)
