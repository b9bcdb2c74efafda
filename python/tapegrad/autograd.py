"""Autograd from Python: grad mode, backward/grad, and user-defined Functions.

The engine itself is C++ (csrc/tapegrad/autograd); this module is its Python face.
"""
import functools
import inspect
import sys
import warnings

from . import _C, _gradcheck
from ._gradcheck import GradcheckError
from ._legacy import Variable

__all__ = ["backward", "grad", "no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "Function",
           "FunctionCtx", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "Variable"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulates gradients of `tensors` into the .grad of the leaves they depend on."""
    _C._backward(tensors, grad_tensors, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Returns the gradients of `outputs` with respect to `inputs` (a tuple), touching no .grad."""
    return _C._grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)


class _GradModeContext:
    """Sets grad mode for a block (per thread) and restores the previous one on exit. An instance is
    also a decorator; on a generator function the mode holds inside the generator's body each time
    it runs, not around the creation of the generator (as in PyTorch)."""

    def _target_mode(self):
        """The mode to set on entry."""
        raise NotImplementedError

    def __enter__(self):
        self._previous = _C.is_grad_enabled()
        _C._set_grad_enabled(self._target_mode())
        return None

    def __exit__(self, *exc_info):
        _C._set_grad_enabled(self._previous)
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, function):
        if inspect.isgeneratorfunction(function):
            return _wrap_generator(self.clone, function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.clone():
                return function(*args, **kwargs)

        return wrapper


def _wrap_generator(make_context, function):
    """Runs each step of the generator `function` returns inside a fresh make_context(), so that the
    caller's mode is back in force at every yield."""

    @functools.wraps(function)
    def generator(*args, **kwargs):
        inner = function(*args, **kwargs)
        try:
            with make_context():
                response = inner.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        inner.close()
                    raise
                except BaseException:
                    with make_context():
                        response = inner.throw(*sys.exc_info())
                else:
                    with make_context():
                        response = inner.send(request)
        except StopIteration as stop:
            return stop.value

    return generator


class _NoArgumentContext(_GradModeContext):
    """A grad-mode switch that also decorates when used without parentheses: @no_grad."""

    def __new__(cls, function=None):
        if function is None:
            return super().__new__(cls)
        return cls()(function)


class no_grad(_NoArgumentContext):
    """Ops inside record nothing on the tape."""

    def _target_mode(self):
        return False


class enable_grad(_NoArgumentContext):
    """Turns recording back on inside a no_grad block."""

    def _target_mode(self):
        return True


class inference_mode(_GradModeContext):
    """inference_mode() / @inference_mode: records nothing, like no_grad, and tensors made inside
    are inference tensors (``Tensor.is_inference()``), as in PyTorch: autograd refuses to save them
    for backward, and they cannot be written in place outside inference mode (clone one to get a
    normal tensor). Views of a normal tensor made inside stay normal. inference_mode(False) turns
    recording on and inference mode off, as in PyTorch.

    Unlike PyTorch, the block is no faster than no_grad, and ``enable_grad()`` inside it turns
    recording back on (in PyTorch nothing inside inference mode records).
    """

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode=True):
        self.mode = mode

    def _target_mode(self):
        return not self.mode

    def __enter__(self):
        self._previous_inference = _C.is_inference_mode_enabled()
        super().__enter__()
        _C._set_inference_mode_enabled(self.mode)

    def __exit__(self, *exc_info):
        _C._set_inference_mode_enabled(self._previous_inference)
        return super().__exit__(*exc_info)

    def clone(self):
        return self.__class__(self.mode)


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(mode) sets grad mode when called, and works as a context manager (restoring
    the previous mode on exit) and as a decorator (leaving the mode as it was until the call)."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = _C.is_grad_enabled()
        _C._set_grad_enabled(self.mode)

    def __enter__(self):
        _C._set_grad_enabled(self.mode)
        return None

    def __call__(self, function):
        _C._set_grad_enabled(self._previous)
        return super().__call__(function)

    def clone(self):
        return self.__class__(self.mode)


def is_anomaly_enabled():
    """Whether anomaly detection is on (see detect_anomaly)."""
    return _C._is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection checks backward's gradients for NaN."""
    return _C._is_anomaly_check_nan_enabled()


