"""The tape and its engine: accumulation, hooks, graph release, errors, higher order, threads."""
import gc
import threading

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import resident_kilobytes


def leaf(values, dtype=tg.float64):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_gradients_meeting_at_one_tensor_are_summed():
    x = leaf([2.0])
    y = x * x
    z = y + y * x + x.exp()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * 2 + 3 * 4 + np.exp(2.0)])


def test_broadcast_gradients_reduce_to_input_shape():
    a = leaf(np.ones((3, 1)))
    b = leaf(np.ones((4,)))
    (a * b).sum().backward()
    assert tuple(a.grad.shape) == (3, 1) and tuple(b.grad.shape) == (4,)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full((4,), 3.0))


def test_grad_fn_names_and_leaves():
    x = leaf([1.0])
    assert x.is_leaf and x.grad_fn is None
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert (x + x).grad_fn.name() == "AddBackward0"
    assert x.exp().grad_fn.name() == "ExpBackward0"
    assert x.sum().grad_fn.name().startswith("SumBackward")
    assert x.view(1, 1).grad_fn.name() == "ViewBackward0"
    next_node, index = y.grad_fn.next_functions[0]
    assert next_node.name() == "AccumulateGrad" and index == 0
    with tg.no_grad():
        assert (x * 2).grad_fn is None and not (x * 2).requires_grad


def test_non_leaf_grad_needs_retain_grad():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    assert y.retains_grad
    z = x * 2
    (z * z).sum().backward()
    assert z.grad is None


def test_hooks_see_and_replace_gradients():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_detach_and_data_share_storage_without_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert d.data_ptr() == y.data_ptr()
    data = x.data
    assert not data.requires_grad and data.data_ptr() == x.data_ptr()
    x.data = tg.tensor([5.0, 6.0], dtype=tg.float64)
    np.testing.assert_allclose(x.detach().numpy(), [5.0, 6.0])
    assert x.requires_grad and x.is_leaf


def test_second_backward_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


# Nodes saving one to four tensors (the first slots live in the node, further ones beside it) and a
# list of them: the base frees them all after a backward, and the second one names the node.
@pytest.mark.parametrize("make, node", [
    (lambda x, w: x.exp(), "ExpBackward0"),
    (lambda x, w: x.atan(), "AtanBackward0"),
    (lambda x, w: x * w, "MulBackward0"),
    (lambda x, w: (x.abs() + 0.5) ** w, "PowBackward1"),
    (lambda x, w: x.clamp(w * 0, w + 1), "ClampBackward0"),
    (lambda x, w: tg.nn.functional.binary_cross_entropy_with_logits(x, w.sigmoid(), weight=w, pos_weight=w),
     "BinaryCrossEntropyWithLogitsBackward0"),
    (lambda x, w: x[tg.tensor([0, 1, 0])], "IndexBackward0"),
])
def test_second_backward_through_saved_slots_names_the_node(make, node):
    x, w = leaf([1.0, 2.0]), leaf([0.5, 1.5])
    y = make(x, w)
    assert y.grad_fn.name() == node
    y.sum().backward()
    with pytest.raises(RuntimeError, match=r"\[%s\] trying to backward through the graph a second time" % node):
        y.sum().backward()


def test_node_saving_nothing_runs_again():
    x, w = leaf([1.0, 2.0]), leaf([0.5, 1.5])
    y = (x + w).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_third_saved_slot_is_version_checked():
    x, w = leaf([1.0, 2.0]), leaf([0.5, 1.5])
    base = x * 1
    y = base ** (w * 1)
    base.add_(1)
    with pytest.raises(RuntimeError, match=r"\[PowBackward1\].*version 1; expected version 0"):
        y.sum().backward()


def test_saved_tensor_modified_in_place_names_versions():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"\[MulBackward0\].*version 1; expected version 0"):
        z.sum().backward()


