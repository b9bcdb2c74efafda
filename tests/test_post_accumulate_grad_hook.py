"""Tensor.register_post_accumulate_grad_hook, side by side with PyTorch's: the hook gets the leaf
once its .grad holds the accumulated gradient (DistributedDataParallel starts reducing there)."""
import pytest
import torch

import tapegrad as tg


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_hook_sees_the_leaf_after_accumulation_in_registration_order(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda tensor: seen.append(("first", tensor is w, tensor.grad.tolist())))
    w.register_post_accumulate_grad_hook(lambda tensor: seen.append(("second", tensor is w, tensor.grad.tolist())))
    (w * 2).sum().backward()
    (w * w).sum().backward()
    assert seen == [("first", True, [2.0, 2.0]), ("second", True, [2.0, 2.0]),
                    ("first", True, [4.0, 6.0]), ("second", True, [4.0, 6.0])]


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_hook_runs_once_per_backward_for_a_leaf_used_twice(lib):
    w = lib.tensor([3.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda tensor: calls.append(tensor.grad.item()))
    (w * w + w).sum().backward()
    assert calls == [7.0]


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_handle_removes_the_hook_and_a_hook_may_set_grad(lib):
    w = lib.tensor([1.0], requires_grad=True)

    def reset(tensor):
        tensor.grad = None

    handle = w.register_post_accumulate_grad_hook(reset)
    w.sum().backward()
    assert w.grad is None
    handle.remove()
    w.sum().backward()
    assert w.grad.tolist() == [1.0]


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_hook_does_not_run_for_autograd_grad_nor_for_leaves_without_a_gradient(lib):
    w, unused = lib.tensor([1.0], requires_grad=True), lib.tensor([1.0], requires_grad=True)
    calls = []
    for tensor in (w, unused):
        tensor.register_post_accumulate_grad_hook(lambda tensor: calls.append(tensor))
    lib.autograd.grad((w * 2).sum(), [w])
    (w * 2).sum().backward()
    assert len(calls) == 1 and calls[0] is w


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_hook_is_refused_on_non_leaves_and_tensors_without_grad(lib):
    w = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda tensor: None)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        lib.tensor([1.0]).register_post_accumulate_grad_hook(lambda tensor: None)


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_hook_must_return_none_and_its_exception_reaches_backward(lib):
    w = lib.tensor([1.0], requires_grad=True)
    handle = w.register_post_accumulate_grad_hook(lambda tensor: lib.full((1,), 7.0))
    with pytest.raises(RuntimeError, match="Tensor post accumulate grad hooks should return None"):
        w.sum().backward()
    handle.remove()

    def fail(tensor):
        raise KeyError("from the hook")

    w.register_post_accumulate_grad_hook(fail)
    with pytest.raises(KeyError, match="from the hook"):
        w.sum().backward()


def test_tensor_hooks_and_post_accumulate_hooks_have_distinct_handles():
    w = tg.tensor([1.0], requires_grad=True)
    calls = []
    grad_handle = w.register_hook(lambda grad: calls.append("grad"))
    post_handle = w.register_post_accumulate_grad_hook(lambda tensor: calls.append("post"))
    assert grad_handle.id != post_handle.id
    w.sum().backward()
    post_handle.remove()
    w.sum().backward()
    assert calls == ["grad", "post", "grad"]


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_a_gradient_is_accumulated_as_soon_as_it_is_complete_in_every_step(lib):
    """Not at the end of backward: the sink of a leaf made in an earlier step still runs before the
    rest of the graph (what lets DDP's allreduces overlap backward)."""
    lib.manual_seed(0)
    first, second = lib.nn.Linear(4, 4), lib.nn.Linear(4, 4)
    events = []
    for name, parameter in (("first", first.weight), ("second", second.weight)):
        parameter.register_post_accumulate_grad_hook(lambda tensor, name=name: events.append(name))
    for _ in range(3):
        hidden = first(lib.randn(2, 4))
        hidden.register_hook(lambda grad: events.append("hidden"))
        second(hidden.relu()).sum().backward()
    assert events == ["second", "hidden", "first"] * 3
