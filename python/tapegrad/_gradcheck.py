"""Finite-difference checking of autograd's gradients (float64), as torch.autograd.gradcheck."""
import numpy as np

from . import _C


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one."""


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _evaluate(fn, inputs):
    with_grad = [out for out in _as_tuple(fn(*inputs)) if isinstance(out, _C.Tensor)]
    return [out.detach().numpy().astype(np.float64).ravel().copy() for out in with_grad]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compares the Jacobian autograd computes for fn at `inputs` with central differences.

    Every tensor input that requires grad must be float64 (finite differences in float32 are too
    coarse to judge anything). Returns True or raises GradcheckError naming the output, the input,
    the worst element and both values.
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, _C.Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("[gradcheck] no input requires grad")
    for i in checked:
        if inputs[i].dtype != _C.float64:
            raise TypeError(f"[gradcheck] input {i} is {inputs[i].dtype!r}; gradcheck needs float64 inputs")

    outputs = [out for out in _as_tuple(fn(*inputs)) if isinstance(out, _C.Tensor) and out.requires_grad]
    for out_index, output in enumerate(outputs):
        # Analytical Jacobian, one row per output element.
        analytical = {i: np.zeros((output.numel(), inputs[i].numel())) for i in checked}
        for k in range(output.numel()):
            seed = np.zeros(output.numel(), dtype=np.float64)
            seed[k] = 1.0
            grads = _C._grad([output], [inputs[i] for i in checked],
                             [_C.from_numpy(seed.reshape(tuple(output.shape)))], True, False, True)
            for i, grad in zip(checked, grads):
                if grad is not None:
                    analytical[i][k] = grad.detach().numpy().ravel()
        # Numerical Jacobian by central differences, perturbing the input's memory directly.
        for i in checked:
            values = inputs[i].detach().numpy()
            numerical = np.zeros_like(analytical[i])
            for j, index in enumerate(np.ndindex(values.shape)):
                original = values[index]
                values[index] = original + eps
                plus = _evaluate(fn, inputs)[out_index]
                values[index] = original - eps
                minus = _evaluate(fn, inputs)[out_index]
                values[index] = original
                numerical[:, j] = (plus - minus) / (2 * eps)
            error = np.abs(analytical[i] - numerical) - (atol + rtol * np.abs(numerical))
            if error.size and error.max() > 0:
                row, column = np.unravel_index(np.argmax(error), error.shape)
                raise GradcheckError(
                    f"[gradcheck] Jacobian mismatch for output {out_index} with respect to input {i}: at output "
                    f"element {row}, input element {column}, numerical {numerical[row, column]:.10g} vs analytical "
                    f"{analytical[i][row, column]:.10g} (atol={atol}, rtol={rtol})"
                )
    return True