@pytest.mark.parametrize("make, error, pattern", [
    (lambda: leaf([1.0]).add_(1), RuntimeError, r"\[add_\] a leaf tensor that requires grad"),
    (lambda: (leaf([1.0, 2.0]) * 2).backward(), RuntimeError, r"grad can be implicitly created only for scalar outputs"),
    (lambda: tg.tensor([1.0]).sum().backward(), RuntimeError, r"does not require grad"),
    (lambda: tg.tensor([1, 2]).requires_grad_(), RuntimeError, r"only tensors of floating point dtype"),
    (lambda: leaf([1.0]).numpy(), RuntimeError, r"\[numpy\].*detach\(\)\.numpy\(\)"),
    (lambda: (leaf([1.0]) * 2).requires_grad_(False), RuntimeError, r"leaf"),
    (lambda: (leaf([1.0, 2.0]) * 2).backward(tg.ones(3, dtype=tg.float64)), RuntimeError, r"\[backward\] gradient has shape"),
    (lambda: tg.autograd.grad((leaf([1.0]) * 2).sum(), leaf([1.0])), RuntimeError, r"allow_unused=True"),
    (lambda: leaf([1.0]).view(1).mul_(2), RuntimeError, r"\[mul_\]"),
])
def test_autograd_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_inplace_on_non_leaf_is_recorded():
    x = leaf([1.0, 2.0, 3.0])
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    for lib, v in ((tg, x), (torch, tx)):
        y = v * 2
        y.mul_(v)
        y.add_(v)
        y.sub_(1.0)
        (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_autograd_grad_returns_without_accumulating():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = tg.autograd.grad(y, [x, w], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    (gx_only,) = tg.autograd.grad([y], [x], grad_outputs=[tg.tensor(2.0, dtype=tg.float64)])
    np.testing.assert_allclose(gx_only.numpy(), [6.0, 8.0])
    unused = leaf([0.0])
    _, none = tg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert none is None


def test_grad_of_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * x
    y = (h * 3).sum()
    (gh,) = tg.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("f", [
    lambda lib, x: (x ** 3).sum(),
    lambda lib, x: (x.exp() * x.sin()).sum(),
    lambda lib, x: (x.tanh() + x.sigmoid() + x.sqrt()).sum(),
    lambda lib, x: (x / (x * x + 1)).sum(),
    lambda lib, x: (lib.maximum(x, x * x) + x.log()).sum(),
    lambda lib, x: (x.view(2, 2).t() * x.view(2, 2) * x.view(2, 2)).sum(),
])
def test_second_and_third_derivatives_match_torch(f):
    values = [0.5, 1.25, 2.0, 0.75]
    x = leaf(values)
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (g,) = tg.autograd.grad(f(tg, x), x, create_graph=True)
    (tgrad,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tgrad.detach().numpy(), rtol=1e-10)
    (gg,) = tg.autograd.grad(g.sum(), x, create_graph=True)
    (tgg,) = torch.autograd.grad(tgrad.sum(), tx, create_graph=True)
    np.testing.assert_allclose(gg.detach().numpy(), tgg.detach().numpy(), rtol=1e-10)
    (ggg,) = tg.autograd.grad(gg.sum(), x)
    (tggg,) = torch.autograd.grad(tgg.sum(), tx)
    np.testing.assert_allclose(ggg.numpy(), tggg.numpy(), rtol=1e-9)


def test_backward_with_create_graph_builds_differentiable_grad():
    x = leaf([2.0])
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = tg.autograd.grad(x.grad, x)
    np.testing.assert_allclose(gg.numpy(), [12.0])


def test_long_chain_has_no_recursion_limit():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])
    del y  # freeing the chain must not recurse either
    gc.collect()


def test_long_chain_freed_without_backward():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y + 1.0
    del y


def test_memory_stays_flat_over_training_steps():
    rng = np.random.default_rng(0)
    w = tg.tensor(rng.standard_normal((64, 32)), dtype=tg.float32, requires_grad=True)
    x = tg.tensor(rng.standard_normal((64, 32)), dtype=tg.float32)

    def step():
        loss = ((x * w).tanh() * x).sum()
        loss.backward()
        with tg.no_grad():
            w.sub_(w.grad * 0.001)
        w.grad = None

    for _ in range(200):
        step()
    before = resident_kilobytes()
    for _ in range(2000):
        step()
    assert resident_kilobytes() - before < 2048, "resident memory grew by more than 2 MiB over 2,000 steps"


