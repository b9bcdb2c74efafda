"""The activation modules of tapegrad.nn beyond ReLU, Sigmoid and Tanh (layers.py): each a thin Module
over its functional form, with PyTorch's arguments, defaults, attributes and repr."""
from . import functional as F
from .module import Module


def _inplace_repr(inplace, prefix=""):
    """PyTorch's extra_repr tail for modules with inplace=."""
    if not inplace:
        return prefix
    return f"{prefix}, inplace=True" if prefix else "inplace=True"


class GELU(Module):
    """x * Phi(x), as torch.nn.GELU (approximate="none" exact, "tanh" PyTorch's tanh approximation)."""
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x), as torch.nn.SiLU."""
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Mish(SiLU):
    """x * tanh(softplus(x)), as torch.nn.Mish."""
    def forward(self, input):
        return F.mish(input, inplace=self.inplace)


class Hardsigmoid(SiLU):
    """min(max(x + 3, 0), 6) / 6, as torch.nn.Hardsigmoid."""
    def forward(self, input):
        return F.hardsigmoid(input, inplace=self.inplace)

    def extra_repr(self):
        return ""


class Hardswish(Hardsigmoid):
    """x * hardsigmoid(x), as torch.nn.Hardswish."""
    def forward(self, input):
        return F.hardswish(input, inplace=self.inplace)


class SELU(SiLU):
    """scale * elu(x, alpha) with SELU's constants, as torch.nn.SELU."""
    def forward(self, input):
        return F.selu(input, inplace=self.inplace)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise, as torch.nn.LeakyReLU."""
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace, f"negative_slope={self.negative_slope}")


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise, as torch.nn.ELU."""
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), as torch.nn.CELU."""
    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta (x itself above threshold), as torch.nn.Softplus."""
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """input clamped to [min_val, max_val], as torch.nn.Hardtanh."""
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:  # an AssertionError, as PyTorch's
            raise AssertionError(f"[Hardtanh] max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace, f"min_val={self.min_val}, max_val={self.max_val}")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6), as torch.nn.ReLU6 (a Hardtanh from 0 to 6)."""
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class LogSigmoid(Module):
    """log(sigmoid(x)), as torch.nn.LogSigmoid."""
    def forward(self, input):
        return F.logsigmoid(input)


class GLU(Module):
    """a * sigmoid(b) for the halves a, b of the input along dim, as torch.nn.GLU."""
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softsign(Module):
    """x / (1 + |x|), as torch.nn.Softsign."""
    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """x - tanh(x), as torch.nn.Tanhshrink."""
    def forward(self, input):
        return F.tanhshrink(input)
