"""Recurrent layers and cells against PyTorch: nn.RNN / LSTM / GRU (layers, directions, batch_first,
initial states, packed sequences), the cells, nn.utils.rnn, gradcheck, errors, and course programs
in the shape of PyTorchZeroToAll's lectures 12 and 13 written once for both libraries."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import TOLERANCES, TORCH_DTYPES, assert_close

LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]


def module_pair(name, dtype, *args, **kwargs):
    """The same module in both libraries, tapegrad's holding torch's initial weights."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(TORCH_DTYPES[dtype])
    ours = getattr(tg.nn, name)(*args, **kwargs, dtype=dtype)
    ours.load_state_dict({key: tg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    return ours, theirs


def leaf_pair(array, transposed=False):
    """tapegrad and torch leaves holding `array`; transposed: each a non-contiguous view of it."""
    def make(lib):
        if transposed:
            base = lib.tensor(np.ascontiguousarray(array.swapaxes(0, -1)), requires_grad=True)
            return base, base.transpose(0, -1)
        base = lib.tensor(array, requires_grad=True)
        return base, base
    return make(tg), make(torch)


def flat_outputs(result):
    """The tensors of an RNN result: (output, h_n) or (output, (h_n, c_n)), output maybe packed."""
    output, state = result
    if hasattr(output, "batch_sizes"):
        output = output.data
    states = state if isinstance(state, tuple) else (state,)
    return [output, *states]


def compare_backward(ours, theirs, our_leaves, their_leaves, our_module, their_module, dtype, what):
    atol, rtol = TOLERANCES[dtype]
    atol, rtol = atol * 10, rtol * 10  # a step's error compounds over the sequence
    rng = np.random.default_rng(1)
    our_loss, their_loss = 0, 0
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a, b, atol, rtol, f"{what}: output {index}")
        upstream = rng.uniform(-1, 1, size=tuple(b.shape)).astype(b.detach().numpy().dtype)
        our_loss = our_loss + (a * tg.tensor(upstream)).sum()
        their_loss = their_loss + (b * torch.tensor(upstream)).sum()
    our_loss.backward()
    their_loss.backward()
    for index, (a, b) in enumerate(zip(our_leaves, their_leaves)):
        assert_close(a.grad, b.grad, atol, rtol, f"{what}: gradient of input {index}")
    for name, parameter in their_module.named_parameters():
        assert_close(dict(our_module.named_parameters())[name].grad, parameter.grad, atol, rtol,
                     f"{what}: gradient of {name}")


CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(batch_first=True, bias=False),
]


@pytest.mark.parametrize("name,options", LAYERS)
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_matches_torch(name, options, config, dtype, with_state):
    ours, theirs = module_pair(name, dtype, 3, 4, **options, **config)
    steps, batch = 5, 2
    shape = (batch, steps, 3) if config.get("batch_first") else (steps, batch, 3)
    rng = np.random.default_rng(0)
    np_dtype = np.float32 if dtype == tg.float32 else np.float64
    (our_base, our_input), (their_base, their_input) = leaf_pair(rng.normal(size=shape).astype(np_dtype),
                                                                 transposed=with_state)
    our_leaves, their_leaves = [our_base], [their_base]
    our_args, their_args = [our_input], [their_input]
    if with_state:
        layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
        states = [rng.normal(size=(layers, batch, 4)).astype(np_dtype) for _ in range(2 if name == "LSTM" else 1)]
        pairs = [leaf_pair(state) for state in states]
        our_states = [pair[0][1] for pair in pairs]
        their_states = [pair[1][1] for pair in pairs]
        our_leaves += our_states
        their_leaves += their_states
        our_args.append(tuple(our_states) if name == "LSTM" else our_states[0])
        their_args.append(tuple(their_states) if name == "LSTM" else their_states[0])
    compare_backward(flat_outputs(ours(*our_args)), flat_outputs(theirs(*their_args)), our_leaves, their_leaves,
                     ours, theirs, dtype, f"{name}{options} {config}")


@pytest.mark.parametrize("name,options", LAYERS)
def test_layer_unbatched_input(name, options):
    ours, theirs = module_pair(name, tg.float64, 3, 4, num_layers=2, bidirectional=True, **options)
    array = np.random.default_rng(0).normal(size=(6, 3))
    (our_base, our_input), (their_base, their_input) = leaf_pair(array)
    compare_backward(flat_outputs(ours(our_input)), flat_outputs(theirs(their_input)), [our_base], [their_base],
                     ours, theirs, tg.float64, name)