def test_leaves_used_in_backward_are_freed():
    """A leaf keeps its gradient sink between graphs, and the sink must not keep the leaf: 200 leaves
    of 4 MB each, each through a backward and then dropped, must not stay resident."""
    def use_once():
        leaf = tg.ones(1_000_000, requires_grad=True)
        (leaf * 2).sum().backward()
        (leaf * 3).sum().backward()  # the second graph reuses the sink the first one made
        assert leaf.grad[0].item() == 5.0

    for _ in range(5):
        use_once()
    before = resident_kilobytes()
    for _ in range(200):
        use_once()
    assert resident_kilobytes() - before < 64 * 1024, "leaves (or their gradients) were kept alive"


def test_backward_after_its_leaf_is_gone():
    """Nothing can see the gradient of a leaf no one holds any more; backward just runs."""
    kept = tg.tensor([1.0, 2.0], requires_grad=True)
    gone = tg.tensor([3.0, 4.0], requires_grad=True)
    loss = (kept * 2 + gone * 3).sum()
    del gone
    gc.collect()
    loss.backward()
    np.testing.assert_allclose(kept.grad.numpy(), [2.0, 2.0])


def test_grad_mode_is_per_thread():
    x = leaf([1.0])
    results = {}

    def worker():
        results["worker_enabled"] = tg.is_grad_enabled()
        results["worker_records"] = (x * 2).requires_grad

    with tg.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not (x * 2).requires_grad
    assert results == {"worker_enabled": True, "worker_records": True}


def test_grad_mode_managers_and_decorators():
    x = leaf([1.0])

    @tg.no_grad()
    def without():
        return x * 2

    assert not without().requires_grad
    with tg.no_grad():
        with tg.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def grad_mode_report(lib):
    """What the grad-mode switches of lib do, in each of their forms."""
    report = {}

    @lib.no_grad
    def bare_decorator():
        return lib.is_grad_enabled()

    @lib.no_grad()
    def generator():
        yield lib.is_grad_enabled()
        yield lib.is_grad_enabled()

    @lib.inference_mode
    def bare_inference():
        return lib.is_grad_enabled()

    @lib.inference_mode()
    def called_inference():
        return lib.is_grad_enabled()

    @lib.set_grad_enabled(False)
    def set_disabled():
        return lib.is_grad_enabled()

    @lib.enable_grad
    def enabled():
        return lib.is_grad_enabled()

    report["bare_decorator"] = (bare_decorator(), lib.is_grad_enabled())
    steps = generator()
    report["generator"] = (next(steps), lib.is_grad_enabled(), next(steps), lib.is_grad_enabled())
    report["inference"] = (bare_inference(), called_inference(), lib.is_grad_enabled())
    with lib.inference_mode():
        report["inference_block"] = lib.is_grad_enabled()
    with lib.no_grad(), lib.inference_mode(False):
        report["inference_false"] = lib.is_grad_enabled()
    report["set_decorator"] = (lib.is_grad_enabled(), set_disabled(), lib.is_grad_enabled())
    lib.set_grad_enabled(False)
    report["set_call"] = lib.is_grad_enabled()
    lib.set_grad_enabled(True)
    with lib.set_grad_enabled(False):
        report["set_block"] = lib.is_grad_enabled()
    with lib.no_grad():
        report["enable_decorator"] = enabled()
    report["after"] = lib.is_grad_enabled()
    return report


def test_grad_mode_forms_match_torch():
    assert grad_mode_report(tg) == grad_mode_report(torch)


def test_no_grad_generator_restores_mode_between_steps_and_on_close():
    @tg.no_grad()
    def values():
        try:
            while True:
                yield (tg.ones(1, requires_grad=True) * 2).requires_grad
        finally:
            assert not tg.is_grad_enabled()

    steps = values()
    assert next(steps) is False and tg.is_grad_enabled()
    with tg.no_grad():
        assert next(steps) is False
        assert not tg.is_grad_enabled()
    steps.close()
    assert tg.is_grad_enabled()


