"""Inference tensors and the version counters of `.data` and `detach()`, against PyTorch: each case
runs the same function on tapegrad and on torch and expects the same outcome (a value, or an error
of the same type)."""
import pytest
import torch

import tapegrad as tg


def outcome(function, lib):
    """What function(lib) gives: ("value", result) or ("error", exception type name)."""
    try:
        return "value", function(lib)
    except RuntimeError:
        return "error", "RuntimeError"


def same_as_torch(function):
    ours, theirs = outcome(function, tg), outcome(function, torch)
    assert ours == theirs, f"tapegrad: {ours}, torch: {theirs}"
    return ours


def made_in_inference_mode(lib):
    with lib.inference_mode():
        return lib.ones(3)


def weight(lib):
    return lib.ones(3, requires_grad=True)


# ---- inference tensors --------------------------------------------------------------------------

@pytest.mark.parametrize("make, expected", [
    (lambda lib: made_in_inference_mode(lib).is_inference(), True),
    (lambda lib: made_in_inference_mode(lib).view(3).is_inference(), True),
    (lambda lib: made_in_inference_mode(lib)[1:].is_inference(), True),
    (lambda lib: made_in_inference_mode(lib).detach().is_inference(), True),
    (lambda lib: made_in_inference_mode(lib).data.is_inference(), True),
    (lambda lib: made_in_inference_mode(lib).clone().is_inference(), False),
    (lambda lib: (made_in_inference_mode(lib) * 2).is_inference(), False),
    (lambda lib: lib.ones(3).is_inference(), False),
    (lambda lib: lib.tensor([1.0]).is_inference(), False),
])
def test_which_tensors_are_inference_tensors(make, expected):
    assert same_as_torch(make) == ("value", expected)


def test_views_and_results_made_inside_inference_mode():
    def report(lib):
        w = weight(lib)
        with lib.inference_mode():
            enabled = lib.is_inference_mode_enabled()
            view, result, fresh = w.view(3), w * 2, lib.tensor([1.0, 2.0])
            with lib.inference_mode(False):
                turned_off = lib.is_inference_mode_enabled(), lib.is_grad_enabled(), lib.ones(1).is_inference()
        return (enabled, lib.is_inference_mode_enabled(), turned_off, view.is_inference(), result.is_inference(),
                result.requires_grad, fresh.is_inference())
    assert same_as_torch(report) == ("value", (True, False, (False, True, False), False, True, False, True))


def test_is_inference_mode_enabled_is_off_outside_and_restored_on_exit():
    @tg.inference_mode()
    def decorated():
        return tg.is_inference_mode_enabled()

    assert not tg.is_inference_mode_enabled()
    assert decorated()
    with pytest.raises(KeyError):
        with tg.inference_mode():
            raise KeyError
    assert not tg.is_inference_mode_enabled() and tg.is_grad_enabled()


@pytest.mark.parametrize("use", [
    lambda lib, x: weight(lib) * x,                   # saves x (MulBackward0)
    lambda lib, x: x * weight(lib),
    lambda lib, x: weight(lib) @ x,                   # DotBackward0 / MvBackward0
    lambda lib, x: weight(lib).clone().mul_(x),       # in place on a normal tensor, saving x
    lambda lib, x: (weight(lib) * 1).div(x),
])
def test_inference_tensors_cannot_be_saved_for_backward(use):
    def run(lib):
        return use(lib, made_in_inference_mode(lib)).sum().item()
    assert same_as_torch(run) == ("error", "RuntimeError")


def test_the_error_says_what_to_do_instead():
    x = made_in_inference_mode(tg)
    with pytest.raises(RuntimeError, match=r"\[MulBackward0\] Inference tensors cannot be saved for backward.*clone"):
        weight(tg) * x


def test_ops_that_save_nothing_take_inference_tensors_and_a_clone_is_a_normal_tensor():
    def run(lib):
        x, w = made_in_inference_mode(lib), weight(lib)
        (w + x).sum().backward()
        (w * x.clone()).sum().backward()
        return w.grad.tolist()
    assert same_as_torch(run) == ("value", [2.0, 2.0, 2.0])


def test_custom_functions_cannot_save_inference_tensors():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(b)
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2, None

        return Scale.apply(weight(lib), made_in_inference_mode(lib)).sum().item()
    assert same_as_torch(run) == ("error", "RuntimeError")


