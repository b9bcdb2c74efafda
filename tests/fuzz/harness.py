"""What a fuzzed input must do, shared by tests/test_fuzz.py and run_atheris.py.

A target writes the input to a file and reads it with a public reader: ``tg.load`` (target
"load") or ``read_idx`` for one and for three dimensions (target "idx"). The input must load, or
raise a ValueError whose message names the file (for "idx", each of the two reads). Anything
else breaks the contract: another exception, a hang (longer than TIME_LIMIT_S), or a traced peak
allocation (NumPy's buffers included) above the target's limit:

- load: LOAD_BYTES_PER_INPUT_BYTE times the input plus SLACK_BYTES. Arrays are read from the
  data section, so they total at most the file's size; the rest is parsing the JSON header.
- idx: the array the header declares, which is at most the file's size for a plain file and
  ``datasets.MAX_GZIP_EXPANSION`` times it for gzip, plus SLACK_BYTES.

The mutations are a seeded, pure-Python engine aware of both formats (the header's JSON and its
length field, gzip's payload), so the pytest run is reproducible and needs no atheris.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import random
import signal
import struct
import tracemalloc
import zlib
from pathlib import Path

# Imported here, not by the targets: the first import's allocations would count against an input.
import tapegrad
from tapegrad.datasets import MAX_GZIP_EXPANSION, read_idx

TIME_LIMIT_S = 2.0
LOAD_BYTES_PER_INPUT_BYTE = 64
SLACK_BYTES = 2 << 20
CORPUS = Path(__file__).parent / "corpus"
TARGETS = ("load", "idx")


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no reader's ``except`` can swallow it."""


class ContractBroken(AssertionError):
    pass


# Each target's reads of one file: callables taking the path.
_READS = {
    "load": (tapegrad.load,),
    "idx": (lambda path: read_idx(path, 1), lambda path: read_idx(path, 3)),
}


def memory_limit(target: str, data: bytes) -> int:
    if target == "load":
        return LOAD_BYTES_PER_INPUT_BYTE * len(data) + SLACK_BYTES
    factor = MAX_GZIP_EXPANSION if data[:2] == b"\x1f\x8b" else 1
    return factor * len(data) + SLACK_BYTES


def _on_alarm(signum, frame):
    raise Hang