def test_register_hook_returns_removable_handle():
    x = leaf([1.0, 2.0])
    seen = []
    leaf_handle = x.register_hook(lambda g: seen.append("leaf"))
    y = x * 2
    node_handle = y.register_hook(lambda g: seen.append("non-leaf"))
    y.sum().backward(retain_graph=True)
    assert seen == ["non-leaf", "leaf"]
    leaf_handle.remove()
    y.sum().backward(retain_graph=True)
    assert seen == ["non-leaf", "leaf", "non-leaf"]
    node_handle.remove()
    node_handle.remove()  # removing twice is harmless, as in PyTorch
    y.sum().backward()
    assert seen == ["non-leaf", "leaf", "non-leaf"]
    with x.register_hook(lambda g: g * 10):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 2 + 2 + 10 + 1, 2 + 2 + 2 + 10 + 1])
    assert isinstance(leaf_handle.id, int) and leaf_handle.id != node_handle.id


def test_hook_may_remove_itself_while_running():
    x = leaf([1.0])
    calls = []

    def once(grad):
        calls.append("once")
        handle.remove()

    handle = x.register_hook(once)
    x.register_hook(lambda g: calls.append("always"))
    for _ in range(2):
        (x * 1).sum().backward()
    assert calls == ["once", "always", "always"]


def test_hook_handle_outliving_its_tensor():
    y = leaf([1.0]) * 2
    handle = y.register_hook(lambda g: g)
    del y
    gc.collect()
    handle.remove()


@pytest.mark.parametrize("on_leaf", [True, False])
@pytest.mark.parametrize("replacement, pattern", [
    (lambda g: tg.ones(3, dtype=tg.float64), r"has changed the size of value \(was \(2,\) got \(3,\)\)"),
    (lambda g: tg.ones(2, dtype=tg.float32), r"has changed the type of value \(was float64 got float32\)"),
])
def test_hook_may_not_change_shape_or_dtype(on_leaf, replacement, pattern):
    x = leaf([1.0, 2.0])
    y = x * 2
    (x if on_leaf else y).register_hook(replacement)
    owner = "a leaf tensor" if on_leaf else "output 0 of MulBackward0"
    with pytest.raises(RuntimeError, match=rf"\[backward\] a hook on {owner} {pattern}"):
        y.sum().backward()
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ty = tx * 2
    wrong = torch.ones(3, dtype=torch.float64) if "size" in pattern else torch.ones(2)
    (tx if on_leaf else ty).register_hook(lambda g: wrong)
    with pytest.raises(RuntimeError, match="has changed the (size|type) of value"):
        ty.sum().backward()


def test_hook_must_return_tensor_or_none():
    x = leaf([1.0])
    x.register_hook(lambda g: 3)
    with pytest.raises(TypeError, match="must return None or a Tensor, but it returned int"):
        (x * 2).sum().backward()


def test_grad_setter_errors_match_torch():
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None but got grad of type int"):
            x.grad = 3
        with pytest.raises(RuntimeError):
            x.grad = lib.ones(2)
        with pytest.raises(RuntimeError):
            x.grad = lib.ones(3, dtype=lib.float64)
        x.grad = lib.ones(2, dtype=lib.float64)
        x.grad = None
    with pytest.raises(RuntimeError, match=r"\[grad\] assigned grad has data of a different type"):
        leaf([1.0]).grad = tg.ones(1)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_retained_grad_keeps_history_under_create_graph():
    results = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(create_graph=True)
        assert y.grad.requires_grad
        (second,) = lib.autograd.grad(y.grad.sum(), x)
        results.append(second.numpy())
        x.grad = None  # break the grad <-> graph cycle create_graph makes
    np.testing.assert_allclose(results[0], results[1])


