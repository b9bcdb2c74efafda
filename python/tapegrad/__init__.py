"""tapegrad: a small, fast tensor runtime with reverse-mode autograd.

The tensor, its ops and the autograd engine live in the C++ extension `tapegrad._C`; this package
re-exports them under PyTorch's names and adds the pure-Python layers (nn, optim, data).
"""
from . import _C
from ._C import (  # noqa: F401  (the public surface)
    Tensor,
    bool,
    float32,
    float64,
    int32,
    int64,
    dtype,
    device,
    get_default_dtype,
    set_default_dtype,
    get_num_threads,
    set_num_threads,
    manual_seed,
    initial_seed,
    is_grad_enabled,
    from_numpy,
)
from ._tensor import Size, tensor
from .autograd import no_grad, enable_grad, inference_mode, set_grad_enabled
from . import autograd, cuda, datasets, distributed, profiler, utils, viz
from . import nn, optim
from .serialization import load, save

float = float32
double = float64
long = int64
int = int32

__version__ = "0.1.0"


def _export_c_functions():
    """Every public function of the extension becomes tapegrad.<name>."""
    namespace = globals()
    for name in dir(_C):
        if not name.startswith("_") and name not in namespace:
            namespace[name] = getattr(_C, name)


_export_c_functions()