@contextlib.contextmanager
def traced():
    """Allocations traced for the block. Loops of checks run inside one: starting and stopping
    tracemalloc for every input grows the process by about 2 KB an input (it stays flat when
    tracing stays on), which a long atheris run would take for a leak."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        yield
    finally:
        if started:
            tracemalloc.stop()


def check(target: str, data: bytes, folder) -> str:
    """Read data as the target's file: 'loaded' (by some read) or 'ValueError', else raises
    ContractBroken."""
    path = Path(folder) / f"input.{target}"
    path.write_bytes(data)
    outcome = "ValueError"
    with traced():
        for read in _READS[target]:
            if _check_read(target, read, path, data) == "loaded":
                outcome = "loaded"
    return outcome


def _check_read(target: str, read, path: Path, data: bytes) -> str:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    try:
        read(path)
        outcome = "loaded"
    except ValueError as e:
        if str(path) not in str(e):
            raise ContractBroken(f"{target}: ValueError without the file's name: {e}") from e
        outcome = "ValueError"
    except Hang:
        raise ContractBroken(f"{target}: no answer within {TIME_LIMIT_S} s") from None
    except Exception as e:  # noqa: BLE001 - every other exception breaks the contract
        raise ContractBroken(f"{target}: {type(e).__name__} instead of ValueError: {e}") from e
    finally:
        peak = tracemalloc.get_traced_memory()[1] - baseline
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    limit = memory_limit(target, data)
    if peak > limit:
        raise ContractBroken(f"{target}: allocated {peak} bytes for a {len(data)}-byte input, "
                             f"over its limit of {limit}")
    return outcome


def corpus(target: str) -> list[Path]:
    return sorted(p for p in (CORPUS / target).iterdir() if p.is_file())


# ---------------------------------------------------------------------------------------------
# Mutations

_INTEGERS = (0, 1, 2, 7, 8, 28, 255, 256, 2**16, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53,
             2**62, 2**63 - 1, 2**63, 2**64 - 1)
_JSON_VALUES = (0, -1, 1, 2**31, 2**63, 2**64, 2**70, 0.5, 1e308, True, False, None, "", "F32",
                "BOOL", "U8", "__tensor__", "__dict__", "__tuple__", [], {}, [0], [0, 0], [1] * 65,
                [0] * 65, [0, 2**62, 2**62], {"__tensor__": "w"}, {"__dict__": [[0, 1]]},
                {"__tuple__": []}, {"__dict__": 5}, [[1]], [[[1], 2]])
_TOKENS = (b"[", b"]", b"{", b"}", b",", b":", b'"', b"0", b"-1", b"1e999", b"NaN", b"null",
           b"[" * 64, b"[" * 2000, b'{"a":' * 500, b'"__tensor__"', b'"__dict__":[[', b"\\u0000",
           b"\xff", b"\xc3\x28")


def _pack_integer(rng: random.Random, value: int, size: int) -> bytes:
    value &= (1 << (8 * size)) - 1
    return value.to_bytes(size, rng.choice(("little", "big")))


def _mutate_bytes(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(data) + 1)
        choice = rng.randrange(8)
        if choice == 0 and data:  # flip a bit
            position = min(position, len(data) - 1)
            data[position] ^= 1 << rng.randrange(8)
        elif choice == 1 and data:  # an interesting byte
            data[min(position, len(data) - 1)] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, 3, 8))
        elif choice == 2:  # an interesting 4- or 8-byte integer, either byte order
            size = rng.choice((4, 8))
            data[position:position + size] = _pack_integer(rng, rng.choice(_INTEGERS), size)
        elif choice == 3:  # delete a range
            del data[position:position + rng.randint(1, 64)]
        elif choice == 4:  # duplicate a range
            data[position:position] = data[position:position + rng.randint(1, 256)]
        elif choice == 5:  # a token
            data[position:position] = rng.choice(_TOKENS)
        elif choice == 6 and others:  # splice in part of another input
            other = rng.choice(others)
            start = rng.randrange(len(other) + 1)
            data[position:] = other[start:start + rng.randint(1, 512)] + data[position:]
        else:  # truncate
            del data[position:]
    return bytes(data)


def _random_path(node, rng: random.Random):
    """(container, key) of a random place inside node, or None for the root."""
    place = None
    while isinstance(node, (dict, list)) and node and rng.random() < 0.7:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        place, node = (node, key), node[key]
    return place


def _mutate_json(value, rng: random.Random):
    replacement = copy.deepcopy(rng.choice(_JSON_VALUES))  # the tree is mutated in place later
    place = _random_path(value, rng)
    if place is None:
        return replacement
    container, key = place
    if isinstance(container, dict) and rng.random() < 0.3:
        container[rng.choice(("dtype", "shape", "data_offsets", "__metadata__", "x"))] = replacement
    elif isinstance(container, list) and rng.random() < 0.3:
        container.insert(key, replacement)
    else:
        container[key] = replacement
    return value


def _mutate_safetensors(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    """A mutated header (its JSON, the structure in its metadata, or its text), length fixed."""
    if len(data) < 8:
        return _mutate_bytes(data, rng, others)
    (length,) = struct.unpack("<Q", data[:8])
    header, rest = data[8:8 + length], data[8 + length:]
    try:
        header = _mutate_header(header, rng, others)
    except RecursionError:  # JSON too deep for this module's own parsing and printing
        header = _mutate_bytes(header, rng, others)
    if rng.random() < 0.2:
        rest = _mutate_bytes(rest, rng, [])
    return struct.pack("<Q", len(header)) + header + rest


def _mutate_header(header: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    try:
        parsed = json.loads(header)
    except ValueError:
        parsed = None
    structure = isinstance(parsed, dict) and isinstance(parsed.get("__metadata__"), dict) \
        and isinstance(parsed["__metadata__"].get("tapegrad.structure"), str)
    if structure and rng.random() < 0.4:
        metadata = parsed["__metadata__"]
        try:
            inner = json.loads(metadata["tapegrad.structure"])
            metadata["tapegrad.structure"] = json.dumps(_mutate_json(inner, rng))
        except ValueError:
            metadata["tapegrad.structure"] = _mutate_bytes(
                metadata["tapegrad.structure"].encode(), rng, []).decode("utf-8", "replace")
        return json.dumps(parsed).encode()
    if parsed is not None and rng.random() < 0.5:
        return json.dumps(_mutate_json(parsed, rng)).encode()
    return _mutate_bytes(header, rng, others)


def _mutate_idx(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if data[:2] == b"\x1f\x8b" and rng.random() < 0.8:
        try:
            payload = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return _mutate_bytes(data, rng, others)
        return gzip.compress(_mutate_bytes(payload, rng, others), mtime=0)
    return _mutate_bytes(data, rng, others)


def mutate(target: str, data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if target == "load" and rng.random() < 0.8:
        return _mutate_safetensors(data, rng, others)
    if target == "idx":
        return _mutate_idx(data, rng, others)
    return _mutate_bytes(data, rng, others)


def fuzz(target: str, executions: int, seed: int, folder, failures: Path | None = None):
    """Mutate the target's corpus `executions` times; returns (counts of outcomes, failures).

    Each failing input is written to `failures` (when given) for replay.
    """
    seeds = [p.read_bytes() for p in corpus(target)]
    rng = random.Random(seed)
    counts = {"loaded": 0, "ValueError": 0}
    broken = []
    with traced():
        for _ in range(executions):
            data = rng.choice(seeds)
            for _ in range(rng.randint(1, 3)):
                data = mutate(target, data, rng, seeds)
            try:
                counts[check(target, data, folder)] += 1
            except ContractBroken as e:
                broken.append((str(e), data))
                if failures is not None:
                    failures.mkdir(parents=True, exist_ok=True)
                    (failures / f"{target}-{zlib.crc32(data):08x}").write_bytes(data)
    return counts, broken
