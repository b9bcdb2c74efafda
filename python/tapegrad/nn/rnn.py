"""RNN, LSTM, GRU and their cells: PyTorch's arguments, parameter names, shapes, initialisation and
output conventions, over one fused C++ op per layer and direction (csrc/tapegrad/ops/recurrent.cpp).

Every layer runs on the packed layout (time steps one after another, step t the first
batch_sizes[t] sequences): a padded (T, B, *) input is T steps of B, and a PackedSequence runs as
it is, so padded steps are never computed and each sequence's final state is at its own last step.
"""
import math
import numbers
import warnings

from .. import _C
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_OPS = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}


def _permute(hidden, permutation):
    return hidden if permutation is None else hidden.index_select(1, permutation)


class RNNBase(Module):
    """The layers of RNN, LSTM and GRU: num_layers stacked, each one or two directions."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size != 0:
            raise NotImplementedError(f"[{_OPS[mode]}] proj_size is not implemented")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dtype = dtype or _C.get_default_dtype()
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input_size = input_size if layer == 0 else hidden_size * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input_size)), ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                names = []
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_C.empty(*shape, dtype=dtype, device=device)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every weight and bias, as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[weight_ih, weight_hh, bias_ih, bias_hh], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op kept for PyTorch code: the weights are used where they are."""

    def _expected_hidden_size(self, batch):
        return (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)

    def _check_hidden(self, hx, expected, message="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(message.format(expected, list(hx.shape)))

    def _check_input(self, input, batch_sizes):
        dtype = self.weight_ih_l0.dtype
        if input.dtype != dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({dtype}). Convert input: input.to({dtype}), or convert model: model.to({input.dtype})")
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]}")

    def _unbatched_error(self, input):
        name = type(self).__name__
        if name == "RNN":
            return ValueError(f"RNN: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
        return ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")

    def _layers(self, rows, batch_sizes, hx, cx):
        """Runs every layer and direction over the packed rows; returns (output rows, h_n, c_n)."""
        op, directions = _OPS[self.mode], 2 if self.bidirectional else 1
        hidden, cells = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = self.all_weights[index]
                if not self.bias:
                    weights = weights + [None, None]
                result = _C._recurrent_layer(op, rows, batch_sizes, hx[index], None if cx is None else cx[index],
                                             *weights, direction == 1)
                outputs.append(result[0])
                hidden.append(result[1])
                if cx is not None:
                    cells.append(result[2])
            rows = outputs[0] if directions == 1 else _C.cat(outputs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                rows = F.dropout(rows, self.dropout, True)
        return rows, _C.stack(hidden), _C.stack(cells) if cx is not None else None

    def _run(self, input, hx, cx):
        """The shared forward of RNN/GRU (cx None) and LSTM: returns (output, h_n, c_n)."""
        is_lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            rows, batch_sizes_tensor = input.data, input.batch_sizes
            batch_sizes = [int(size) for size in batch_sizes_tensor.tolist()]
            self._check_input(rows, batch_sizes)
            batch = batch_sizes[0] if batch_sizes else 0
            is_batched = True
            hx = None if hx is None else _permute(hx, input.sorted_indices)
            cx = None if cx is None else _permute(cx, input.sorted_indices)
        else:
            if input.dim() not in (2, 3):
                raise self._unbatched_error(input)
            batch_dim = 0 if self.batch_first else 1
            is_batched = input.dim() == 3
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                if hx is not None:
                    if hx.dim() != 2 or (is_lstm and cx.dim() != 2):
                        if is_lstm:
                            raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                               f"({hx.dim()}-D, {cx.dim()}-D) tensors")
                        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D "
                                           "tensor")
                    hx = hx.unsqueeze(1)
                    cx = None if cx is None else cx.unsqueeze(1)
            elif hx is not None and (hx.dim() != 3 or (is_lstm and cx.dim() != 3)):
                if is_lstm:
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                       f"({hx.dim()}-D, {cx.dim()}-D) tensors")
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            self._check_input(input, None)
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            rows = input.reshape(steps * batch, input.shape[2])
            batch_sizes = [batch] * steps if batch > 0 else []
        expected = self._expected_hidden_size(batch)
        if hx is None:
            hx = _C.zeros(*expected, dtype=rows.dtype, device=rows.device)
            cx = _C.zeros(*expected, dtype=rows.dtype, device=rows.device) if is_lstm else None
        elif is_lstm:
            self._check_hidden(hx, expected, "Expected hidden[0] size {}, got {}")
            self._check_hidden(cx, expected, "Expected hidden[1] size {}, got {}")
        else:
            self._check_hidden(hx, expected)
        output, h_n, c_n = self._layers(rows, batch_sizes, hx, cx)
        if isinstance(input, PackedSequence):
            output = input._with_data(output)
            h_n = _permute(h_n, input.unsorted_indices)
            c_n = None if c_n is None else _permute(c_n, input.unsorted_indices)
            return output, h_n, c_n
        output = output.view(steps, batch, output.shape[-1])
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return output, h_n, c_n

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), as torch.nn.RNN.

    forward(input, hx=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, h_n, _ = self._run(input, hx, None)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o as torch.nn.LSTM.

    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        h_0, c_0 = (None, None) if hx is None else hx
        output, h_n, c_n = self._run(input, h_0, c_0)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n as torch.nn.GRU.

    forward(input, hx=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, h_n, _ = self._run(input, hx, None)
        return output, h_n


class RNNCellBase(Module):
    """One time step of RNN, LSTM or GRU over a batch, with the layers' parameter shapes and init."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dtype = dtype or _C.get_default_dtype()
        self.weight_ih = Parameter(_C.empty(num_chunks * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(_C.empty(num_chunks * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(_C.empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(_C.empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every weight and bias, as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text

    def _step(self, mode, input, states):
        """One fused step: (h') or (h', c') for the batched (B, input_size) input and states (B, H)."""
        op = _OPS[mode] + "_cell"
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for k, state in enumerate(states):
            if state is not None and state.dim() != input.dim():
                raise RuntimeError(f"{type(self).__name__}: Expected hidden to be {input.dim()}D (as the input), got "
                                   f"{state.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
            states = [None if state is None else state.unsqueeze(0) for state in states]
        batch = input.shape[0]
        states = [_C.zeros(batch, self.hidden_size, dtype=input.dtype, device=input.device) if state is None
                  else state for state in states]
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"[{op}] input has inconsistent input_size: got {input.shape[1]} expected "
                               f"{self.input_size}")
        for k, state in enumerate(states):
            if state.shape[0] != batch:
                raise RuntimeError(f"[{op}] Input batch size {batch} doesn't match hidden{k} batch size "
                                   f"{state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"[{op}] hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected "
                                   f"{self.hidden_size}")
        cell = states[1] if len(states) > 1 else None
        result = _C._recurrent_layer(_OPS[mode], input, [batch] if batch > 0 else [], states[0], cell,
                                     self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, False)
        new_states = result[1:]
        if not is_batched:
            new_states = [state.squeeze(0) for state in new_states]
        return new_states


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), as torch.nn.RNNCell."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._step("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, [hx])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)=None) -> (h', c'), as torch.nn.LSTMCell."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        h, c = self._step("LSTM", input, [None, None] if hx is None else list(hx))
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step: forward(input, h=None) -> h', as torch.nn.GRUCell."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, [hx])[0]
