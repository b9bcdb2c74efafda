"""gradcheck (float64 central differences) on the differentiable ops, gradgradcheck on their
backward formulas, and the gradcheck API itself."""
import numpy as np
import pytest

import tapegrad as tg
from helpers import gradcheck_op

# (fn(lib, *inputs), input shapes): one line per op; inputs are uniform in [-2, 2].
GRADCHECK_CASES = {
    "view": (lambda lib, a: a.view(4, 3), [(3, 4)]),
    "view_inferred": (lambda lib, a: a.view(-1, 2), [(3, 4)]),
    "reshape_copy": (lambda lib, a: a.t().reshape(12), [(3, 4)]),
    "transpose": (lambda lib, a: a.transpose(0, 2), [(2, 3, 4)]),
    "t": (lambda lib, a: a.t(), [(3, 4)]),
    "permute": (lambda lib, a: a.permute(2, 0, 1), [(2, 3, 4)]),
    "squeeze": (lambda lib, a: a.squeeze(), [(1, 3, 1)]),
    "squeeze_dim": (lambda lib, a: a.squeeze(2), [(2, 3, 1)]),
    "unsqueeze": (lambda lib, a: a.unsqueeze(1), [(2, 3)]),
    "expand": (lambda lib, a: a.expand(2, 3, 4), [(3, 1)]),
    "narrow": (lambda lib, a: a.narrow(1, 1, 2), [(2, 4)]),
    "flatten": (lambda lib, a: a.flatten(1), [(2, 3, 2)]),
    "basic_index": (lambda lib, a: a[1, ::2, None, ...], [(3, 4, 2)]),
    "select_last": (lambda lib, a: a[-1], [(3, 4)]),
    "advanced_index_repeated": (lambda lib, a: a[lib.tensor([2, 0, 2])], [(3, 4)]),
    "advanced_index_pair": (lambda lib, a: a[lib.tensor([0, 1, 1]), lib.tensor([3, 0, 3])], [(2, 4)]),
    "boolean_mask": (lambda lib, a: a[lib.tensor([True, False, True])], [(3, 2)]),
    "cat": (lambda lib, a, b: lib.cat([a, b, a], 0), [(2, 3), (1, 3)]),
    "stack": (lambda lib, a, b: lib.stack([a, b], 1), [(2, 3), (2, 3)]),
    "where": (lambda lib, a, b: lib.where(lib.tensor([True, False, True]), a, b), [(2, 3), (3,)]),
    "cos": (lambda lib, a: a.cos(), [(2, 3)]),
    "relu": (lambda lib, a: a.relu(), [(2, 3)]),
    "sign": (lambda lib, a: a.sign() * a, [(2, 3)]),
    "clamp_min": (lambda lib, a: a.clamp_min(0.1), [(2, 3)]),
    "clamp_max": (lambda lib, a: a.clamp_max(-0.1), [(2, 3)]),
    "fill_": (lambda lib, a: (a * 1).fill_(2.0) * a, [(2, 3)]),
    "zero_": (lambda lib, a: (a * 1).zero_() + a, [(2, 3)]),
}


@pytest.mark.parametrize("name", GRADCHECK_CASES)
def test_gradcheck(name):
    fn, shapes = GRADCHECK_CASES[name]
    gradcheck_op(fn, *shapes)