@pytest.mark.parametrize("name,options", CELLS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(name, options, dtype, batched, with_state, bias):
    ours, theirs = module_pair(name, dtype, 3, 4, bias=bias, **options)
    rng = np.random.default_rng(0)
    np_dtype = np.float32 if dtype == tg.float32 else np.float64
    batch_shape = (2,) if batched else ()
    (our_base, our_input), (their_base, their_input) = leaf_pair(rng.normal(size=batch_shape + (3,)).astype(np_dtype))
    our_leaves, their_leaves, our_args, their_args = [our_base], [their_base], [our_input], [their_input]
    if with_state:
        pairs = [leaf_pair(rng.normal(size=batch_shape + (4,)).astype(np_dtype))
                 for _ in range(2 if name == "LSTMCell" else 1)]
        our_states, their_states = [pair[0][1] for pair in pairs], [pair[1][1] for pair in pairs]
        our_leaves += our_states
        their_leaves += their_states
        our_args.append(tuple(our_states) if name == "LSTMCell" else our_states[0])
        their_args.append(tuple(their_states) if name == "LSTMCell" else their_states[0])
    our_result, their_result = ours(*our_args), theirs(*their_args)
    our_outputs = list(our_result) if isinstance(our_result, tuple) else [our_result]
    their_outputs = list(their_result) if isinstance(their_result, tuple) else [their_result]
    compare_backward(our_outputs, their_outputs, our_leaves, their_leaves, ours, theirs, dtype, name)


def test_cell_steps_chain_like_a_layer():
    """An LSTMCell stepped over a sequence gives the LSTM's output, as in PyTorch."""
    cell, theirs = module_pair("LSTMCell", tg.float64, 3, 4)
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    h, c = None, None
    our_state, their_state = None, None
    for t in range(5):
        our_state = cell(tg.tensor(x[t]), our_state)
        their_state = theirs(torch.tensor(x[t]), their_state)
        h, c = our_state
    assert_close(h, their_state[0], 1e-10, 1e-8)
    assert_close(c, their_state[1], 1e-10, 1e-8)


# ---- packed sequences -----------------------------------------------------------------------

LENGTHS = [5, 3, 3, 1]


def padded_batch(lengths, features, batch_first=False, seed=0):
    rng = np.random.default_rng(seed)
    array = rng.normal(size=(max(lengths), len(lengths), features))
    for b, length in enumerate(lengths):
        array[length:, b] = 0.0
    return array.swapaxes(0, 1).copy() if batch_first else array


@pytest.mark.parametrize("name,options", LAYERS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequence_matches_torch(name, options, enforce_sorted, batch_first):
    lengths = LENGTHS if enforce_sorted else [3, 5, 1, 3]
    ours, theirs = module_pair(name, tg.float64, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first,
                               **options)
    (our_base, our_input), (their_base, their_input) = leaf_pair(padded_batch(lengths, 3, batch_first))
    our_packed = tg.nn.utils.rnn.pack_padded_sequence(our_input, lengths, batch_first=batch_first,
                                                      enforce_sorted=enforce_sorted)
    their_packed = torch.nn.utils.rnn.pack_padded_sequence(their_input, lengths, batch_first=batch_first,
                                                           enforce_sorted=enforce_sorted)
    assert our_packed.batch_sizes.tolist() == their_packed.batch_sizes.tolist()
    our_result, their_result = ours(our_packed), theirs(their_packed)
    assert_close(tg.nn.utils.rnn.pad_packed_sequence(our_result[0], batch_first=batch_first)[0],
                 torch.nn.utils.rnn.pad_packed_sequence(their_result[0], batch_first=batch_first)[0], 1e-10, 1e-8)
    compare_backward(flat_outputs(our_result), flat_outputs(their_result), [our_base], [their_base], ours, theirs,
                     tg.float64, f"packed {name}")


def test_packed_sequence_with_initial_state():
    ours, theirs = module_pair("LSTM", tg.float64, 3, 4, bidirectional=True)
    lengths = [2, 4, 1]
    rng = np.random.default_rng(3)
    h0, c0 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    array = padded_batch(lengths, 3)
    our = ours(tg.nn.utils.rnn.pack_padded_sequence(tg.tensor(array), lengths, enforce_sorted=False),
               (tg.tensor(h0), tg.tensor(c0)))
    their = theirs(torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(array), lengths, enforce_sorted=False),
                   (torch.tensor(h0), torch.tensor(c0)))
    for a, b in zip(flat_outputs(our), flat_outputs(their)):
        assert_close(a, b, 1e-10, 1e-8)


def test_pack_and_pad_utilities_match_torch():
    lengths = [2, 4, 1]
    array = padded_batch(lengths, 2, batch_first=True)
    for lib in (tg, torch):
        lib.manual_seed(0)
    ours = tg.nn.utils.rnn.pack_padded_sequence(tg.tensor(array, requires_grad=True), lengths, batch_first=True,
                                                enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(array, requires_grad=True), lengths,
                                                     batch_first=True, enforce_sorted=False)
    assert_close(ours.data, theirs.data, 0, 0)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(ours, field).tolist() == getattr(theirs, field).tolist(), field
    for batch_first in (False, True):
        for total_length in (None, 6):
            padded, lengths_out = tg.nn.utils.rnn.pad_packed_sequence(ours, batch_first, -1.0, total_length)
            expected, expected_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, -1.0,
                                                                                total_length)
            assert_close(padded, expected, 0, 0)
            assert lengths_out.tolist() == expected_lengths.tolist()
    sequences = [np.random.default_rng(k).normal(size=(n, 3)) for k, n in enumerate((3, 1, 4))]
    for batch_first in (False, True):
        for side in ("right", "left"):
            assert_close(tg.nn.utils.rnn.pad_sequence([tg.tensor(s) for s in sequences], batch_first, 7.0, side),
                         torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in sequences], batch_first, 7.0,
                                                         side), 0, 0)
    packed = tg.nn.utils.rnn.pack_sequence([tg.tensor(s) for s in sequences], enforce_sorted=False)
    expected = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in sequences], enforce_sorted=False)
    assert_close(packed.data, expected.data, 0, 0)
    for ours_seq, source in zip(tg.nn.utils.rnn.unpack_sequence(packed), sequences):
        assert_close(ours_seq, source, 0, 0)
    assert isinstance(tg.nn.utils.rnn.PackedSequence(ours.data, ours.batch_sizes), tuple)


