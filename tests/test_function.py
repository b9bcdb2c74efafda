"""autograd.Function: ops defined by forward(ctx, ...) and backward(ctx, ...), against PyTorch's
semantics: saved tensors, ctx flags, keyword arguments, every error path, and memory."""
import gc
import weakref

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import resident_kilobytes


def leaf(values, dtype=tg.float64):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


def function_class(lib, forward, backward, name="Custom"):
    """A Function subclass of lib (tapegrad or torch) from two plain functions."""
    return type(name, (lib.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


class Cube(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        ctx.save_for_backward(x)
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_mixes_with_builtin_ops():
    x = leaf([1.0, 2.0])
    y = (Cube.apply(x.exp(), 2.0) + x).sum()
    assert y.grad_fn.next_functions[0][0].next_functions[0][0].name() == "CubeBackward"
    y.backward()
    expected = 3 * np.exp([1.0, 2.0]) ** 3 * 2 + 1
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_custom_function_saved_tensor_version_check():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"\[CubeBackward\].*modified by an in-place operation.*version 1; expected "
                                           r"version 0"):
        y.sum().backward()


def test_custom_function_without_grad_returns_plain_output():
    y = Cube.apply(tg.tensor([2.0]), 1.0)
    assert not y.requires_grad and y.item() == 8.0
    with tg.no_grad():
        assert not Cube.apply(leaf([2.0]), 1.0).requires_grad


def exp_forward(ctx, x):
    y = x.exp()
    ctx.save_for_backward(y)
    return y


def exp_backward(ctx, grad):
    (y,) = ctx.saved_tensors
    return grad * y


def test_saved_output_is_differentiable_under_create_graph():
    values = [0.5, -1.0, 2.0]
    results = []
    for lib in (tg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        exp = function_class(lib, exp_forward, exp_backward, "Exp")
        (g,) = lib.autograd.grad((exp.apply(x) * x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_saved_tensors_freed_after_backward():
    exp = function_class(tg, exp_forward, exp_backward, "Exp")
    y = exp.apply(leaf([1.0])).sum()
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match=r"\[ExpBackward\].*retain_graph=True"):
        y.backward()


def exp_keeping_its_output(keep):
    """An exp Function whose ctx holds its output: through save_for_backward or as an attribute."""
    def forward(ctx, x):
        y = x.exp()
        if keep == "save_for_backward":
            ctx.save_for_backward(y)
        else:
            ctx.y = y
        return y

    def backward(ctx, grad):
        return grad * (ctx.saved_tensors[0] if keep == "save_for_backward" else ctx.y)

    return function_class(tg, forward, backward, "Exp")


@pytest.mark.parametrize("keep", ["save_for_backward", "attribute"])
def test_function_keeping_its_output_is_freed(keep):
    # ctx belongs to the output's grad_fn; ctx holding the output must not make them immortal.
    exp = exp_keeping_its_output(keep)
    x = leaf([1.0, 2.0])
    y = exp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))
    output, ctx_class = weakref.ref(y), type(y.grad_fn)
    del y
    if keep == "attribute":  # a reference cycle through C++: the garbage collector must see it
        gc.collect()
    assert output() is None, "the output (and its ctx) outlived every reference to it"
    del ctx_class


@pytest.mark.parametrize("keep", ["save_for_backward", "attribute"])
def test_memory_stays_flat_with_functions_keeping_outputs(keep):
    exp = exp_keeping_its_output(keep)
    w = tg.randn(128, 128, requires_grad=True)

    def step():
        exp.apply(w * 1).sum().backward()
        w.grad = None

    # Warm up past several automatic collections, which bound the garbage cycles in between.
    for _ in range(500):
        step()
    before = resident_kilobytes()
    for _ in range(2000):
        step()
    # Each step makes 128 KiB of tensors; a leak would add 250 MiB.
    assert resident_kilobytes() - before < 16 * 1024, "resident memory grew by more than 16 MiB over 2,000 steps"


def test_mark_non_differentiable_and_integer_outputs():
    seen = {}

    def forward(ctx, x):
        doubled, halved = x * 2, x / 2
        ctx.mark_non_differentiable(halved)
        return doubled, halved, x.argmax(), 5

    def backward(ctx, grad_doubled, grad_halved, grad_index, grad_number):
        seen.update(halved=grad_halved, index=grad_index, number=grad_number)
        return grad_doubled * 2

    for lib in (tg, torch):
        fn = function_class(lib, forward, backward)
        x = lib.tensor([1.0, 3.0, 2.0], requires_grad=True)
        doubled, halved, index, number = fn.apply(x)
        assert doubled.requires_grad and not halved.requires_grad and not index.requires_grad and number == 5
        doubled.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
        # Outputs that got no gradient get zeros (of their dtype); non-tensor outputs get None.
        np.testing.assert_array_equal(seen["halved"].numpy(), [0.0, 0.0, 0.0])
        assert seen["index"].numpy().dtype == np.int64 and seen["index"].item() == 0
        assert seen["number"] is None


def test_set_materialize_grads_false_passes_none():
    seen = []

    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    def backward(ctx, grad_a, grad_b):
        seen.append(grad_b)
        return grad_a * 2

    for lib in (tg, torch):
        a, _ = function_class(lib, forward, backward).apply(lib.ones(2, requires_grad=True))
        a.sum().backward()
    assert seen == [None, None]


def dirty_forward(ctx, x):
    x.mul_(2)
    ctx.mark_dirty(x)
    return x


def test_mark_dirty_moves_history_onto_the_function():
    for lib in (tg, torch):
        fn = function_class(lib, dirty_forward, lambda ctx, grad: grad * 2, "Double")
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        version = h._version
        out = fn.apply(h)
        assert out is h and type(h.grad_fn).__name__ in ("DoubleBackward", "Node")
        assert (h.grad_fn.name() if lib is tg else type(h.grad_fn).__name__) == "DoubleBackward"
        assert h._version == version + 2  # the forward's mul_, then mark_dirty's own bump
        (h * h).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def test_mark_dirty_errors():
    fn = function_class(tg, dirty_forward, lambda ctx, grad: grad)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        fn.apply(leaf([1.0]))

    def forgets_to_return(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x * 1

    with pytest.raises(RuntimeError, match="marked as dirty .*not returned"):
        function_class(tg, forgets_to_return, lambda ctx, grad: grad).apply(leaf([1.0]) * 1)


def test_input_returned_unmodified_is_an_alias_with_history():
    fn = function_class(tg, lambda ctx, x: x, lambda ctx, grad: grad * 3, "Identity")
    x = leaf([1.0, 2.0])
    y = fn.apply(x)
    assert y is not x and y.data_ptr() == x.data_ptr() and y.grad_fn.name() == "IdentityBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def scale_forward(ctx, a, b=3.0, c=4.0):
    ctx.save_for_backward(b if isinstance(b, tg.Tensor) else None)
    return a * b * c


def scale_backward(ctx, grad):
    return (grad,) + (None,) * (len(ctx.needs_input_grad) - 1)


@pytest.mark.parametrize("call, needs", [
    (lambda fn, x: fn.apply(x, b=2.0), (True, False)),
    (lambda fn, x: fn.apply(b=2.0, a=x), (True, False)),
    (lambda fn, x: fn.apply(x, 2.0, c=1.0), (True, False, False)),
    (lambda fn, x: fn.apply(x, b=x), (True, True)),
    (lambda fn, x: fn.apply(x), (True,)),
])
def test_apply_takes_keywords_for_positional_parameters(call, needs):
    seen = []

    def backward(ctx, grad):
        seen.append(ctx.needs_input_grad)
        return scale_backward(ctx, grad)

    x = leaf([1.0, 2.0])
    call(function_class(tg, scale_forward, backward), x).sum().backward()
    assert seen == [needs]


@pytest.mark.parametrize("call, pattern", [
    (lambda fn, x: fn.apply(x, d=1), r"unexpected keyword argument 'd'"),
    (lambda fn, x: fn.apply(x, a=x), r"multiple values for argument 'a'"),
    (lambda fn, x: fn.apply(x, c=5.0), r"missing required argument: 'b' \(position 1\)"),
    (lambda fn, x: fn.apply(c=1.0), r"missing required argument: 'a' \(position 0\)"),
])
def test_apply_keyword_errors_match_torch(call, pattern):
    for lib in (tg, torch):
        fn = function_class(lib, scale_forward if lib is tg else lambda ctx, a, b=3.0, c=4.0: a * b * c,
                            scale_backward)
        with pytest.raises(TypeError, match=pattern):
            call(fn, lib.ones(2, requires_grad=True))


@pytest.mark.parametrize("backward, error, pattern", [
    (lambda ctx, grad: (grad, grad, grad), RuntimeError,
     r"function BadBackward returned an incorrect number of gradients \(expected 1, got 3\)"),
    (lambda ctx, grad: (), RuntimeError, r"incorrect number of gradients \(expected 1, got 0\)"),
    (lambda ctx, grad: tg.ones(3), RuntimeError,
     r"Function BadBackward returned an invalid gradient at index 0 - got \(3,\) but expected shape compatible with "
     r"\(2,\)"),
    (lambda ctx, grad: tg.ones(1), RuntimeError, r"invalid gradient at index 0 - got \(1,\)"),
    (lambda ctx, grad: 3, TypeError, r"BadBackward must return Tensors or None, got int at index 0"),
])
def test_backward_result_errors(backward, error, pattern):
    fn = function_class(tg, lambda ctx, x: x * 2, backward, "Bad")
    y = fn.apply(leaf([1.0, 2.0]))
    with pytest.raises(error, match=pattern):
        y.sum().backward()


def test_backward_result_errors_match_torch_types():
    # The same mistakes raise the same exception types in torch (messages there differ in form).
    for backward in (lambda ctx, grad: (grad, grad, grad), lambda ctx, grad: torch.ones(3)):
        fn = function_class(torch, lambda ctx, x: x * 2, backward, "Bad")
        with pytest.raises(RuntimeError):
            fn.apply(torch.ones(2, requires_grad=True)).sum().backward()


def test_gradient_for_a_non_tensor_argument_is_an_error():
    fn = function_class(tg, lambda ctx, x, k: x * k, lambda ctx, grad: (grad, grad), "Scale")
    with pytest.raises(RuntimeError, match=r"ScaleBackward returned a gradient different than None at index 1"):
        fn.apply(leaf([1.0]), 2.0).sum().backward()


def test_backward_gradients_are_reduced_and_cast_like_torch():
    results = []
    for lib in (tg, torch):
        # A broadcast gradient is summed back to the input's shape; another dtype is cast.
        fn = function_class(lib, lambda ctx, x: x * 2, lambda ctx, grad: lib.ones(4, 3, dtype=lib.float64) * 2)
        x = lib.ones(3, requires_grad=True)
        fn.apply(x).sum().backward()
        results.append((x.grad.numpy(), str(x.grad.dtype)))
    np.testing.assert_allclose(results[0][0], results[1][0])
    assert results[0][0].dtype == np.float32 and results[1][0].dtype == np.float32


def test_extra_trailing_none_gradients_are_allowed():
    fn = function_class(tg, lambda ctx, x: x * 2, lambda ctx, grad: (grad * 2, None, None))
    x = leaf([1.0])
    fn.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_save_for_backward_takes_tensors_or_none():
    def forward(ctx, x):
        ctx.save_for_backward(x, None)
        return x * 2

    def backward(ctx, grad):
        x, nothing = ctx.saved_tensors
        assert nothing is None
        return grad * 2

    x = leaf([1.0])
    function_class(tg, forward, backward).apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])

    def saves_a_number(ctx, x):
        ctx.save_for_backward(x, 3)
        return x

    for lib in (tg, torch):
        with pytest.raises(TypeError):
            function_class(lib, saves_a_number, backward).apply(lib.ones(1, requires_grad=True))


def test_saved_tensors_of_a_freed_graph_raise():
    # The node owns the saved tensors and ctx reaches them weakly; a ctx kept past its graph says so.
    kept = []

    def forward(ctx, x):
        kept.append(ctx)
        y = x * 2
        ctx.save_for_backward(y)
        return y

    y = function_class(tg, forward, lambda ctx, grad: grad).apply(leaf([1.0]))
    assert kept[0].saved_tensors[0].tolist() == [2.0]
    del y
    with pytest.raises(RuntimeError, match="saved tensors are no longer available"):
        kept[0].saved_tensors
