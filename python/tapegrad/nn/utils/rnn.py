"""tapegrad.nn.utils.rnn: packed and padded variable-length sequences, as torch.nn.utils.rnn.

A PackedSequence holds the time steps one after another, step t the first batch_sizes[t]
sequences of the batch sorted by decreasing length: the layout the recurrent layers run on
directly, computing nothing for the padded steps.
"""
from collections import namedtuple

from ... import _C

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of variable-length sequences packed time step by time step, as torch's PackedSequence.

    data: (sum(batch_sizes), *) rows; batch_sizes: int64 (steps,) sequences running at each step;
    sorted_indices / unsorted_indices: the permutation from the batch's order to decreasing length
    and back (None when the batch was already sorted).
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        """The sequence with its data converted (dtype or device) as Tensor.to converts it."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self):
        return self._with_data(self.data.cpu())

    def double(self):
        return self.to(dtype=_C.float64)

    def float(self):
        return self.to(dtype=_C.float32)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _invert_permutation(permutation):
    if permutation is None:
        return None
    order = permutation.tolist()
    inverse = [0] * len(order)
    for position, index in enumerate(order):
        inverse[index] = position
    return _C.tensor(inverse, dtype=_C.int64)


def _int_list(values, name):
    if isinstance(values, _C.Tensor):
        if values.dim() != 1:
            raise RuntimeError(f"[pack_padded_sequence] '{name}' must be a 1-D tensor, got shape {tuple(values.shape)}")
        return [int(v) for v in values.tolist()]
    return [int(v) for v in values]


def _batch_sizes(lengths):
    """How many of the (decreasingly sorted) sequences run at each step."""
    sizes, running = [], len(lengths)
    for t in range(lengths[0] if lengths else 0):
        while running > 0 and lengths[running - 1] <= t:
            running -= 1
        sizes.append(running)
    return sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of the given lengths.

    With enforce_sorted the lengths must decrease; otherwise the batch is sorted here and the
    permutation kept in the result (sorted_indices / unsorted_indices).
    """
    lengths = _int_list(lengths, "lengths")
    batch_dim = 0 if batch_first else 1
    if input.dim() < 2:
        raise ValueError(f"[pack_padded_sequence] expected a padded batch of at least 2 dims, got shape "
                         f"{tuple(input.shape)}")
    batch = input.shape[batch_dim]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if any(length <= 0 for length in lengths):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    sorted_indices = None
    if enforce_sorted:
        if any(lengths[b] < lengths[b + 1] for b in range(batch - 1)):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        order = list(range(batch))
    else:
        order = sorted(range(batch), key=lambda b: -lengths[b])
        sorted_indices = _C.tensor(order, dtype=_C.int64)
    steps = input.shape[1 - batch_dim]
    if lengths and max(lengths) > steps:
        raise RuntimeError(f"[pack_padded_sequence] a length of {max(lengths)} is longer than the padded batch's "
                           f"{steps} steps")
    sorted_lengths = [lengths[b] for b in order]
    batch_sizes = _batch_sizes(sorted_lengths)
    # Row t * batch + b of the time-major batch is step t of sequence b.
    rows = [t * batch + order[k] for t, size in enumerate(batch_sizes) for k in range(size)]
    time_major = input.transpose(0, 1) if batch_first else input
    flat = time_major.reshape(steps * batch, *input.shape[2:])
    data = flat.index_select(0, _C.tensor(rows, dtype=_C.int64))
    return PackedSequence(data, _C.tensor(batch_sizes, dtype=_C.int64), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpacks a PackedSequence into (padded batch, lengths), the inverse of pack_padded_sequence.

    The batch is back in its original order; total_length pads it to that many steps.
    """
    data, batch_sizes = sequence.data, [int(size) for size in sequence.batch_sizes.tolist()]
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    batch = batch_sizes[0] if batch_sizes else 0
    # Each padded position's row of data, or the padding row appended after the last.
    padding_row = data.shape[0]
    rows, first = [], 0
    for t in range(steps):
        size = batch_sizes[t] if t < len(batch_sizes) else 0
        rows.extend(first + b if b < size else padding_row for b in range(batch))
        first += size
    padding = _C.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = _C.cat([data, padding]).index_select(0, _C.tensor(rows, dtype=_C.int64))
    padded = padded.view(steps, batch, *data.shape[1:])
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = [lengths[b] for b in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _C.tensor(lengths, dtype=_C.int64)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences (L_i, *) into (max L, B, *) ((B, max L, *) with batch_first), padded with padding_value."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)  # a tensor is its rows, as in torch
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        if missing:
            filler = _C.full((missing, *sequence.shape[1:]), padding_value, dtype=sequence.dtype,
                             device=sequence.device)
            sequence = _C.cat([sequence, filler] if padding_side == "right" else [filler, sequence])
        padded.append(sequence)
    return _C.stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of variable-length sequences (L_i, *): pad_sequence, then pack_padded_sequence."""
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences a padded batch holds, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :int(length)] for b, length in enumerate(_int_list(lengths, "lengths"))]


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