def test_packing_is_differentiable():
    lengths = [3, 2]
    array = padded_batch(lengths, 2)
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(array, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths)
        padded, _ = lib.nn.utils.rnn.pad_packed_sequence(packed._replace(data=packed.data * 3.0))
        (padded * lib.tensor(np.arange(padded.numel()).reshape(padded.shape).astype(np.float64))).sum().backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1], 0, 0)


def test_pack_errors_match_torch():
    x = np.zeros((3, 2, 1))
    for lengths, options in [([1, 2], {}), ([2, 0], {}), ([2], {})]:
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, **options)
        with pytest.raises(RuntimeError) as ours:
            tg.nn.utils.rnn.pack_padded_sequence(tg.tensor(x), lengths, **options)
        assert str(theirs.value).split(".")[0][:40] in str(ours.value)


# ---- gradcheck, errors, module surface --------------------------------------------------------

@pytest.mark.parametrize("mode,gates", [("rnn_tanh", 1), ("rnn_relu", 1), ("lstm", 4), ("gru", 3)])
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_op_gradcheck(mode, gates, reverse):
    rng = np.random.default_rng(0)
    hidden, features, batch_sizes = 3, 2, [3, 2, 2, 1]

    def leaf(*shape):
        return tg.tensor(rng.uniform(-1, 1, size=shape), dtype=tg.float64, requires_grad=True)

    inputs = [leaf(sum(batch_sizes), features), leaf(3, hidden), leaf(3, hidden), leaf(gates * hidden, features),
              leaf(gates * hidden, hidden), leaf(gates * hidden), leaf(gates * hidden)]
    if mode == "rnn_relu":  # keep the pre-activations away from relu's kink
        inputs[5] = tg.tensor(np.full(gates * hidden, 2.0), requires_grad=True)

    def layer(x, h, c, w_ih, w_hh, b_ih, b_hh):
        result = tg._C._recurrent_layer(mode, x, batch_sizes, h, c if mode == "lstm" else None, w_ih, w_hh, b_ih,
                                        b_hh, reverse)
        return tuple(result)

    assert tg.autograd.gradcheck(layer, inputs)


