"""tg.autograd.detect_anomaly / set_detect_anomaly: the node that made a NaN in backward is named,
with the forward stack that created it; nothing is checked when the mode is off."""
import math
import re
import warnings

import pytest
import torch

import tapegrad as tg

NAN_MESSAGE = r"Function '{}' returned nan values in its {}th output\."


def quietly(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mode()


def backward_error(lib, make_loss):
    """The message of the error backward raises in anomaly mode (None if it raises nothing)."""
    context = lib.autograd.detect_anomaly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with context():
            loss = make_loss(lib)
            try:
                loss.backward()
            except RuntimeError as error:
                return str(error)
    return None


def halve(lib):
    """A Function of lib whose backward returns NaN."""
    def forward(ctx, x):
        return x / 2

    def backward(ctx, grad):
        return grad * float("nan")

    return type("Halve", (lib.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


CASES = {
    # sqrt'(0) = inf, times the 0 that mul sends back: NaN made by SqrtBackward0.
    "sqrt": (lambda lib: (lib.tensor([0.0, 4.0], requires_grad=True).sqrt() * 0).sum(), "SqrtBackward0", 0),
    # log'(0) = inf; inf * 0 again.
    "log": (lambda lib: (lib.tensor([0.0, 1.0], requires_grad=True).log() * 0).sum(), "LogBackward0", 0),
    # d(a / b)/db = -a / b^2 at a = b = 0: 0 / 0.
    "division": (lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) /
                              lib.tensor([0.0, 1.0], requires_grad=True) * 0).sum(), "DivBackward0", 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_node_that_made_the_nan_is_named_as_pytorch_names_it(case):
    make_loss, node, output = CASES[case]
    ours = backward_error(tg, make_loss)
    theirs = backward_error(torch, make_loss)
    assert ours is not None and theirs is not None
    pattern = NAN_MESSAGE.format(node, output)
    assert re.search(pattern, theirs), theirs  # the oracle agrees on the node
    assert re.search(pattern, ours), ours


def test_a_custom_function_that_returns_nan_is_named():
    def make_loss(lib):
        return halve(lib).apply(lib.ones(3, requires_grad=True)).sum()

    assert "Function 'HalveBackward' returned nan values in its 0th output." in backward_error(tg, make_loss)
    assert "Function 'HalveBackward' returned nan values in its 0th output." in backward_error(torch, make_loss)


def test_the_forward_stack_points_at_the_line_that_made_the_node():
    def make_loss(lib):
        x = lib.tensor([0.0], requires_grad=True)
        return (x.sqrt() * 0).sum()  # the line the stack must show

    message = backward_error(tg, make_loss)
    assert "Traceback of forward call that caused the error" in message
    assert "test_anomaly.py" in message and "x.sqrt() * 0" in message


def test_inf_alone_is_not_an_anomaly_but_the_nan_it_makes_is():
    # As in PyTorch, only NaN is checked: log'(0) = inf passes, and the NaN appears at the next node.
    x = tg.tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autograd.detect_anomaly():
            x.log().sum().backward()
    assert x.grad.tolist() == [float("inf")]


def test_nothing_is_checked_when_off():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()  # no error: the NaN just arrives
    assert math.isnan(x.grad.tolist()[0]) and x.grad.tolist()[1] == 0
    assert not tg.autograd.is_anomaly_enabled()
    # Nodes made outside anomaly mode have no stack even if backward runs inside it.
    y = (tg.tensor([0.0], requires_grad=True).sqrt() * 0).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tg.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as error:
                y.backward()
    assert "returned nan values" in str(error.value) and "Traceback of forward call" not in str(error.value)


def test_switches_restore_and_check_nan_false_turns_the_check_off():
    assert not tg.autograd.is_anomaly_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = tg.autograd.detect_anomaly(check_nan=False)
    with mode:
        assert tg.autograd.is_anomaly_enabled() and not tg.autograd.is_anomaly_check_nan_enabled()
        (tg.tensor([0.0], requires_grad=True).sqrt() * 0).sum().backward()  # not checked
    assert not tg.autograd.is_anomaly_enabled() and tg.autograd.is_anomaly_check_nan_enabled()
    with tg.autograd.set_detect_anomaly(True):
        assert tg.autograd.is_anomaly_enabled()
    assert not tg.autograd.is_anomaly_enabled()
    tg.autograd.set_detect_anomaly(True)
    assert tg.autograd.is_anomaly_enabled()
    tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @quietly(lambda: tg.autograd.detect_anomaly())
    def run():
        assert tg.autograd.is_anomaly_enabled()

    run()
    assert not tg.autograd.is_anomaly_enabled()
