"""Padding and sliding blocks, composed of tapegrad ops: F.pad (constant, reflect, replicate, circular), F.unfold
and F.fold (im2col and col2im) and their modules, with PyTorch's arguments, errors and reprs.

pad's non-constant modes gather each dim's border (source positions computed in NumPy) and concatenate it around
the input, and add the border's gradient back with index_add. unfold is a strided view of the (zero-padded) input
copied out, fold a strided add per kernel offset; each one's backward is the other, so they differentiate to any
order.
"""
import numpy as np

from .. import _C
from ..autograd import Function
from . import functional as F
from .module import Module

_NON_CONSTANT_MODES = ("reflect", "replicate", "circular")


def _check_pad(input, pad):
    """pad as a list of ints after PyTorch's checks of its length against the input's dims."""
    values = list(pad)
    if not all(isinstance(value, int) for value in values):
        raise TypeError(f"[pad] pad must be a sequence of ints, got {pad!r}")
    if len(values) % 2:
        raise RuntimeError(f"[pad] Padding length must be divisible by 2, got {len(values)} values {tuple(values)}")
    if len(values) // 2 > input.dim():
        raise RuntimeError(f"[pad] Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(values)} and input of dimension {input.dim()} (shape "
                           f"{list(input.shape)})")
    return values


def _constant_pad(input, pad, value):
    """A tensor of value with input (cropped where pad is negative) copied into its middle."""
    shape = list(input.shape)
    out_shape, target, source = list(shape), [slice(None)] * input.dim(), [slice(None)] * input.dim()
    for i in range(len(pad) // 2):
        d = input.dim() - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        size = shape[d] + before + after
        if size < 0:
            raise RuntimeError(f"[pad] The input size {shape[d]}, plus negative padding {before} and {after} resulted "
                               f"in a negative output size, which is invalid. Check dimension {d} of your input of "
                               f"shape {shape}.")
        out_shape[d] = size
        # Stops clamped to the starts: a dim cropped away entirely copies nothing, whatever the other side adds.
        start = max(before, 0)
        target[d] = slice(start, max(size - max(after, 0), start))
        start = max(-before, 0)
        source[d] = slice(start, max(shape[d] - max(-after, 0), start))
    out = input.new_full(out_shape, value)
    out[tuple(target)] = input[tuple(source)]  # even when empty: the output is then still in the graph
    return out


def _source_positions(mode, size, before, after):
    """The input position each element of a dim of `size` padded by before and after (negative: cropped) copies."""
    positions = np.arange(size + before + after, dtype=np.int64) - before
    if mode == "reflect":
        positions = np.abs(positions)
        return np.where(positions >= size, 2 * (size - 1) - positions, positions)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    # circular, as PyTorch's: negative amounts crop first, and the padding wraps around what is kept.
    cropped_before, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
    if len(positions) == 0:
        return positions
    return np.mod(positions + before - max(before, 0), kept) + cropped_before


def _check_non_constant(input, pad, mode):
    """PyTorch's checks of a reflect, replicate or circular pad of input."""
    dims = len(pad) // 2
    if dims > 3 or input.dim() not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"[pad] Padding size {len(pad)} is not supported for {input.dim()}D input tensor (shape "
            f"{list(input.shape)}).\nSupported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    shape = list(input.shape)
    batched = input.dim() == dims + 2
    if mode != "circular" and 0 in shape[1 if batched else 0:]:
        raise RuntimeError(f"[pad] Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: {shape}")
    for i in range(dims):
        d = input.dim() - 1 - i
        before, after, size = pad[2 * i], pad[2 * i + 1], shape[d]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"[pad] Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({before}, {after}) at dimension {d} of input {shape}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError(f"[pad] Padding value causes wrapping around more than once: padding ({before}, "
                               f"{after}) at dimension {d} of input {shape}")
        if size + before + after < (0 if mode == "circular" else 1):
            raise RuntimeError(f"[pad] input (size {size} at dimension {d}) is too small. Calculated output size: "
                               f"{size + before + after} (padding ({before}, {after}), input {shape})")


class _DimPadding:
    """How one padded dim is built from the input's: the output's run [start, stop) is the input's run from
    `first` as it lies; the border (the output's positions before and after it) gathers its source positions."""

    def __init__(self, dim, size, positions, before, device):
        self.dim, self.size = dim, size
        self.start = min(max(before, 0), len(positions))  # a crop after may leave less than the pad before
        self.stop = max(min(before + size, len(positions)), self.start)
        self.first = min(self.start - before, size)  # a dim cropped away entirely copies nothing
        self.after = len(positions) - self.stop
        self.left = _index(positions[:self.start], device)
        self.right = _index(positions[self.stop:], device)
        self.border = _index(np.concatenate([positions[:self.start], positions[self.stop:]]), device)

    def pad(self, input):
        middle = input.narrow(self.dim, self.first, self.stop - self.start)
        pieces = ([input.index_select(self.dim, self.left)] if self.start else []) + [middle] + (
            [input.index_select(self.dim, self.right)] if self.after else [])
        return _C.cat(pieces, self.dim) if len(pieces) > 1 else middle.clone()

    def unpad(self, grad):
        """The input's gradient along this dim: the run's gradient where it came from, the border's added in."""
        result = grad.narrow(self.dim, self.start, self.stop - self.start)
        if self.first != 0 or self.stop - self.start != self.size:  # cropped: zeros where nothing was copied
            amounts = [0] * (2 * (grad.dim() - self.dim))
            amounts[-2:] = [self.first, self.size - self.first - (self.stop - self.start)]
            result = _constant_pad(result, amounts, 0)
        if not (self.start or self.after):
            return result.clone()
        pieces = ([grad.narrow(self.dim, 0, self.start)] if self.start else []) + (
            [grad.narrow(self.dim, self.stop, self.after)] if self.after else [])
        return result.index_add(self.dim, self.border, _C.cat(pieces, self.dim) if len(pieces) > 1 else pieces[0])


def _index(positions, device):
    index = _C.from_numpy(np.ascontiguousarray(positions, dtype=np.int64))
    return index if device.type == "cpu" else index.to(device)


class BorderPad(Function):
    """pad's node for reflect, replicate and circular, one dim at a time: the border gathered (index_select) and
    concatenated around the input's run, one pass over the data per dim; backward adds the border's gradient
    into the run's (index_add), again one pass per dim. (One index_select of the padded dims flattened together
    would be one pass, but along the last dim it copies, and its gradient adds, element by element.)"""

    @staticmethod
    def forward(ctx, input, dims):
        ctx.dims = dims
        for dim in dims:
            input = dim.pad(input)
        return input

    @staticmethod
    def backward(ctx, grad):
        for dim in reversed(ctx.dims):
            grad = dim.unpad(grad)
        return grad, None


def pad(input, pad, mode="constant", value=None):
    """Pads (negative amounts crop) the last len(pad) // 2 dims, the last dim first: pad = (last_before,
    last_after, second_last_before, ...); modes constant, reflect, replicate, circular, as PyTorch's."""
    pad = _check_pad(input, pad)
    if mode == "constant":
        return _constant_pad(input, pad, 0 if value is None else value)
    if mode not in _NON_CONSTANT_MODES:
        raise NotImplementedError(f"[pad] Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'[pad] Padding mode "{mode}" doesn\'t take in value argument')
    _check_non_constant(input, pad, mode)
    dims = []
    for i in range(len(pad) // 2):
        dim, before, after = input.dim() - 1 - i, pad[2 * i], pad[2 * i + 1]
        if before or after:
            size = input.shape[dim]
            dims.append(_DimPadding(dim, size, _source_positions(mode, size, before, after), before, input.device))
    return BorderPad.apply(input, dims) if dims else input.clone()


# ---- sliding blocks ------------------------------------------------------------------------------

class _Blocks:
    """The geometry shared by unfold and fold: an image of image_size (H, W) covered by blocks (rows, columns)
    sliding windows of kernel_size, after PyTorch's checks."""

    def __init__(self, op, image_size, kernel_size, dilation, padding, stride):
        self.op = op
        self.image_size = F._tuple(image_size, 2, "output_size", op)
        self.kernel_size = F._tuple(kernel_size, 2, "kernel_size", op)
        self.dilation = F._tuple(dilation, 2, "dilation", op)
        self.padding = F._tuple(padding, 2, "padding", op)
        self.stride = F._tuple(stride, 2, "stride", op)
        for name, short, values, minimum in (("kernel size", "kernel", self.kernel_size, 1),
                                             ("stride", "stride", self.stride, 1),
                                             ("dilation", "dilation", self.dilation, 1),
                                             ("padding", "pad", self.padding, 0)):
            if min(values) < minimum:
                bound = "greater than zero" if minimum else "non-negative"
                raise RuntimeError(f"[{op}] {name} should be {bound}, but got {short}_height: {values[0]} "
                                   f"{short}_width: {values[1]}")
        self.blocks = [(size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
                       for size, kernel, dilation, pad, stride
                       in zip(self.image_size, self.kernel_size, self.dilation, self.padding, self.stride)]

    def describe(self):
        return (f"kernel_size={tuple(self.kernel_size)}, dilation={tuple(self.dilation)}, "
                f"padding={tuple(self.padding)}")


class Im2Col(Function):
    """unfold's node: a strided view of the zero-padded input copied out; its backward is fold."""

    @staticmethod
    def forward(ctx, input, blocks):
        ctx.blocks = blocks
        image = input if input.dim() == 4 else input.unsqueeze(0)
        (pad_h, pad_w), (kernel_h, kernel_w) = blocks.padding, blocks.kernel_size
        if pad_h or pad_w:
            image = _constant_pad(image, [pad_w, pad_w, pad_h, pad_h], 0)
        batch, channels = image.shape[0], image.shape[1]
        rows, columns = blocks.blocks
        batch_stride, channel_stride, row_stride, column_stride = image.stride()
        windows = image.as_strided(
            (batch, channels, kernel_h, kernel_w, rows, columns),
            (batch_stride, channel_stride, blocks.dilation[0] * row_stride, blocks.dilation[1] * column_stride,
             blocks.stride[0] * row_stride, blocks.stride[1] * column_stride), image.storage_offset())
        out = windows.reshape(batch, channels * kernel_h * kernel_w, rows * columns)
        return out if input.dim() == 4 else out.squeeze(0)

    @staticmethod
    def backward(ctx, grad):
        blocks = ctx.blocks
        return fold(grad, blocks.image_size, blocks.kernel_size, blocks.dilation, blocks.padding, blocks.stride), None


class Col2Im(Function):
    """fold's node: each kernel offset's columns added into a strided view of a zero (padded) image, the padding
    cropped off; its backward is unfold."""

    @staticmethod
    def forward(ctx, input, blocks):
        ctx.blocks = blocks
        columns = input if input.dim() == 3 else input.unsqueeze(0)
        (kernel_h, kernel_w), (rows, cols), (height, width) = blocks.kernel_size, blocks.blocks, blocks.image_size
        (pad_h, pad_w), (stride_h, stride_w), (dilation_h, dilation_w) = blocks.padding, blocks.stride, blocks.dilation
        batch, channels = columns.shape[0], columns.shape[1] // (kernel_h * kernel_w)
        columns = columns.reshape(batch, channels, kernel_h, kernel_w, rows, cols)
        image = columns.new_zeros((batch, channels, height + 2 * pad_h, width + 2 * pad_w))
        for i in range(kernel_h):
            row_span = slice(i * dilation_h, i * dilation_h + stride_h * (rows - 1) + 1, stride_h)
            for j in range(kernel_w):
                column_span = slice(j * dilation_w, j * dilation_w + stride_w * (cols - 1) + 1, stride_w)
                image[:, :, row_span, column_span].add_(columns[:, :, i, j])
        if pad_h or pad_w:
            image = image[:, :, pad_h:pad_h + height, pad_w:pad_w + width].contiguous()
        return image if input.dim() == 3 else image.squeeze(0)

    @staticmethod
    def backward(ctx, grad):
        blocks = ctx.blocks
        return unfold(grad, blocks.kernel_size, blocks.dilation, blocks.padding, blocks.stride), None


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) or (C, H, W) as columns (im2col): (N, C * kh * kw, L), L the blocks."""
    shape = list(input.shape)
    if input.dim() not in (3, 4) or 0 in shape[input.dim() - 3:]:
        raise RuntimeError(f"[unfold] Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape}")
    blocks = _Blocks("unfold", shape[-2:], kernel_size, dilation, padding, stride)
    if min(blocks.blocks) < 1:
        raise RuntimeError(f"[unfold] Given input with spatial size {tuple(shape[-2:])}, {blocks.describe()}, "
                           f"calculated shape of the array of sliding blocks as {tuple(blocks.blocks)}, but its "
                           "components must be at least one.")
    return Im2Col.apply(input, blocks)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C * kh * kw, L) summed back into an image (N, C, *output_size) (col2im), overlaps added."""
    shape = list(input.shape)
    if input.dim() not in (2, 3) or 0 in shape[input.dim() - 2:]:
        raise RuntimeError(f"[fold] Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {shape}")
    blocks = _Blocks("fold", output_size, kernel_size, dilation, padding, stride)
    kernel_area = blocks.kernel_size[0] * blocks.kernel_size[1]
    if shape[-2] % kernel_area:
        raise RuntimeError(f"[fold] Expected size of input's dimension {input.dim() - 2} to be divisible by the "
                           f"product of kernel_size, but got input.size({input.dim() - 2})={shape[-2]} and "
                           f"kernel_size={tuple(blocks.kernel_size)}.")
    rows, columns = blocks.blocks
    if min(rows, columns) < 1 or rows * columns != shape[-1]:
        raise RuntimeError(f"[fold] Given output_size={tuple(blocks.image_size)}, {blocks.describe()}, "
                           f"stride={tuple(blocks.stride)}, expected size of input's dimension {input.dim() - 1} to "
                           f"match the calculated number of sliding blocks {rows} * {columns} = {rows * columns}, but "
                           f"got input.size({input.dim() - 1})={shape[-1]}.")
    return Col2Im.apply(input, blocks)


# ---- modules -------------------------------------------------------------------------------------

def _padding_tuple(padding, dims):
    """A module's padding: an int for every side of `dims` dims, or the sequence as given."""
    return (padding,) * (2 * dims) if isinstance(padding, int) else tuple(padding)


class _ConstantPadNd(Module):
    _dims = 0

    def __init__(self, padding, value):
        super().__init__()
        self.padding, self.value = _padding_tuple(padding, self._dims), value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with a constant: padding an int or (left, right)."""
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with a constant: padding an int or (left, right, top, bottom)."""
    _dims = 2


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dims with zeros: padding an int or (left, right, top, bottom)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ModePadNd(Module):
    _dims, _mode = 0, ""

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding_tuple(padding, self._dims)

    def forward(self, input):
        return pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pads the last dim with its reflection (the edge not repeated): padding an int or (left, right)."""
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Pads the last two dims with their reflection: padding an int or (left, right, top, bottom)."""
    _dims, _mode = 2, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Pads the last dim by repeating its edge values: padding an int or (left, right)."""
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Pads the last two dims by repeating their edge values: padding an int or (left, right, top, bottom)."""
    _dims, _mode = 2, "replicate"


class Unfold(Module):
    """F.unfold as a module: sliding blocks of (N, C, H, W) as columns (N, C * kh * kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """F.fold as a module: columns (N, C * kh * kw, L) summed back into (N, C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