def test_module_gradcheck_bidirectional_two_layers():
    model = tg.nn.GRU(2, 3, num_layers=2, bidirectional=True, dtype=tg.float64)
    x = tg.tensor(np.random.default_rng(0).normal(size=(4, 2, 2)), requires_grad=True)
    h0 = tg.tensor(np.random.default_rng(1).normal(size=(4, 2, 3)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, h: model(x, h), [x, h0])


def test_node_names_and_no_double_backward():
    for name, node in [("RNN", "RnnTanhBackward0"), ("LSTM", "LstmBackward0"), ("GRU", "GruBackward0")]:
        model = getattr(tg.nn, name)(2, 3)
        output, _ = model(tg.randn(4, 1, 2))
        assert output.grad_fn.next_functions[0][0].name() == node
    model = tg.nn.RNN(2, 3, nonlinearity="relu")
    output, _ = model(tg.randn(4, 1, 2))
    assert output.grad_fn.next_functions[0][0].name() == "RnnReluBackward0"
    (grad,) = tg.autograd.grad(output.sum(), [model.weight_ih_l0], create_graph=False)
    assert tuple(grad.shape) == (3, 2)
    with pytest.raises(NotImplementedError, match="double backward"):
        tg.autograd.grad(output.sum(), [model.weight_ih_l0], create_graph=True)


def raises_like_torch(our_call, their_call):
    with pytest.raises(Exception) as theirs:
        their_call()
    with pytest.raises(type(theirs.value)) as ours:
        our_call()
    return str(ours.value), str(theirs.value)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_layer_errors_match_torch(name):
    ours, theirs = module_pair(name, tg.float32, 3, 4, num_layers=2)
    lstm = name == "LSTM"

    def state(lib, shape):
        return (lib.zeros(*shape), lib.zeros(*shape)) if lstm else lib.zeros(*shape)

    cases = [
        lambda lib, m: m(lib.zeros(5, 2, 7)),  # input size
        lambda lib, m: m(lib.zeros(5, 2, 3), state(lib, (2, 3, 4))),  # hidden batch
        lambda lib, m: m(lib.zeros(5, 2, 3), state(lib, (1, 2, 4))),  # hidden layers
        lambda lib, m: m(lib.zeros(5, 2, 3), state(lib, (2, 2, 5))),  # hidden size
        lambda lib, m: m(lib.zeros(5, 2, 3, 1)),  # 4-D input
        lambda lib, m: m(lib.zeros(5, 3), state(lib, (2, 1, 4))),  # unbatched input, 3-D state
        lambda lib, m: m(lib.zeros(5, 2, 3, dtype=lib.float64)),  # dtype
    ]
    for case in cases:
        our_message, their_message = raises_like_torch(lambda: case(tg, ours), lambda: case(torch, theirs))
        assert their_message.split(" (")[0].split(".")[0].replace("torch.", "") in our_message.replace(
            "tapegrad.", "")


def test_layer_op_errors_name_the_op_and_shapes():
    w_ih, w_hh = tg.zeros(12, 3), tg.zeros(12, 3)
    with pytest.raises(RuntimeError, match=r"\[lstm\] Expected hidden size \(2, 3\), got \(3, 3\)"):
        tg._C._recurrent_layer("lstm", tg.zeros(4, 3), [2, 2], tg.zeros(3, 3), tg.zeros(2, 3), w_ih, w_hh, None,
                               None, False)
    with pytest.raises(RuntimeError, match=r"\[lstm\] input.size\(-1\) must be equal to input_size. Expected 3, got 5"):
        tg._C._recurrent_layer("lstm", tg.zeros(4, 5), [2, 2], tg.zeros(2, 3), tg.zeros(2, 3), w_ih, w_hh, None,
                               None, False)
    with pytest.raises(RuntimeError, match=r"\[gru\] expected weight_ih and weight_hh with 9 rows"):
        tg._C._recurrent_layer("gru", tg.zeros(4, 3), [4], tg.zeros(4, 3), None, tg.zeros(9, 3), w_hh, None,
                               None, False)
    with pytest.raises(RuntimeError, match=r"\[rnn_tanh\] batch_sizes must be positive and non-increasing"):
        tg._C._recurrent_layer("rnn_tanh", tg.zeros(4, 3), [1, 3], tg.zeros(1, 1), None, tg.zeros(1, 3),
                               tg.zeros(1, 1), None, None, False)
    with pytest.raises(ValueError, match="unknown recurrent mode"):
        tg._C._recurrent_layer("elman", tg.zeros(4, 3), [4], tg.zeros(4, 4), None, w_ih, w_hh, None, None, False)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_errors_match_torch(name):
    ours, theirs = module_pair(name, tg.float32, 3, 4)
    lstm = name == "LSTMCell"

    def state(lib, shape):
        return (lib.zeros(*shape), lib.zeros(*shape)) if lstm else lib.zeros(*shape)

    cases = [
        lambda lib, m: m(lib.zeros(2, 5)),
        lambda lib, m: m(lib.zeros(2, 3), state(lib, (3, 4))),
        lambda lib, m: m(lib.zeros(2, 3), state(lib, (2, 5))),
        lambda lib, m: m(lib.zeros(2, 3, 3)),
    ]
    for case in cases:
        our_message, their_message = raises_like_torch(lambda: case(tg, ours), lambda: case(torch, theirs))
        assert their_message in our_message


def test_constructor_errors_and_warnings_match_torch():
    for kwargs in [dict(hidden_size=0), dict(dropout=2.0), dict(num_layers=0), dict(nonlinearity="sigmoid")]:
        args = dict(input_size=3, hidden_size=4)
        args.update(kwargs)
        our_message, their_message = raises_like_torch(lambda: tg.nn.RNN(**args), lambda: torch.nn.RNN(**args))
        assert our_message == their_message
    with pytest.warns(UserWarning, match="dropout option adds dropout after all but last recurrent layer"):
        tg.nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("name,kwargs", [("RNN", dict(num_layers=2, bidirectional=True, bias=False)),
                                         ("LSTM", dict(num_layers=3, batch_first=True, dropout=0.1)),
                                         ("GRU", dict(bidirectional=True)), ("RNNCell", dict(nonlinearity="relu")),
                                         ("LSTMCell", dict(bias=False)), ("GRUCell", {})])
def test_parameters_names_shapes_init_and_repr_match_torch(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = getattr(tg.nn, name)(5, 6, **kwargs), getattr(torch.nn, name)(5, 6, **kwargs)
    our_parameters, their_parameters = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(our_parameters) == list(their_parameters)
    for key, parameter in their_parameters.items():
        assert tuple(our_parameters[key].shape) == tuple(parameter.shape), key
        values = our_parameters[key].detach().numpy()
        assert np.abs(values).max() <= 1 / np.sqrt(6) and np.abs(values).max() > 0.5 / np.sqrt(6), key
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    if hasattr(theirs, "all_weights"):
        assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == [[tuple(w.shape) for w in ws]
                                                                            for ws in theirs.all_weights]


def test_dropout_between_layers():
    ours, theirs = module_pair("LSTM", tg.float64, 3, 4, num_layers=2, dropout=1.0)
    x = np.random.default_rng(0).normal(size=(4, 2, 3))
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        for a, b in zip(flat_outputs(ours(tg.tensor(x))), flat_outputs(theirs(torch.tensor(x)))):
            assert_close(a, b, 1e-10, 1e-8)
    ours.train()
    ours.dropout = 0.5  # a random mask: only the shapes and that it ran
    output, (h, c) = ours(tg.tensor(x))
    assert tuple(output.shape) == (4, 2, 4) and tuple(h.shape) == (2, 2, 4)


def test_zero_batch():
    for name in ("RNN", "LSTM", "GRU"):
        ours, theirs = module_pair(name, tg.float32, 3, 4, bidirectional=True)
        for a, b in zip(flat_outputs(ours(tg.zeros(5, 0, 3))), flat_outputs(theirs(torch.zeros(5, 0, 3)))):
            assert_close(a, b, 0, 0)


# ---- course programs, written once for both libraries ---------------------------------------

def hello_rnn_emb(torch, weights=None, steps=6):
    """PyTorchZeroToAll 12_4_hello_rnn_emb.py: 'hihell' -> 'ihello' through Embedding, RNN and Linear.
    Returns the losses of a few Adam steps and the model's state after them."""
    nn = torch.nn
    idx2char = ["h", "i", "e", "l", "o"]
    x_data = [[0, 1, 0, 2, 3, 3]]  # hihell
    y_data = [1, 0, 2, 3, 3, 4]  # ihello
    inputs = torch.LongTensor(x_data) if hasattr(torch, "LongTensor") else torch.tensor(x_data)
    labels = torch.tensor(y_data)
    num_classes, input_size, embedding_size, hidden_size, num_layers = 5, 5, 10, 5, 1

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(input_size, embedding_size)
            self.rnn = nn.RNN(input_size=embedding_size, hidden_size=5, batch_first=True)
            self.fc = nn.Linear(hidden_size, num_classes)

        def forward(self, x):
            h_0 = torch.zeros(num_layers, x.size(0), hidden_size)
            emb = self.embedding(x)
            emb = emb.view(1, x.size(1), -1)
            out, _ = self.rnn(emb, h_0)
            return self.fc(out.view(-1, num_classes))

    model = Model()
    if weights is not None:
        model.load_state_dict({key: torch.tensor(value) for key, value in weights.items()})
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        outputs = model(inputs)
        optimizer.zero_grad()
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    _, idx = model(inputs).max(1)
    predicted = "".join(idx2char[i] for i in idx.tolist())
    return losses, predicted, {key: value.detach().numpy() for key, value in model.state_dict().items()}


def test_course_char_rnn_trains_like_torch():
    torch.manual_seed(0)
    _, _, weights = hello_rnn_emb(torch, steps=0)
    their_losses, their_prediction, their_state = hello_rnn_emb(torch, weights, steps=15)
    our_losses, our_prediction, our_state = hello_rnn_emb(tg, weights, steps=15)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-4, atol=1e-5)
    assert our_prediction == their_prediction
    for key, value in their_state.items():
        np.testing.assert_allclose(our_state[key], value, rtol=1e-3, atol=1e-4, err_msg=key)


NAMES = [("Adsit", 0), ("Ajdrna", 1), ("Alt", 2), ("Arnold", 0), ("Bei", 1), ("Zhai", 2), ("Krakowski", 1)]


def name_classifier(torch, weights=None, steps=4):
    """PyTorchZeroToAll 13_1_rnn_classification.py: names as ASCII codes through an Embedding, a
    bidirectional GRU over packed sequences and a Linear on the last hidden state."""
    nn = torch.nn
    from_packed = torch.nn.utils.rnn.pack_padded_sequence
    hidden_size, n_chars, n_layers, n_classes = 8, 128, 2, 3

    class RNNClassifier(nn.Module):
        def __init__(self, input_size, hidden_size, output_size, n_layers=1, bidirectional=True):
            super().__init__()
            self.hidden_size = hidden_size
            self.n_layers = n_layers
            self.n_directions = int(bidirectional) + 1
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, n_layers, bidirectional=bidirectional)
            self.fc = nn.Linear(hidden_size, output_size)

        def forward(self, input, seq_lengths):
            input = input.t()
            batch_size = input.size(1)
            hidden = torch.zeros(self.n_layers * self.n_directions, batch_size, self.hidden_size)
            embedded = self.embedding(input)
            gru_input = from_packed(embedded, seq_lengths.tolist())
            self.gru.flatten_parameters()
            output, hidden = self.gru(gru_input, hidden)
            return self.fc(hidden[-1])

    def make_variables(names):
        sequences = [[ord(c) for c in name] for name in names]
        lengths = torch.tensor([len(s) for s in sequences])
        padded = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.int64)
        for b, sequence in enumerate(sequences):
            padded[b, :len(sequence)] = torch.tensor(sequence)
        order = sorted(range(len(sequences)), key=lambda b: -len(sequences[b]))
        index = torch.tensor(order)
        return padded[index], lengths[index], index

    classifier = RNNClassifier(n_chars, hidden_size, n_classes, n_layers)
    if weights is not None:
        classifier.load_state_dict({key: torch.tensor(value) for key, value in weights.items()})
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    inputs, lengths, order = make_variables([name for name, _ in NAMES])
    target = torch.tensor([NAMES[b][1] for b in order.tolist()])
    losses = []
    for _ in range(steps):
        output = classifier(inputs, lengths)
        loss = criterion(output, target)
        classifier.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, {key: value.detach().numpy() for key, value in classifier.state_dict().items()}


def test_course_packed_gru_classifier_trains_like_torch():
    torch.manual_seed(0)
    _, weights = name_classifier(torch, steps=0)
    their_losses, their_state = name_classifier(torch, weights, steps=8)
    our_losses, our_state = name_classifier(tg, weights, steps=8)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-4, atol=1e-5)
    for key, value in their_state.items():
        np.testing.assert_allclose(our_state[key], value, rtol=1e-3, atol=1e-4, err_msg=key)