class detect_anomaly:
    """Anomaly detection for a block (context manager or decorator), as torch.autograd.detect_anomaly:
    every node made inside remembers the Python stack that created it, and a backward node that
    returns a NaN gradient raises RuntimeError("... Function 'MulBackward0' returned nan values in
    its 0th output.") with that stack in the message. It slows everything down; use it to debug.
    The switch is global (every thread), as PyTorch's."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._previous = (_C._is_anomaly_enabled(), _C._is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(True, self.check_nan)
        return None

    def __exit__(self, *exc_info):
        _C._set_anomaly_enabled(*self._previous)
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return function(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """set_detect_anomaly(mode, check_nan=True) turns anomaly detection on or off when called, and
    restores the previous setting at the end of a with block, as torch.autograd.set_detect_anomaly."""

    def __init__(self, mode, check_nan=True):
        self._previous = (_C._is_anomaly_enabled(), _C._is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(bool(mode), check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *exc_info):
        _C._set_anomaly_enabled(*self._previous)
        return False


class FunctionCtx:
    """The `ctx` a Function's forward and backward share. Any attribute may be set on it.

    What forward hands over (save_for_backward, mark_dirty, mark_non_differentiable) is taken by
    the recorded node when forward returns and dropped from ctx, since ctx belongs to the node and
    a reference back to an output would be a cycle.
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.to_save = ()
        self._non_differentiable = ()
        self._dirty = ()
        self._materialize_grads = True
        self._saved = None  # the node's saved tensors, once recorded

    def save_for_backward(self, *tensors):
        """Keeps tensors (or None) for backward, as ctx.saved_tensors. Their in-place modification
        before backward is an error, and saved outputs stay differentiable under create_graph."""
        for index, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, _C.Tensor):
                raise TypeError(f"[save_for_backward] can only save tensors or None, but argument {index} is of "
                                f"type {type(tensor).__name__}")
        self.to_save = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            return tuple(self.to_save)
        return self._saved.unpack()

    def mark_non_differentiable(self, *tensors):
        """These outputs will not require grad; backward still gets a gradient slot for each."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """These inputs were modified in place by forward (and must be returned): their history
        becomes this Function's."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """With False, backward gets None instead of zeros for outputs that received no gradient."""
        self._materialize_grads = bool(value)


def _positional_arguments(cls, args, kwargs):
    """Function.apply's keyword arguments moved to their positions in forward's signature, as
    PyTorch 2.13 does: each must name a positional parameter after ctx, and the positions up to
    the last one given must all be filled (defaults are forward's business, not apply's)."""
    parameters = list(inspect.signature(cls.forward).parameters.values())[1:]
    names = []
    for parameter in parameters:
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            break
        names.append(parameter.name if parameter.kind == parameter.POSITIONAL_OR_KEYWORD else None)
    missing = object()
    slots = list(args) + [missing] * max(0, len(names) - len(args))
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"[{cls.__name__}.apply] forward() got an unexpected keyword argument '{name}'")
        position = names.index(name)
        if position < len(args):
            raise TypeError(f"[{cls.__name__}.apply] forward() got multiple values for argument '{name}'")
        slots[position] = value
    while slots and slots[-1] is missing:
        slots.pop()
    for position, value in enumerate(slots):
        if value is missing:
            raise TypeError(f"[{cls.__name__}.apply] forward() missing required argument: '{names[position]}' "
                            f"(position {position})")
    return tuple(slots)


class Function:
    """Define an op by its forward and backward, as in PyTorch::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                (y,) = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)

    backward gets one gradient per forward output and returns one per forward argument (None for
    non-tensors and for inputs that need none).
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward(ctx, ...)")

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            args = _positional_arguments(cls, args, kwargs)
        ctx = FunctionCtx(tuple(isinstance(arg, _C.Tensor) and arg.requires_grad for arg in args))
        with no_grad():
            outputs = cls.forward(ctx, *args)
        if not (_C.is_grad_enabled() and any(ctx.needs_input_grad)):
            return outputs
        single = not isinstance(outputs, tuple)
        recorded, ctx._saved = _C._record_function(
            cls.backward, ctx, cls.__name__ + "Backward", args, (outputs,) if single else outputs, ctx.to_save,
            ctx._non_differentiable, ctx._dirty, ctx._materialize_grads)
        ctx.to_save = ctx._non_differentiable = ctx._dirty = ()
        return recorded[0] if single else recorded


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares autograd's gradients of fn at `inputs` with central finite differences (float64).

    Returns True, or raises a GradcheckError naming the input and the worst element (returns False
    instead with raise_exception=False).
    """
    return _gradcheck.gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the gradients themselves: checks the second derivatives autograd computes
    (create_graph=True) for fn at `inputs` against finite differences of its first derivatives.

    grad_outputs (one per output of fn) are the upstream gradients; random when None.
    """
    return _gradcheck.gradgradcheck(fn, inputs, grad_outputs=grad_outputs, eps=eps, atol=atol, rtol=rtol,
                                    raise_exception=raise_exception)
