"""``save(obj, path)`` / ``load(path)`` in the safetensors format, written and read by hand.

A file is an 8-byte little-endian header length N, N bytes of JSON header
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``
(padded with spaces to a multiple of 8), then the tensors' raw little-endian bytes, with
offsets counted from the end of the header. The ``safetensors`` package reads what ``save``
writes and ``load`` reads what it writes.

A flat ``{name: tensor}`` state dict is stored as exactly that. Anything else (an optimizer's
``{'state': {0: {'exp_avg': tensor, 'step': 3}}, 'param_groups': [...]}``) is stored as its
tensors, each under the path that leads to it, plus ``__metadata__["tapegrad.structure"]``: the
object as JSON with each tensor replaced by ``{"__tensor__": name}``. Path parts are joined with
``.`` after escaping ``%`` and ``.`` as ``%25`` and ``%2E`` (``state.0.exp_avg``), so names
are unique and can be split back. In the structure, a dict whose keys aren't all strings is
``{"__dict__": [[key, value], ...]}`` and a tuple is ``{"__tuple__": [...]}``, so int keys and
tuples come back as they went in. Values may be None, bool, int, float, str, NumPy scalars
(stored as Python numbers), dicts, lists, tuples and tensors.

Saved dtypes: F32 F64 I32 I64 BOOL. Loaded also: F16 and BF16, widened to float32 (exactly: every
half and bfloat16 value is a float32 one) until tapegrad has those dtypes. ``load`` checks the whole header before reading any
data, with the safetensors package's rules (among them: the tensors tile the data section
exactly) and NumPy's limits (at most 64 dims; itemsize times the product of the non-zero dims
below 2**63, as NumPy counts even for an empty array); every problem with the file's content is a
ValueError naming the file and, where there is one, the tensor. A structure is at most
``MAX_STRUCTURE_DEPTH`` containers deep, for ``save`` and ``load`` alike.

``save`` writes through ``tapegrad._atomic.atomic_write``: the path holds the old file or the
complete new one, never a torn one, and a link at the path is replaced rather than followed, as
the safetensors package does.

Both take an open binary file as well as a path. ``load(path, mmap=True)`` maps the file
(privately: writing to a tensor never changes the file) and makes each tensor a view of the map,
so its pages are read when first touched; ``safe_open(path)`` reads the header alone and one
tensor on each ``get_tensor(name)``, as the safetensors package's ``safe_open`` does. The reader
is our own rather than the safetensors package: it is fuzz-tested here (tests/test_fuzz.py) with
messages that name the file and tensor, it reads the nested structures ``save`` writes, and
tapegrad then needs no Rust extension at run time.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import mmap as _mmap
import numbers
import os
import struct

import numpy as np

from ._atomic import atomic_write

__all__ = ["save", "load", "load_numpy", "safe_open"]

_DTYPES = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "BOOL": np.dtype("bool"),
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
# Read, not written: stored as these dtypes, widened to float32 by _widened.
_READ_ONLY_DTYPES = {"F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}
_STRUCTURE_KEY = "tapegrad.structure"
_TAG_TENSOR, _TAG_DICT, _TAG_TUPLE = "__tensor__", "__dict__", "__tuple__"
_TAGS = (_TAG_TENSOR, _TAG_DICT, _TAG_TUPLE)
# safetensors' own limit; a larger header is taken as corruption rather than read into memory.
MAX_HEADER_BYTES = 100_000_000
# Far deeper than any state dict or optimizer state (those are 4 deep), far shallower than what
# the JSON parser and the rebuilding recursion can take within Python's recursion limit.
MAX_STRUCTURE_DEPTH = 100
# NumPy's limits on an array it makes (NPY_MAXDIMS, and the byte size in a signed 64-bit intp).
_MAX_DIMS = 64
_MAX_ARRAY_BYTES = 2**63 - 1


# ---------------------------------------------------------------------------------------------
# Tensor <-> NumPy seams: the only places that touch the tensor type.


def _is_tensor(value) -> bool:
    if isinstance(value, np.ndarray):
        return True
    return callable(getattr(value, "numpy", None)) and hasattr(value, "shape") \
        and not isinstance(value, np.generic)


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if callable(getattr(value, "detach", None)):
        value = value.detach()
    if callable(getattr(value, "cpu", None)):
        value = value.cpu()
    return np.asarray(value.numpy())


def _from_numpy(array: np.ndarray):
    import tapegrad

    return tapegrad.from_numpy(array)


# ---------------------------------------------------------------------------------------------
# Flattening nested objects


def _escape(part) -> str:
    return str(part).replace("%", "%25").replace(".", "%2E")


def _flatten(obj, path, tensors, depth=1):
    """obj as JSON-able structure; its tensors collected into tensors[name] (as NumPy)."""
    where = ".".join(path) or "<root>"
    if _is_tensor(obj):
        name = ".".join(path)
        if name in tensors:
            raise ValueError(f"[save] two tensors flatten to the name {name!r} "
                             "(keys such as 0 and '0' in one dict)")
        tensors[name] = _to_numpy(obj)
        return {_TAG_TENSOR: name}
    if isinstance(obj, (dict, tuple, list)) and depth > MAX_STRUCTURE_DEPTH:
        raise ValueError(f"[save] {where}: nested more than {MAX_STRUCTURE_DEPTH} containers deep, "
                         "which load refuses")
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not any(k in _TAGS for k in obj):
            return {k: _flatten(v, path + [_escape(k)], tensors, depth + 1)
                    for k, v in obj.items()}
        return {_TAG_DICT: [[_plain(k, f"{where} key {k!r}"),
                             _flatten(v, path + [_escape(k)], tensors, depth + 1)]
                            for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {_TAG_TUPLE: [_flatten(v, path + [str(i)], tensors, depth + 1)
                             for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, path + [str(i)], tensors, depth + 1) for i, v in enumerate(obj)]
    return _plain(obj, where)


def _plain(value, where="<key>"):
    """value as a JSON scalar: None, bool, str, int or float (NumPy scalars included)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"[save] {where}: cannot save a value of type {type(value).__name__}")


