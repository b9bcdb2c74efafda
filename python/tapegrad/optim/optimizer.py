"""Optimizer: parameter groups, per-parameter state and its state_dict, as torch.optim.Optimizer."""
import contextlib
import copy
from collections import defaultdict

from .. import _C
from ..autograd import enable_grad, no_grad
from ..nn.module import zero_grads


def _check_adam_arguments(lr, betas, eps, weight_decay):
    """The argument checks Adam, AdamW, Adamax and NAdam share, in torch's order and with torch's messages (the
    tests compare the messages with torch's)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _step_range(optimizer):
    """The profiler's range for one step, named as PyTorch names it ("Optimizer.step#SGD.step")."""
    if not _C._profiler_enabled():
        return contextlib.nullcontext()
    from ..profiler import record_function
    return record_function(f"Optimizer.step#{type(optimizer).__name__}.step")


class Optimizer:
    """Holds param_groups (each a dict of 'params' and hyper-parameters) and state keyed by param.

    Subclasses implement _update(group) for the parameters of one group that have a gradient.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, _C.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}"
            for key in sorted(group):
                if key != "params":
                    text += f"\n    {key}: {group[key]}"
        return text + "\n)"

    def add_param_group(self, param_group):
        """Adds a parameter group (a dict with "params" and options), as PyTorch."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, _C.Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for param in param_group["params"]:
            if not isinstance(param, _C.Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Clears the gradients of every parameter (set_to_none=True sets them to None, as PyTorch)."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; `closure` re-evaluates the loss."""
        self._opt_called = True  # lets an lr scheduler warn when it is stepped before the optimizer
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad(), _step_range(self):
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group):
        raise NotImplementedError

    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]} with tensors cloned."""
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            groups.append(packed)
        state = {}
        for param, values in self.state.items():
            state[index_of[id(param)]] = {key: value.clone() if isinstance(value, _C.Tensor) else copy.deepcopy(value)
                                          for key, value in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores state and hyper-parameters saved by state_dict() for the same parameter layout."""
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = {index: param for g, s in zip(groups, saved_groups) for index, param in zip(s["params"], g["params"])}
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in param_of:
                continue
            param = param_of[index]
            restored = {}
            for key, value in values.items():
                if isinstance(value, _C.Tensor):
                    # The step count keeps its dtype; moments follow the parameter's.
                    value = value.clone() if key == "step" else value.to(param.dtype, copy=True)
                else:
                    value = copy.deepcopy(value)
                restored[key] = value
            self.state[param] = restored
        self.param_groups = [dict(saved, params=group["params"]) for group, saved in zip(groups, saved_groups)]