@pytest.mark.parametrize("f", [
    lambda lib, x: x.relu(),
    lambda lib, x: (x * 1).fill_(2.0) * x,
    lambda lib, x: (x * 1).zero_() + x.sin(),
])
def test_piecewise_constant_gradients_are_differentiable_again(f):
    # The first derivative requires grad under create_graph and differentiates to zeros, as in torch.
    values = [-1.0, 0.25, 2.0]
    results = []
    for lib in (tg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
        assert g.requires_grad
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_fill_keeps_tensor_differentiable():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.fill_(3.0)
    assert y.requires_grad and y.grad_fn.name() == "FillBackward2"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("base", [0.0, 2.0])
def test_power_of_a_number_gradient_matches_torch(base):
    values = [-1.0, 0.0, 0.5, 2.0]
    grads = []
    for lib in (tg, torch):
        e = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        (base ** e).sum().backward()
        grads.append(e.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])  # 0 ** e: -inf where e < 0, else 0


def test_zero_base_power_of_tensor_gradient_matches_torch():
    grads = []
    for lib in (tg, torch):
        x = lib.tensor([0.0, 0.0, 0.0, 2.0], dtype=lib.float64, requires_grad=True)
        e = lib.tensor([-1.0, 0.0, 2.0, 0.5], dtype=lib.float64, requires_grad=True)
        (x ** e).sum().backward()
        grads.append((x.grad.numpy(), e.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


GRAD_FN_CASES = [
    lambda lib, x: x.mean(), lambda lib, x: x.mean(0), lambda lib, x: x.mean((0, 1)), lambda lib, x: x.var(),
    lambda lib, x: x.var(1), lambda lib, x: x.std(), lambda lib, x: x.std(0), lambda lib, x: x.logsumexp(1),
    lambda lib, x: x.sum(), lambda lib, x: x.sum(0), lambda lib, x: x.prod(), lambda lib, x: x.prod(1),
    lambda lib, x: x.clamp_min(0), lambda lib, x: x.clamp_max(0), lambda lib, x: x.clamp(0, 1),
    lambda lib, x: x.clamp(min=0), lambda lib, x: x.t(), lambda lib, x: x.transpose(0, 1),
    lambda lib, x: x.relu(), lambda lib, x: (x * 1).fill_(1.0), lambda lib, x: (x * 1).zero_(),
    lambda lib, x: x.amax(), lambda lib, x: x.max(), lambda lib, x: x.max(0).values, lambda lib, x: x ** 2,
    lambda lib, x: 2.0 ** x, lambda lib, x: x ** x,
]


@pytest.mark.parametrize("f", GRAD_FN_CASES)
def test_grad_fn_names_match_torch(f):
    x = leaf(np.ones((2, 3)))
    tx = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    assert f(tg, x).grad_fn.name() == type(f(torch, tx).grad_fn).__name__


@pytest.mark.parametrize("f", [lambda x: x.mean(1), lambda x: x.var(), lambda x: x.std(0), lambda x: x.logsumexp(1)])
def test_composite_reductions_are_single_nodes(f):
    x = leaf(np.ones((2, 3)))
    next_functions = f(x).grad_fn.next_functions
    assert len(next_functions) == 1 and next_functions[0][0].name() == "AccumulateGrad"


def test_course_style_linear_regression_sample_by_sample():
    # PyTorchZeroToAll lecture 4: y = x * w, trained one sample at a time.
    x_data, y_data = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    trained = []
    for lib in (tg, torch):
        w = lib.tensor([1.0], requires_grad=True)
        for _ in range(10):
            for x_val, y_val in zip(x_data, y_data):
                loss = (x_val * w - y_val) ** 2
                loss.backward()
                w.data = w.data - 0.01 * w.grad.data
                w.grad.data.zero_()
        trained.append(w.item())
    assert trained[0] == pytest.approx(trained[1], rel=1e-6)
    assert 4 * trained[0] == pytest.approx(7.8049, abs=1e-3)  # the lecture's printed prediction


def test_hand_written_backward_with_dot_g_matches_autograd():
    # fast.ai "backprop from the foundations": forward, then set .g by hand, then compare to .grad.
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((5, 3)))
    w = tg.tensor(rng.standard_normal((3,)), requires_grad=True)
    target = tg.tensor(rng.standard_normal((5,)))
    pre = (x * w).sum(1)
    out = pre.relu()
    loss = ((out - target) ** 2).mean()
    loss.backward()
    with tg.no_grad():
        out.g = 2.0 * (out - target) / 5
        pre.g = (pre > 0).float() * out.g
        w.g = (x * pre.g.unsqueeze(1)).sum(0)
    np.testing.assert_allclose(w.g.numpy(), w.grad.numpy(), rtol=1e-5)


def existing_grad_scenario(lib, name, dtype):
    """Runs backward twice into leaves that already hold a .grad (where the engine may let a GEMM add
    its product straight into it) and reports the gradients, what a reference held from the first
    backward sees, and how far the .grad's version moved."""
    rng = np.random.default_rng(3)
    dtype = getattr(lib, dtype)
    w = lib.tensor(rng.standard_normal((5, 7)), dtype=dtype, requires_grad=True)
    b = lib.tensor(rng.standard_normal(5), dtype=dtype, requires_grad=True)
    x = lib.tensor(rng.standard_normal((3, 7)), dtype=dtype)
    seen = []

    def loss():
        if name == "x @ w.t()":
            return (x @ w.t()).pow(2).sum()
        if name == "w @ x.t()":
            return (w @ x.t()).pow(2).sum()
        if name == "batched x @ w.t()":
            return (x.reshape(1, 3, 7).expand(2, 3, 7) @ w.t()).pow(2).sum()
        if name == "vector @ w.t()":
            return (x[0] @ w.t()).pow(2).sum()
        if name == "linear":
            return lib.nn.functional.linear(x, w, b).pow(2).sum()
        if name == "w used twice":
            return (x @ w.t()).pow(2).sum() + (x @ w.t()).sum()
        if name == "retained w.t()":
            wt = w.t()
            wt.retain_grad()
            seen.append(wt)
            return (x @ wt).pow(2).sum()
        raise AssertionError(name)

    if name == "hook on w":
        w.register_hook(lambda g: g * 2)
        name = "x @ w.t()"
    if name == "non-contiguous .grad":
        w.grad = lib.ones(7, 5, dtype=dtype).t()
        name = "x @ w.t()"
    loss().backward()
    held, version = w.grad, w.grad._version
    loss().backward()
    report = {"grad": w.grad.numpy().copy(), "held": held.numpy().copy(),
              "version step": w.grad._version - version, "b": None if b.grad is None else b.grad.numpy().copy()}
    if seen:
        report["retained"] = seen[-1].grad.numpy().copy()
    return report


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["x @ w.t()", "w @ x.t()", "batched x @ w.t()", "vector @ w.t()", "linear",
                                  "w used twice", "retained w.t()", "hook on w", "non-contiguous .grad"])
def test_gradients_added_into_an_existing_grad_match_torch(name, dtype):
    ours, theirs = existing_grad_scenario(tg, name, dtype), existing_grad_scenario(torch, name, dtype)
    assert ours.keys() == theirs.keys()
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for key in ours:
        if isinstance(ours[key], np.ndarray):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=tolerance, atol=tolerance, err_msg=key)
        else:
            assert ours[key] == theirs[key], key


def test_gradient_added_into_grad_keeps_create_graph_history():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    x = tg.tensor([[1.0, -1.0]], dtype=tg.float64)
    (x @ w.t()).pow(2).sum().backward(create_graph=True)
    (x @ w.t()).pow(2).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    second = tg.autograd.grad(w.grad.sum(), w)[0]
    wt = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    xt = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    (xt @ wt.t()).pow(2).sum().backward(create_graph=True)
    (xt @ wt.t()).pow(2).sum().backward(create_graph=True)
    np.testing.assert_allclose(w.grad.detach().numpy(), wt.grad.detach().numpy())
    np.testing.assert_allclose(second.numpy(), torch.autograd.grad(wt.grad.sum(), wt)[0].numpy())
