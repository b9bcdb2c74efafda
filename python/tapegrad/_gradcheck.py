"""Finite-difference checking of autograd's gradients (float64), as torch.autograd.gradcheck and
gradgradcheck."""
import numpy as np

from . import _C


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one."""


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _differentiable_outputs(fn, inputs):
    return [out for out in _as_tuple(fn(*inputs)) if isinstance(out, _C.Tensor) and out.requires_grad]


def _floating_outputs(fn, inputs):
    return [out for out in _as_tuple(fn(*inputs)) if isinstance(out, _C.Tensor) and out.is_floating_point()]


def _check_inputs(inputs):
    """The indices of the inputs to check: those that require grad, which must be float64."""
    checked = [i for i, x in enumerate(inputs) if isinstance(x, _C.Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("[gradcheck] no input requires grad")
    for i in checked:
        if inputs[i].dtype != _C.float64:
            raise TypeError(f"[gradcheck] input {i} is {inputs[i].dtype!r}; gradcheck needs float64 inputs")
    return checked


def _analytical_jacobians(output, inputs, checked):
    """d output / d inputs[i] for each checked i, one row per output element, by backward."""
    jacobians = {i: np.zeros((output.numel(), inputs[i].numel())) for i in checked}
    for k in range(output.numel()):
        seed = np.zeros(output.numel(), dtype=np.float64)
        seed[k] = 1.0
        grads = _C._grad([output], [inputs[i] for i in checked],
                         [_C.from_numpy(seed.reshape(tuple(output.shape)))], True, False, True)
        for i, grad in zip(checked, grads):
            if grad is not None:
                jacobians[i][k] = grad.detach().numpy().ravel()
    return jacobians


def _numerical_jacobian(fn, inputs, i, out_index, rows, eps):
    """d output / d inputs[i] (`rows` output elements) by central differences, perturbing the
    input's memory in place."""
    values = inputs[i].detach().numpy()
    columns = []
    for index in np.ndindex(values.shape):
        original = values[index]
        values[index] = original + eps
        plus = _floating_outputs(fn, inputs)[out_index].detach().numpy().astype(np.float64).ravel()
        values[index] = original - eps
        minus = _floating_outputs(fn, inputs)[out_index].detach().numpy().astype(np.float64).ravel()
        values[index] = original
        with np.errstate(invalid="ignore"):
            columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((rows, 0))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares the Jacobian autograd computes for fn at `inputs` with central differences.

    Every tensor input that requires grad must be float64 (finite differences in float32 are too
    coarse to judge anything). A floating output that does not require grad must not depend on
    the inputs. Returns True; on a mismatch raises GradcheckError naming the output, the input,
    the worst element and both values, or returns False if raise_exception is False.
    """
    inputs = _as_tuple(inputs)
    checked = _check_inputs(inputs)
    for out_index, output in enumerate(_floating_outputs(fn, inputs)):
        analytical = _analytical_jacobians(output, inputs, checked) if output.requires_grad else None
        for i in checked:
            numerical = _numerical_jacobian(fn, inputs, i, out_index, output.numel(), eps)
            ours = analytical[i] if analytical is not None else np.zeros_like(numerical)
            # Not close, nan anywhere included; the worst is the one furthest outside the tolerance.
            bad = ~np.isclose(ours, numerical, rtol=rtol, atol=atol)
            if not bad.any():
                continue
            if not raise_exception:
                return False
            with np.errstate(invalid="ignore"):
                error = np.abs(ours - numerical) - (atol + rtol * np.abs(numerical))
            error = np.where(bad, np.nan_to_num(error, nan=np.inf), -np.inf)
            row, column = np.unravel_index(np.argmax(error), error.shape)
            what = (f"Jacobian mismatch for output {out_index} with respect to input {i}" if analytical is not None
                    else f"output {out_index} does not require grad, yet depends on input {i}")
            raise GradcheckError(
                f"[gradcheck] {what}: at output element {row}, input element {column}, numerical "
                f"{numerical[row, column]:.10g} vs analytical {ours[row, column]:.10g} (atol={atol}, rtol={rtol})"
            )
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the first derivatives: the vector-Jacobian product of fn at `inputs` with
    `grad_outputs` (random float64 ones requiring grad when None), taken with create_graph=True, is
    checked with respect to both the inputs and the grad_outputs."""
    inputs = _as_tuple(inputs)
    checked = _check_inputs(inputs)
    outputs = _differentiable_outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _C.from_numpy(rng.standard_normal(tuple(out.shape))).requires_grad_() for out in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def first_derivatives(*arguments):
        xs, seeds = arguments[:count], arguments[count:]
        grads = _C._grad(_differentiable_outputs(fn, xs), [xs[i] for i in checked], list(seeds), True, True, True)
        return tuple(grad for grad in grads if grad is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
