"""Parameter: a tensor that a Module registers as one of its parameters."""
from .. import _C


class Parameter(_C.Tensor):
    """A leaf tensor sharing `data`'s memory that requires grad by default, as torch.nn.Parameter.

    Assigning one as a Module attribute registers it in the module's parameters().
    """

    def __init__(self, data=None, requires_grad=True):
        if data is not None and not isinstance(data, _C.Tensor):
            raise TypeError(f"[Parameter] expected a tensor, got {type(data).__name__}")
        # The C++ constructor aliases data (a detached view of the same storage), so the new
        # object is a leaf with no history.
        _C.Tensor.__init__(self, data)
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + _C.Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = Parameter(self.detach().clone(), self.requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach().numpy().copy(), self.requires_grad))


def _rebuild_parameter(array, requires_grad):
    return Parameter(_C.from_numpy(array), requires_grad)