def _unflatten(node, tensors, path, depth=1):
    """The object the structure node stands for; what save cannot have written is a ValueError."""
    where = f"{path}: __metadata__[{_STRUCTURE_KEY!r}]"
    leaf = isinstance(node, dict) and _TAG_TENSOR in node  # a tensor: not a container
    if isinstance(node, (list, dict)) and not leaf and depth > MAX_STRUCTURE_DEPTH:
        raise ValueError(f"{where} is nested more than {MAX_STRUCTURE_DEPTH} containers deep")
    if isinstance(node, list):
        return [_unflatten(v, tensors, path, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    tags = [tag for tag in _TAGS if tag in node]
    if not tags:
        return {k: _unflatten(v, tensors, path, depth + 1) for k, v in node.items()}
    tag = tags[0] if len(node) == 1 else None  # save writes a tag alone in its dict
    value = node.get(tag)
    if tag == _TAG_TENSOR and isinstance(value, str):
        if value not in tensors:
            raise ValueError(f"{path}: structure names tensor {value!r}, which the file lacks")
        return tensors[value]
    if tag == _TAG_TUPLE and isinstance(value, list):
        return tuple(_unflatten(v, tensors, path, depth + 1) for v in value)
    if tag == _TAG_DICT and isinstance(value, list) and all(
            isinstance(pair, list) and len(pair) == 2 and not isinstance(pair[0], (list, dict))
            for pair in value):
        return {k: _unflatten(v, tensors, path, depth + 1) for k, v in value}
    raise ValueError(f"{where}: malformed node {_described(node)}: save writes "
                     f'{{"{_TAG_TENSOR}": name}}, {{"{_TAG_TUPLE}": [...]}} or '
                     f'{{"{_TAG_DICT}": [[key, value], ...]}}')


def _described(node: dict, shown=4) -> str:
    """The node's keys and the types of their values: short, and without printing a value, which
    may be nested too deeply to print."""
    items = [f"{json.dumps(key[:40])}: {type(value).__name__}" for key, value in list(node.items())[:shown]]
    return "{" + ", ".join(items) + (", ..." if len(node) > shown else "") + "}"


def _is_flat_state_dict(obj) -> bool:
    return isinstance(obj, dict) and all(
        isinstance(k, str) and k != "__metadata__" and _is_tensor(v) for k, v in obj.items())


# ---------------------------------------------------------------------------------------------
# Writing


def _write(path, arrays: dict, metadata: dict | None) -> None:
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    ordered = []
    for name, array in arrays.items():
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dtype not in _NAMES:
            raise TypeError(f"[save] {path}: tensor {name!r} has dtype {array.dtype}; "
                            f"supported: {', '.join(_DTYPES)}")
        # np.ascontiguousarray would turn a 0-d array into shape (1,).
        data = np.require(array, dtype=_DTYPES[_NAMES[dtype]], requirements="C")
        size = data.nbytes
        header[name] = {"dtype": _NAMES[dtype], "shape": list(data.shape),
                        "data_offsets": [offset, offset + size]}
        ordered.append(data)
        offset += size
    encoded = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    # An open file is the caller's to make atomic; a path gets the atomic writer.
    with contextlib.nullcontext(path) if callable(getattr(path, "write", None)) else atomic_write(path) as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in ordered:
            f.write(memoryview(data.reshape(-1)).cast("B"))


def save(obj, path) -> None:
    """Save a state dict (``{name: tensor}``) or a nested object such as an optimizer's.

    ``path`` is a path or an open binary file. NumPy arrays are accepted wherever tensors are.
    """
    if _is_flat_state_dict(obj):
        _write(path, {k: _to_numpy(v) for k, v in obj.items()}, None)
        return
    tensors = {}
    structure = _flatten(obj, [], tensors)
    try:
        text = json.dumps(structure, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise TypeError(f"[save] {path}: {e}") from None
    _write(path, tensors, {_STRUCTURE_KEY: text})


# ---------------------------------------------------------------------------------------------
# Reading


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _check_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _read_header(path, f, file_size):
    """The validated header: ({name: (dtype, shape, begin, end)}, metadata, data start)."""
    if file_size < 8:
        raise ValueError(f"{path}: {file_size} bytes is too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", f.read(8))
    if header_len > file_size - 8 or header_len > MAX_HEADER_BYTES:
        raise ValueError(f"{path}: header length {header_len} exceeds the "
                         f"{file_size - 8} bytes after the length field (or the "
                         f"{MAX_HEADER_BYTES}-byte limit)")
    raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{path}: header is not valid JSON ({e})") from None
    except RecursionError:
        raise ValueError(f"{path}: header is nested too deeply to parse (a valid header is "
                         "3 levels deep)") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"{path}: __metadata__ must map strings to strings")
    data_size = file_size - 8 - header_len
    entries = {}
    for name, entry in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{where}: entry must have exactly dtype, shape and data_offsets")
        name_of_dtype = entry["dtype"] if isinstance(entry["dtype"], str) else None
        dtype = _DTYPES.get(name_of_dtype) or _READ_ONLY_DTYPES.get(name_of_dtype)
        if dtype is None:
            raise ValueError(f"{where}: unsupported dtype {entry['dtype']!r}; "
                             f"supported: {', '.join([*_DTYPES, *_READ_ONLY_DTYPES])}")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(_check_int(d) for d in shape):
            raise ValueError(f"{where}: shape {shape!r} must be a list of non-negative ints")
        if len(shape) > _MAX_DIMS:
            raise ValueError(f"{where}: shape has {len(shape)} dims, more than the {_MAX_DIMS} "
                             "an array can have")
        if math.prod(d for d in shape if d) * dtype.itemsize > _MAX_ARRAY_BYTES:
            raise ValueError(f"{where}: shape {shape} is too large for an array, even an empty "
                             f"one (its non-zero dims times the itemsize exceed 2**63 - 1)")
        offsets = entry["data_offsets"]
        if not isinstance(offsets, list) or len(offsets) != 2 \
                or not all(_check_int(o) for o in offsets) or offsets[0] > offsets[1]:
            raise ValueError(f"{where}: data_offsets {offsets!r} must be [begin, end] with "
                             "0 <= begin <= end")
        begin, end = offsets
        if end > data_size:
            raise ValueError(f"{where}: data_offsets {offsets} run past the data section "
                             f"({data_size} bytes)")
        numel = 1
        for d in shape:
            numel *= d
        if end - begin != numel * dtype.itemsize:
            raise ValueError(f"{where}: data_offsets {offsets} hold {end - begin} bytes, shape "
                             f"{shape} of {entry['dtype']} needs {numel * dtype.itemsize}")
        entries[name] = (name_of_dtype, tuple(shape), begin, end)
    # As the safetensors package requires: the tensors, in offset order, tile the data section
    # exactly, with no gap, no overlap and nothing after the last one.
    previous_name, previous_end = None, 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if begin != previous_end:
            after = f"tensor {previous_name!r} ends at {previous_end}" if previous_name else "the data starts at 0"
            problem = "overlaps the tensor before it" if begin < previous_end else "leaves a gap"
            raise ValueError(f"{path}: tensor {name!r} at data_offsets [{begin}, {end}] {problem} ({after})")
        previous_name, previous_end = name, end
    if previous_end != data_size:
        raise ValueError(f"{path}: the data section has {data_size} bytes but its tensors end at "
                         f"{previous_end} ({data_size - previous_end} bytes unaccounted for)")
    return entries, metadata, 8 + header_len


def _widened(dtype_name: str, array: np.ndarray) -> np.ndarray:
    """array as tapegrad can hold it: F16 and BF16 as float32 (BF16 is float32's upper half)."""
    if dtype_name == "F16":
        return array.astype(np.float32)
    if dtype_name == "BF16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _stored_dtype(dtype_name: str) -> np.dtype:
    return _DTYPES.get(dtype_name) or _READ_ONLY_DTYPES[dtype_name]


def _read_tensor(path, f, data_start, name, entry):
    dtype_name, shape, begin, end = entry
    array = np.empty(shape, dtype=_stored_dtype(dtype_name))
    f.seek(data_start + begin)
    if f.readinto(memoryview(array.reshape(-1)).cast("B")) != end - begin:
        raise ValueError(f"{path}: tensor {name!r}: file ended while reading its data")
    return _widened(dtype_name, array)


@contextlib.contextmanager
def _opened(source):
    """(name for messages, binary file, its size) of a path or an open binary file."""
    if callable(getattr(source, "read", None)):
        name = getattr(source, "name", None)
        # A file object may not be seekable (a pipe, a socket): its bytes are read once.
        f = source if source.seekable() else io.BytesIO(source.read())
        start = f.tell()
        size = f.seek(0, os.SEEK_END) - start
        f.seek(start)
        yield (name if isinstance(name, str) else "<file object>"), _Offset(f, start), size
        return
    with open(source, "rb") as f:
        yield os.fspath(source), f, os.fstat(f.fileno()).st_size


class _Offset:
    """A file object read as if it began where it was when handed to load."""

    def __init__(self, f, start):
        self._f, self._start = f, start

    def read(self, count):
        return self._f.read(count)

    def readinto(self, buffer):
        return self._f.readinto(buffer)

    def seek(self, position):
        return self._f.seek(self._start + position)


def _read(source, mmap=False):
    with _opened(source) as (path, f, file_size):
        entries, metadata, data_start = _read_header(path, f, file_size)
        if not mmap:
            return {name: _read_tensor(path, f, data_start, name, entry) for name, entry in entries.items()}, \
                metadata
        if not hasattr(f, "fileno"):
            raise ValueError(f"[load] {path}: mmap=True needs a file on disk, not a file object")
        # ACCESS_COPY: a private map, so writing to a tensor never writes to the file; an empty
        # data section cannot be mapped (mmap refuses length 0) and needs no map.
        mapped = _mmap.mmap(f.fileno(), 0, access=_mmap.ACCESS_COPY) if file_size else None
        arrays = {}
        for name, (dtype_name, shape, begin, end) in entries.items():
            dtype = _stored_dtype(dtype_name)
            if begin == end:
                array = np.empty(shape, dtype=dtype)
            else:
                array = np.frombuffer(mapped, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                      offset=data_start + begin).reshape(shape)
                if (data_start + begin) % dtype.itemsize:
                    array = array.copy()  # the kernels need aligned data; other writers may not align
            arrays[name] = _widened(dtype_name, array)
        return arrays, metadata


class safe_open:
    """One safetensors file, read a tensor at a time: ``keys()``, ``get_tensor(name)`` and
    ``metadata()``, as the safetensors package's ``safe_open(path, framework="pt")`` (only
    ``framework`` "pt", "np" or "numpy" and ``device`` "cpu"). Use it in a ``with`` block; the
    header is checked as ``load`` checks it, and only the named tensor's bytes are read."""

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "np", "numpy"):
            raise ValueError(f"[safe_open] framework must be 'pt' (tapegrad tensors) or 'np', got {framework!r}")
        _check_cpu("safe_open", device)
        self._path = os.fspath(filename)
        self._numpy = framework != "pt"
        self._file = open(self._path, "rb")
        try:
            self._entries, self._metadata, self._data_start = _read_header(
                self._path, self._file, os.fstat(self._file.fileno()).st_size)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._file.close()

    def keys(self):
        return list(self._entries)

    def metadata(self):
        return dict(self._metadata)

    def get_tensor(self, name):
        if name not in self._entries:
            raise KeyError(f"[safe_open] {self._path} has no tensor {name!r}")
        array = _read_tensor(self._path, self._file, self._data_start, name, self._entries[name])
        return array if self._numpy else _from_numpy(array)


def _check_cpu(op, location):
    """map_location/device as PyTorch code passes them: None, "cpu" or a cpu device; a CUDA one
    is refused by name, as tapegrad has no CUDA yet."""
    if location is None:
        return
    if isinstance(location, str) or type(location).__name__ == "device":
        text = str(location)
        if text == "cpu" or text.startswith("cpu:"):
            return
        raise RuntimeError(f"[{op}] cannot load onto {text!r}: tapegrad runs on the CPU only (no CUDA "
                           "device exists yet); use 'cpu'")
    raise TypeError(f"[{op}] takes a device name or tapegrad.device, got {type(location).__name__}")


def _load(path, convert, mmap=False):
    arrays, metadata = _read(path, mmap)
    tensors = {name: convert(array) for name, array in arrays.items()}
    if _STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except ValueError as e:
        raise ValueError(f"{path}: __metadata__[{_STRUCTURE_KEY!r}] is not valid JSON ({e})") \
            from None
    except RecursionError:
        raise ValueError(f"{path}: __metadata__[{_STRUCTURE_KEY!r}] is nested more than "
                         f"{MAX_STRUCTURE_DEPTH} containers deep") from None
    return _unflatten(structure, tensors, path)


def load_numpy(path, mmap=False):
    """``load``, with tensors left as NumPy arrays."""
    return _load(path, lambda array: array, mmap)


def load(f, map_location=None, weights_only=None, mmap=False):
    """Load what ``save`` wrote (or any safetensors file of supported dtypes) as tensors.

    ``f`` is a path or an open binary file. ``map_location`` may be None, "cpu" or a cpu device
    (a CUDA one is an error: tapegrad has no CUDA yet); ``weights_only`` is accepted as
    ``torch.load`` takes it and changes nothing, as a safetensors file holds no code to run.
    ``mmap=True`` maps the file instead of reading it (see the module docstring).
    """
    _check_cpu("load", map_location)
    if weights_only not in (None, True, False):
        raise TypeError(f"[load] weights_only must be a bool or None, got {type(weights_only).__name__}")
    return _load(f, _from_numpy, mmap)