@pytest.mark.parametrize("write", [
    lambda lib, x: x.add_(1),
    lambda lib, x: x.mul_(2),
    lambda lib, x: x.fill_(1),
    lambda lib, x: x.zero_(),
    lambda lib, x: x.copy_(lib.zeros(3)),
    lambda lib, x: x.__setitem__(0, 5.0),
    lambda lib, x: x[1:].mul_(2),                    # a view of an inference tensor is one
    lambda lib, x: x.uniform_(),
    lambda lib, x: x.normal_(),
    lambda lib, x: x.masked_fill_(x > 0, 0.0),
    lambda lib, x: x.index_put_((lib.tensor([0]),), lib.tensor([2.0])),
])
@pytest.mark.parametrize("mode", ["grad", "no_grad"])
def test_inference_tensors_are_not_written_in_place_outside_inference_mode(write, mode):
    def run(lib):
        x = made_in_inference_mode(lib)
        with lib.no_grad() if mode == "no_grad" else lib.enable_grad():
            write(lib, x)
        return x.tolist()
    assert same_as_torch(run) == ("error", "RuntimeError")


def test_inference_tensors_are_written_in_place_inside_inference_mode():
    def run(lib):
        x = made_in_inference_mode(lib)
        with lib.inference_mode():
            x.add_(1)
            x[0] = 5.0
        return x.tolist()
    assert same_as_torch(run) == ("value", [5.0, 2.0, 2.0])


def test_normal_tensors_written_in_place_inside_inference_mode_stay_normal():
    def run(lib):
        x = lib.ones(3)
        with lib.inference_mode():
            x.add_(1)
        return x.is_inference(), x._version, x.tolist()
    assert same_as_torch(run) == ("value", (False, 1, [2.0, 2.0, 2.0]))


def test_optimizers_do_not_step_inference_parameters():
    def run(lib):
        param = made_in_inference_mode(lib)
        param.grad = lib.ones(3)
        with lib.no_grad():
            lib.optim.SGD([param], lr=0.1).step()
        return param.tolist()
    assert same_as_torch(run) == ("error", "RuntimeError")


@pytest.mark.parametrize("make", [
    lambda lib: made_in_inference_mode(lib).requires_grad_(),
    lambda lib: made_in_inference_mode(lib)._version,
])
def test_requires_grad_and_version_of_inference_tensors_are_refused(make):
    assert same_as_torch(make) == ("error", "RuntimeError")


def test_inference_tensors_may_give_up_requires_grad_and_require_it_inside_inference_mode():
    def run(lib):
        x = made_in_inference_mode(lib).requires_grad_(False)
        with lib.inference_mode():
            y = lib.ones(2, requires_grad=True)
        return x.requires_grad, y.requires_grad, y.is_inference()
    assert same_as_torch(run) == ("value", (False, True, True))


# ---- version counters of .data and detach() -------------------------------------------------------

def test_writes_through_data_are_not_seen_by_autograd():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x  # saves x
        x.data.mul_(2)
        version = x._version
        y.sum().backward()  # reads the new values, as in PyTorch
        return version, x.grad.tolist()
    assert same_as_torch(run) == ("value", (0, [4.0, 8.0]))


def test_data_counts_its_own_versions_and_its_views_share_them():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        data = x.data
        data.add_(1)
        view = data[1:]
        view.mul_(2)
        x.data.sub_(1)
        with lib.no_grad():
            x.mul_(1)
        return data._version, view._version, data.detach()._version, x._version, x.data._version
    assert same_as_torch(run) == ("value", (2, 2, 2, 1, 0))


def test_a_saved_data_alias_is_version_checked_against_its_own_counter():
    def run(lib):
        w = lib.ones(2, requires_grad=True)
        data = lib.tensor([1.0, 2.0]).data
        y = w * data
        data.add_(1)
        return y.sum().backward()
    assert same_as_torch(run) == ("error", "RuntimeError")


def test_writes_through_detach_are_seen_by_autograd():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        x.detach().mul_(2)
        version = x._version
        y.sum().backward()
        return version
    assert same_as_torch(run) == ("error", "RuntimeError")


def test_detach_shares_the_version_counter_both_ways():
    def run(lib):
        x = lib.tensor([1.0, 2.0])
        detached = x.detach()
        detached.add_(1)
        x.add_(1)
        return x._version, detached._version, x[0:1]._version
    assert same_as_torch(run) == ("value", (2, 2, 2))


def test_the_course_update_through_data_trains():
    def run(lib):
        lib.manual_seed(0)
        w = lib.tensor([[0.5, -0.25], [1.0, 2.0]], requires_grad=True)
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        for _ in range(3):
            loss = ((x @ w) ** 2).mean()
            loss.backward()
            w.data -= 0.01 * w.grad.data
            w.grad.data.zero_()
        return [round(value, 6) for row in w.tolist() for value in row], w._version
    assert same_as_torch(run)[0] == "value"