def gradgradcheck_op(fn, *shapes, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    inputs = [tg.tensor(rng.uniform(low, high, size=s), dtype=tg.float64, requires_grad=True) for s in shapes]
    assert tg.autograd.gradgradcheck(lambda *xs: fn(tg, *xs), inputs)


# Second derivatives: the backward formulas differentiated again (create_graph=True).
GRADGRADCHECK_CASES = {
    "sum": (lambda lib, a: (a * a).sum(1), [(2, 3)]),
    "mean": (lambda lib, a: (a * a).mean(), [(2, 3)]),
    "mean_dims": (lambda lib, a: (a * a).mean((0, 2), keepdim=True), [(2, 3, 2)]),
    "var": (lambda lib, a: a.var(1), [(2, 4)]),
    "std": (lambda lib, a: a.std(), [(2, 3)]),
    "logsumexp": (lambda lib, a: a.logsumexp(0), [(3, 2)]),
    "prod": (lambda lib, a: a.prod(), [(2, 3)]),
    "prod_dim": (lambda lib, a: a.prod(1, keepdim=True), [(2, 4)]),
    "relu": (lambda lib, a: a.relu() * a, [(2, 3)]),
    "relu_alone": (lambda lib, a: a.relu(), [(2, 3)]),
    "clamp": (lambda lib, a: a.clamp(-0.5, 0.5) * a, [(2, 3)]),
    "pow_tensor": (lambda lib, a, b: a.abs() ** b, [(3,), (3,)]),
    "rpow": (lambda lib, a: 2.0 ** a, [(3,)]),
    "views": (lambda lib, a: a.t()[1:].unsqueeze(0).expand(2, 2, 3) * a[0], [(3, 3)]),
    "where": (lambda lib, a, b: lib.where(a > 0, a * b, b * b), [(2, 3), (3,)]),
    "cos": (lambda lib, a: a.cos(), [(2, 3)]),
}


@pytest.mark.parametrize("name", GRADGRADCHECK_CASES)
def test_gradgradcheck(name):
    fn, shapes = GRADGRADCHECK_CASES[name]
    gradgradcheck_op(fn, *shapes)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [[0.0, 2.0], [0.0, 0.0], [1.5, -2.0]]])
def test_prod_with_zeros_gradgradcheck(values):
    x = tg.tensor(values, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a: a.prod(), x)
    assert tg.autograd.gradgradcheck(lambda a: a.prod(), x)
    assert tg.autograd.gradgradcheck(lambda a: a.prod(0), x)
    assert tg.autograd.gradgradcheck(lambda a: a.prod(-1, keepdim=True), x)


class Tripled(tg.autograd.Function):
    """forward doubles, backward claims triple: a wrong gradient."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 3


def test_gradcheck_reports_mismatch():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(tg.autograd.GradcheckError, match=r"numerical 2 vs analytical 3") as error:
        tg.autograd.gradcheck(Tripled.apply, x)
    assert isinstance(error.value, RuntimeError)
    assert tg.autograd.gradcheck(Tripled.apply, x, raise_exception=False) is False
    assert tg.autograd.gradcheck(lambda a: a * 2, x, raise_exception=False) is True


def test_gradcheck_counts_nan_as_mismatch():
    # 0 ** x at x = -1 is inf: the finite difference is nan, and must not pass.
    x = tg.tensor([-1.0, 0.5], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda e: 0.0 ** e, x, raise_exception=False) is False


def test_gradgradcheck_reports_wrong_second_derivative():
    class WrongSecond(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x.detach()  # right value, but its own derivative is lost

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(WrongSecond.apply, x)
    assert tg.autograd.gradgradcheck(WrongSecond.apply, x, raise_exception=False) is False
    with pytest.raises(tg.autograd.GradcheckError):
        tg.autograd.gradgradcheck(WrongSecond.apply, x)


def test_gradcheck_output_without_grad_must_not_depend_on_inputs():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a: (a * 2, (a * 0 + 1).detach()), x)
    with pytest.raises(tg.autograd.GradcheckError, match="output 1 .*does not require grad"):
        tg.autograd.gradcheck(lambda a: (a * 2, (a * 3).detach()), x)

    class DetachedBackward(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return (grad * 2 * a).detach()  # a first derivative that create_graph cannot see through

    assert tg.autograd.gradcheck(DetachedBackward.apply, x)
    with pytest.raises(tg.autograd.GradcheckError, match="does not require grad"):
        tg.autograd.gradgradcheck(DetachedBackward.apply, x)


def test_gradcheck_input_errors():
    with pytest.raises(TypeError, match="float64"):
        tg.autograd.gradcheck(lambda a: a * 2, tg.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match="no input requires grad"):
        tg.autograd.gradcheck(lambda a: a * 2, tg.ones(2, dtype=tg.float64))
