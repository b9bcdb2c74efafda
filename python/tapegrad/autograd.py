"""Autograd from Python: grad mode, backward/grad, and user-defined Functions.

The engine itself is C++ (csrc/tapegrad/autograd); this module is its Python face.
"""
import functools

from . import _C

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "Function", "gradcheck"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulates gradients of `tensors` into the .grad of the leaves they depend on."""
    _C._backward(tensors, grad_tensors, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Returns the gradients of `outputs` with respect to `inputs` (a tuple), touching no .grad."""
    return _C._grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)


class _GradModeContext:
    """A context manager that is also a decorator, restoring the previous mode on exit (per thread)."""

    enabled = None

    def __enter__(self):
        self._previous = _C.is_grad_enabled()
        _C._set_grad_enabled(self.enabled)
        return self

    def __exit__(self, *exc_info):
        _C._set_grad_enabled(self._previous)
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Ops inside record nothing on the tape."""

    enabled = False


class enable_grad(_GradModeContext):
    """Turns recording back on inside a no_grad block."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(False) as a function call, context manager or decorator."""

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._previous = _C.is_grad_enabled()
        _C._set_grad_enabled(self.enabled)

    def __enter__(self):
        return self

    def __call__(self, function):
        mode = self.enabled
        _C._set_grad_enabled(self._previous)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        return wrapper


class FunctionCtx:
    """The `ctx` a Function's forward and backward share. Any attribute may be set on it."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = None
        self._saved_versions = None
        self._released = False

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._saved_versions = tuple(t._version if isinstance(t, _C.Tensor) else None for t in tensors)

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                "[Function] trying to backward through the graph a second time (or to read saved tensors after "
                "they were freed); pass retain_graph=True to the first backward if you need to do this"
            )
        if self._saved is None:
            return ()
        for index, (tensor, version) in enumerate(zip(self._saved, self._saved_versions)):
            if version is not None and tensor._version != version:
                raise RuntimeError(
                    f"[Function] saved tensor {index} has been modified by an in-place operation: it is at version "
                    f"{tensor._version}; expected version {version} instead"
                )
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Accepted for compatibility; integer outputs are never differentiable here anyway."""

    def _release(self):
        self._saved = None
        self._released = True


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
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward(ctx, ...)")

    @classmethod
    def apply(cls, *args):
        needs_input_grad = tuple(isinstance(arg, _C.Tensor) and arg.requires_grad for arg in args)
        ctx = FunctionCtx(needs_input_grad)
        with no_grad():
            outputs = cls.forward(ctx, *args)
        if not (_C.is_grad_enabled() and any(needs_input_grad)):
            return outputs
        single = not isinstance(outputs, tuple)
        recorded = _C._record_function(
            functools.partial(cls.backward), ctx, cls.__name__ + "Backward", args, (outputs,) if single else outputs
        )
        return recorded[0] if single else recorded


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compares autograd's gradients of fn at `inputs` with central finite differences (float64).

    Returns True, or raises a GradcheckError naming the input and the worst element.
    """
    from ._gradcheck import gradcheck as _gradcheck

    return _gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
