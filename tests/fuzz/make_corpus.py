"""Writes the seed inputs of tests/fuzz/corpus/{load,idx}: valid files, each defect issue #19
found (named after it) and the edge cases around the readers' limits. Rerun after changing it:

    python tests/fuzz/make_corpus.py

Inputs found by run_atheris.py that are worth keeping are copied in beside these by hand.
"""

import gzip
import json
import struct
import sys
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).parent / "corpus"


def safetensors(header, data=b"", header_bytes=None):
    encoded = header_bytes if header_bytes is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def tensor(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def with_structure(structure, tensors=None, data=b""):
    return safetensors({**(tensors or {}), "__metadata__": {"tapegrad.structure": structure}}, data)


def load_inputs():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from tapegrad.serialization import save

    folder = CORPUS / "load"
    state = {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
             "0.bias": np.array([0.5, -1.5], np.float64), "steps": np.array(3, np.int64),
             "ids": np.array([1, 2], np.int32), "mask": np.array([True, False]),
             "empty": np.zeros((0, 3), np.float32)}
    save(state, folder / "valid_state_dict.safetensors")
    optimizer = {"state": {0: {"exp_avg": np.ones(2, np.float32), "step": 3}},
                 "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0]}]}
    save(optimizer, folder / "valid_optimizer_state.safetensors")
    yield "valid_empty.safetensors", safetensors({})
    deep = "[" * 3000 + "]" * 3000  # deeper than Python's recursion limit
    yield "issue19_nested_header.safetensors", safetensors(None, header_bytes=b'{"w":%s}' % deep.encode())
    yield "issue19_nested_structure.safetensors", with_structure(deep)
    yield "nested_structure_600.safetensors", with_structure("[" * 600 + "]" * 600)
    for name, structure in [("dict_not_list", '{"__dict__": 5}'), ("dict_pair_short", '{"__dict__": [[1]]}'),
                            ("dict_key_list", '{"__dict__": [[[1], 2]]}'), ("tuple_not_list", '{"__tuple__": 3}'),
                            ("tensor_name_list", '{"__tensor__": []}'),
                            ("tensor_tag_and_more", '{"__tensor__": "w", "x": 1}')]:
        yield f"issue19_structure_{name}.safetensors", with_structure(structure)
    yield "structure_names_missing_tensor.safetensors", with_structure('{"a": {"__tensor__": "gone"}}')
    yield "structure_not_json.safetensors", with_structure('{"a": ')
    yield "found_malformed_node_holding_deep_json.safetensors", with_structure(
        "[" * 90 + '{"__tensor__": %s}' % ("[" * 800 + "]" * 800) + "]" * 90)
    for name, shape in [("zero_times_huge", [0, 2**62, 2**62]), ("zero_times_2_70", [0, 2**70]),
                        ("65_zero_dims", [0] * 65), ("65_unit_dims", [1] * 65)]:
        size = 0 if 0 in shape else 4
        yield f"issue19_shape_{name}.safetensors", safetensors({"w": tensor(shape=shape, offsets=(0, size))},
                                                               b"\0" * size)
    yield "shape_64_zero_dims.safetensors", safetensors({"w": tensor("BOOL", [0] * 64, (0, 0))})
    yield "shape_zero_by_max_int64.safetensors", safetensors({"w": tensor("BOOL", [0, 2**63 - 1], (0, 0))})
    yield "header_length_huge.safetensors", struct.pack("<Q", 2**64 - 1) + b"{}"
    yield "header_not_object.safetensors", safetensors([1, 2])
    yield "header_not_utf8.safetensors", safetensors(None, header_bytes=b'{"\xff": 1}')
    yield "duplicate_keys.safetensors", safetensors(None, header_bytes=b'{"w": 1, "w": 2}')
    yield "overlapping_tensors.safetensors", safetensors(
        {"a": tensor(offsets=(0, 8)), "b": tensor(offsets=(4, 12))}, b"\0" * 12)
    yield "gap_between_tensors.safetensors", safetensors(
        {"a": tensor(offsets=(0, 8)), "b": tensor(offsets=(12, 20))}, b"\0" * 20)
    yield "unknown_dtype.safetensors", safetensors({"w": tensor("F16", (2,), (0, 4))}, b"\0" * 4)
    yield "short.safetensors", b"\x10\0\0"


def idx(dims, payload=None):
    payload = bytes(int(np.prod(dims))) if payload is None else payload
    return bytes([0, 0, 0x08, len(dims)]) + np.array(dims, ">u4").tobytes() + payload


def idx_inputs():
    images = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).tobytes()
    yield "valid_images", idx((2, 28, 28), images)
    yield "valid_images.gz", gzip.compress(idx((2, 28, 28), images), mtime=0)
    yield "valid_labels", idx((3,), bytes([1, 2, 9]))
    yield "valid_labels.gz", gzip.compress(idx((3,), bytes([1, 2, 9])), mtime=0)
    yield "issue19_zero_image_dim", idx((5, 0, 28))
    yield "issue19_zero_image_dim.gz", gzip.compress(idx((5, 0, 28)), mtime=0)
    yield "zero_images", idx((0, 28, 28))
    yield "found_zero_by_huge_dims", idx((0, 2**32 - 1, 2**32 - 1))
    yield "issue19_gz_claims_huge_array.gz", gzip.compress(idx((100_000, 28, 28), b""), mtime=0)
    yield "gz_claims_4g_cubed.gz", gzip.compress(idx((2**32 - 1,) * 3, b""), mtime=0)
    yield "plain_claims_huge_array", idx((100_000, 28, 28), bytes(100))
    yield "gz_truncated.gz", gzip.compress(idx((2, 28, 28), images), mtime=0)[:-12]
    yield "gz_bad_crc.gz", gzip.compress(idx((3,), b"abc"), mtime=0)[:-8] + b"\0" * 8
    yield "gz_trailing_garbage.gz", gzip.compress(idx((3,), b"abc"), mtime=0) + b"junk"
    yield "gz_two_members.gz", gzip.compress(idx((3,), b"a"), mtime=0) + gzip.compress(b"bc", mtime=0)
    yield "trailing_byte", idx((3,), b"abcd")
    yield "bad_magic", b"\x01\x00" + idx((3,), b"abc")[2:]
    yield "float_type", bytes([0, 0, 0x0D, 1]) + np.array([1], ">u4").tobytes() + b"\0" * 4
    yield "header_only_magic", bytes([0, 0, 0x08, 3])
    yield "empty", b""


def main():
    for target, inputs in (("load", load_inputs()), ("idx", idx_inputs())):
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in inputs:
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
