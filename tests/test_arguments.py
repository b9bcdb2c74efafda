"""A non-tensor where an op needs a tensor is one TypeError, naming the op and the argument,
whichever binding the op goes through."""
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F


def x():
    return tg.ones(2, 3)


def target():
    return tg.zeros(2, dtype=tg.int64)


# (op name in the message, argument name, call with `bad` where a tensor belongs)
CASES = [
    ("cross_entropy", "weight", lambda bad: F.cross_entropy(x(), target(), weight=bad)),
    ("cross_entropy", "target", lambda bad: F.cross_entropy(x(), bad)),
    ("nll_loss", "weight", lambda bad: F.nll_loss(x(), target(), weight=bad)),
    ("mse_loss", "target", lambda bad: F.mse_loss(x(), bad)),
    ("l1_loss", "input", lambda bad: F.l1_loss(bad, x())),
    ("binary_cross_entropy", "weight", lambda bad: F.binary_cross_entropy(x(), x(), weight=bad)),
    ("binary_cross_entropy_with_logits", "pos_weight",
     lambda bad: F.binary_cross_entropy_with_logits(x(), x(), pos_weight=bad)),
    ("linear", "weight", lambda bad: F.linear(x(), bad)),
    ("linear", "bias", lambda bad: F.linear(x(), tg.ones(4, 3), bad)),
    ("matmul", "input", lambda bad: tg.matmul(bad, x())),
    ("mm", "other", lambda bad: x().mm(bad)),
    ("einsum", "operands", lambda bad: tg.einsum("ij,jk->ik", x(), bad)),
    ("maximum", "other", lambda bad: tg.maximum(x(), bad)),
    ("maximum", "input", lambda bad: tg.maximum(bad, x())),
    ("isclose", "other", lambda bad: x().isclose(bad)),
    ("equal", "other", lambda bad: tg.equal(x(), bad)),
    ("add", "input", lambda bad: tg.add(bad, x())),
    ("exp", "input", lambda bad: tg.exp(bad)),
    ("clamp", "input", lambda bad: tg.clamp(bad, min=0)),
    ("where", "condition", lambda bad: tg.where(bad, x(), x())),
    ("where", "condition", lambda bad: x().where(bad, 0.0)),
    ("sum", "input", lambda bad: tg.sum(bad)),
    ("softmax", "input", lambda bad: tg.softmax(bad, 0)),
    ("reshape", "input", lambda bad: tg.reshape(bad, (3, 2))),
    ("transpose", "input", lambda bad: tg.transpose(bad, 0, 1)),
    ("view_as", "other", lambda bad: x().view_as(bad)),
    ("expand_as", "other", lambda bad: x().expand_as(bad)),
    ("flatten", "input", lambda bad: tg.flatten(bad)),
    ("gather", "index", lambda bad: x().gather(1, bad)),
    ("index_select", "input", lambda bad: tg.index_select(bad, 0, target())),
    ("masked_fill", "mask", lambda bad: x().masked_fill(bad, 0.0)),
    ("masked_fill_", "mask", lambda bad: x().masked_fill_(bad, 0.0)),
    ("split", "tensor", lambda bad: tg.split(bad, 1)),
    ("zeros_like", "input", lambda bad: tg.zeros_like(bad)),
    ("full_like", "input", lambda bad: tg.full_like(bad, 1.0)),
    ("copy_", "src", lambda bad: x().copy_(bad)),
    ("backward", "gradient", lambda bad: (x().requires_grad_() * 2).backward(bad)),
]


@pytest.mark.parametrize("op, name, call", CASES, ids=[f"{op}-{name}" for op, name, _ in CASES])
@pytest.mark.parametrize("bad, kind", [([1.0, 1.0, 1.0], "list"), ("abc", "str")])
def test_non_tensor_argument_is_a_type_error_naming_the_op(op, name, call, bad, kind):
    with pytest.raises(TypeError, match=rf"^\[{op}\] expected a tensor for argument '{name}', got {kind}$"):
        call(bad)


@pytest.mark.parametrize("op, name, call", [case for case in CASES if case[1] not in ("weight", "bias", "pos_weight",
                                                                                        "gradient")],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_none_for_a_required_tensor_is_the_same_type_error(op, name, call):
    with pytest.raises(TypeError, match=rf"^\[{op}\] expected a tensor for argument '{name}', got NoneType$"):
        call(None)


def test_type_name_of_a_bad_number_argument():
    with pytest.raises(TypeError, match=r"^\[full\] expected a number, got list$"):
        tg.full((2,), [1.0])
