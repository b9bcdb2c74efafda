"""tapegrad.serialization: the safetensors format written and read by hand.

Round trips run at the NumPy level (``save`` takes arrays, ``load_numpy`` returns them) and are
cross-checked with the ``safetensors`` package. Tests named test_core_* need the compiled core.
"""

import json
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from tapegrad import serialization
from tapegrad.serialization import load, load_numpy, save


def sample_state_dict():
    return {
        "0.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
        "0.bias": np.array([0.5, -1.5, 2.0], dtype=np.float64),
        "steps": np.array(7, dtype=np.int64),
        "counts": np.array([[1, 2]], dtype=np.int32),
        "mask": np.array([True, False, True]),
        "empty": np.zeros((0, 5), dtype=np.float32),
    }


def assert_same_arrays(actual, expected):
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key].dtype == expected[key].dtype, key
        assert actual[key].shape == expected[key].shape, key
        np.testing.assert_array_equal(actual[key], expected[key])


def write_raw(path, header, data=b"", header_len=None):
    encoded = json.dumps(header).encode() if isinstance(header, dict) else header
    length = len(encoded) if header_len is None else header_len
    path.write_bytes(struct.pack("<Q", length) + encoded + data)
    return path


def entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


# -- state dicts ------------------------------------------------------------------------------


def test_state_dict_round_trips_every_dtype(tmp_path):
    path = tmp_path / "m.safetensors"
    save(sample_state_dict(), path)
    assert_same_arrays(load_numpy(path), sample_state_dict())


def test_safetensors_reads_what_save_writes(tmp_path):
    path = tmp_path / "m.safetensors"
    save(sample_state_dict(), path)
    assert_same_arrays(load_file(str(path)), sample_state_dict())


def test_load_reads_what_safetensors_writes(tmp_path):
    path = tmp_path / "m.safetensors"
    save_file(sample_state_dict(), str(path), metadata={"format": "np"})
    assert_same_arrays(load_numpy(path), sample_state_dict())


def test_header_is_padded_to_eight_bytes(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"x": np.zeros(3, np.float32)}, path)
    (header_len,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert header_len % 8 == 0


def test_non_contiguous_and_big_endian_arrays_are_saved_by_value(tmp_path):
    base = np.arange(20, dtype=np.float64).reshape(4, 5)
    arrays = {"strided": base[:, ::2], "big_endian": base.astype(">f8")}
    path = tmp_path / "m.safetensors"
    save(arrays, path)
    loaded = load_file(str(path))
    np.testing.assert_array_equal(loaded["strided"], base[:, ::2])
    np.testing.assert_array_equal(loaded["big_endian"], base)


def test_loaded_arrays_are_writable(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"x": np.zeros(3, np.float32)}, path)
    x = load_numpy(path)["x"]
    x[0] = 1.0
    assert x[0] == 1.0


def test_unsupported_dtype_is_type_error_naming_key(tmp_path):
    with pytest.raises(TypeError, match=r"'half'.*float16"):
        save({"half": np.zeros(2, np.float16)}, tmp_path / "m.safetensors")


# -- nested objects (optimizer state) ---------------------------------------------------------


def optimizer_state():
    return {
        "state": {
            0: {"step": 3, "exp_avg": np.ones((2, 2), np.float32),
                "exp_avg_sq": np.full((2, 2), 0.25, np.float32)},
            1: {"step": np.int64(3), "momentum_buffer": np.zeros(2, np.float64)},
        },
        "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
             "amsgrad": False, "foreach": None, "name": "body", "params": [0, 1]},
        ],
    }


def test_optimizer_state_round_trips_with_int_keys_and_tuples(tmp_path):
    path = tmp_path / "opt.safetensors"
    save(optimizer_state(), path)
    loaded = load_numpy(path)
    expected = optimizer_state()
    assert loaded["param_groups"] == expected["param_groups"]
    assert isinstance(loaded["param_groups"][0]["betas"], tuple)
    assert set(loaded["state"]) == {0, 1}
    assert loaded["state"][0]["step"] == 3 and loaded["state"][1]["step"] == 3
    np.testing.assert_array_equal(loaded["state"][0]["exp_avg"], expected["state"][0]["exp_avg"])
    np.testing.assert_array_equal(loaded["state"][1]["momentum_buffer"], np.zeros(2))


def test_optimizer_state_tensors_are_plain_safetensors_entries(tmp_path):
    path = tmp_path / "opt.safetensors"
    save(optimizer_state(), path)
    loaded = load_file(str(path))
    assert sorted(loaded) == ["state.0.exp_avg", "state.0.exp_avg_sq", "state.1.momentum_buffer"]
    np.testing.assert_array_equal(loaded["state.0.exp_avg_sq"], np.full((2, 2), 0.25))


def test_flattened_names_escape_dots_and_percent(tmp_path):
    nested = {"a.b": {"c%2E": np.ones(1, np.float32)}, "a": {"b.c%2E": np.zeros(1, np.float32)}}
    path = tmp_path / "n.safetensors"
    save({"outer": nested}, path)
    assert sorted(load_file(str(path))) == ["outer.a%2Eb.c%252E", "outer.a.b%2Ec%252E"]
    loaded = load_numpy(path)["outer"]
    assert loaded.keys() == nested.keys()
    np.testing.assert_array_equal(loaded["a.b"]["c%2E"], np.ones(1))
    np.testing.assert_array_equal(loaded["a"]["b.c%2E"], np.zeros(1))


def test_keys_that_flatten_to_the_same_name_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="flatten to the name 's.0'"):
        save({"s": {0: np.zeros(1), "0": np.ones(1)}}, tmp_path / "x.safetensors")


def test_unsavable_value_is_type_error_naming_where(tmp_path):
    with pytest.raises(TypeError, match=r"state\.0\.fn.*function"):
        save({"state": {0: {"fn": lambda: 0}}}, tmp_path / "x.safetensors")


def test_torch_adam_state_dict_round_trips(tmp_path):
    import torch  # the test oracle, in the test extra
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    path = tmp_path / "adam.safetensors"
    save(optimizer.state_dict(), path)
    loaded = load_numpy(path)
    expected = optimizer.state_dict()
    assert loaded["param_groups"][0]["lr"] == 0.01
    assert loaded["param_groups"][0]["betas"] == expected["param_groups"][0]["betas"]
    for index, state in expected["state"].items():
        for name, value in state.items():
            np.testing.assert_array_equal(loaded["state"][index][name], value.numpy())


# -- header validation ------------------------------------------------------------------------


def test_file_shorter_than_length_field(tmp_path):
    path = tmp_path / "tiny.safetensors"
    path.write_bytes(b"\x01\x02")
    with pytest.raises(ValueError, match=r"tiny\.safetensors.*too short"):
        load_numpy(path)


def test_header_length_past_end_of_file(tmp_path):
    path = write_raw(tmp_path / "long.safetensors", b"{}", header_len=1 << 40)
    with pytest.raises(ValueError, match=r"long\.safetensors.*header length 1099511627776"):
        load_numpy(path)


def test_header_not_json(tmp_path):
    path = write_raw(tmp_path / "bad.safetensors", b"{not json")
    with pytest.raises(ValueError, match=r"bad\.safetensors.*not valid JSON"):
        load_numpy(path)


def test_header_not_an_object(tmp_path):
    path = write_raw(tmp_path / "list.safetensors", b"[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        load_numpy(path)


def test_duplicate_keys_rejected(tmp_path):
    raw = b'{"w": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "w": {}}'
    with pytest.raises(ValueError, match="duplicate key 'w'"):
        load_numpy(write_raw(tmp_path / "dup.safetensors", raw))


def test_metadata_values_must_be_strings(tmp_path):
    path = write_raw(tmp_path / "meta.safetensors", {"__metadata__": {"epoch": 3}})
    with pytest.raises(ValueError, match="__metadata__ must map strings to strings"):
        load_numpy(path)


def test_unknown_dtype_names_key(tmp_path):
    path = write_raw(tmp_path / "u8.safetensors", {"w": entry("U8", (2,), (0, 2))}, b"\0" * 2)
    with pytest.raises(ValueError, match=r"u8\.safetensors: tensor 'w': unsupported dtype 'U8'"):
        load_numpy(path)


def test_negative_shape_names_key(tmp_path):
    path = write_raw(tmp_path / "neg.safetensors", {"w": entry("F32", (-2,), (0, 0))})
    with pytest.raises(ValueError, match=r"tensor 'w': shape \[-2\]"):
        load_numpy(path)


def test_offsets_must_match_shape_times_itemsize(tmp_path):
    path = write_raw(tmp_path / "size.safetensors", {"w": entry("F32", (3,), (0, 8))}, b"\0" * 8)
    with pytest.raises(ValueError, match=r"tensor 'w'.*hold 8 bytes.*needs 12"):
        load_numpy(path)


def test_offsets_past_data_section(tmp_path):
    path = write_raw(tmp_path / "past.safetensors", {"w": entry("F32", (2,), (0, 8))}, b"\0" * 4)
    with pytest.raises(ValueError, match=r"past\.safetensors: tensor 'w'.*past the data section"):
        load_numpy(path)


def test_offsets_begin_after_end(tmp_path):
    path = write_raw(tmp_path / "rev.safetensors", {"w": entry("F32", (0,), (8, 0))}, b"\0" * 8)
    with pytest.raises(ValueError, match=r"tensor 'w': data_offsets \[8, 0\]"):
        load_numpy(path)


def test_overlapping_tensors_rejected(tmp_path):
    header = {"a": entry("F32", (2,), (0, 8)), "b": entry("F32", (2,), (4, 12))}
    path = write_raw(tmp_path / "overlap.safetensors", header, b"\0" * 12)
    with pytest.raises(ValueError, match=r"tensor 'b'.*overlaps the tensor before it \(tensor 'a' ends at 8\)"):
        load_numpy(path)


# Layouts of the data section: (entries as (name, dtype, shape, offsets), data bytes, valid?).
# The safetensors package accepts exactly those whose tensors tile the data section.
TILINGS = {
    "contiguous": ([("a", "F32", (2,), (0, 8)), ("b", "I64", (1,), (8, 16))], 16, True),
    "out of header order": ([("b", "I64", (1,), (8, 16)), ("a", "F32", (2,), (0, 8))], 16, True),
    "empty tensors at the ends": ([("e", "F32", (0,), (0, 0)), ("a", "F32", (2,), (0, 8)),
                                   ("z", "F32", (0, 3), (8, 8))], 8, True),
    "no tensors, no data": ([], 0, True),
    "gap at the start": ([("a", "F32", (2,), (4, 12))], 12, False),
    "gap between": ([("a", "F32", (2,), (0, 8)), ("b", "F32", (1,), (12, 16))], 16, False),
    "bytes after the last": ([("a", "F32", (2,), (0, 8))], 12, False),
    "no tensors, some data": ([], 8, False),
    "empty tensor inside another": ([("a", "F32", (2,), (0, 8)), ("e", "F32", (0,), (4, 4))], 8, False),
    "overlap": ([("a", "F32", (2,), (0, 8)), ("b", "F32", (2,), (4, 12))], 12, False),
}


@pytest.mark.parametrize("layout", TILINGS, ids=list(TILINGS))
def test_tensors_must_tile_the_data_section_as_safetensors_requires(tmp_path, layout):
    from safetensors.numpy import load_file

    entries, data_size, valid = TILINGS[layout]
    header = {name: entry(dtype, shape, offsets) for name, dtype, shape, offsets in entries}
    path = write_raw(tmp_path / "t.safetensors", json.dumps(header).encode() if header else b"{}", b"\0" * data_size)
    try:
        load_file(str(path))
        theirs = True
    except Exception:  # safetensors raises its own SafetensorError
        theirs = False
    assert theirs == valid
    if valid:
        assert sorted(load_numpy(path)) == sorted(header)
    else:
        with pytest.raises(ValueError, match=r"t\.safetensors: .*(gap|overlaps|unaccounted)"):
            load_numpy(path)


def test_entry_with_missing_fields_names_key(tmp_path):
    path = write_raw(tmp_path / "fields.safetensors", {"w": {"dtype": "F32", "shape": [0]}})
    with pytest.raises(ValueError, match=r"tensor 'w': entry must have exactly"):
        load_numpy(path)


def test_structure_naming_missing_tensor(tmp_path):
    structure = json.dumps({"state": {"__tensor__": "gone"}})
    path = write_raw(tmp_path / "gone.safetensors",
                     {"__metadata__": {"tapegrad.structure": structure}})
    with pytest.raises(ValueError, match=r"gone\.safetensors.*tensor 'gone'"):
        load_numpy(path)


def nested(depth):
    return "[" * depth + "]" * depth


def with_structure(tmp_path, structure):
    return write_raw(tmp_path / "structure.safetensors",
                     {"__metadata__": {"tapegrad.structure": structure}})


def test_deeply_nested_header_is_value_error_naming_file(tmp_path):
    path = write_raw(tmp_path / "deep.safetensors", b'{"w": %s}' % nested(100_000).encode())
    with pytest.raises(ValueError, match=r"deep\.safetensors: header .*nested"):
        load_numpy(path)


@pytest.mark.parametrize("depth", [600, 100_000])
def test_deeply_nested_structure_is_value_error_naming_file(tmp_path, depth):
    # 600 levels parse as JSON but are deeper than rebuilding the object can go.
    with pytest.raises(ValueError, match=r"structure\.safetensors: .*tapegrad\.structure.*nested"):
        load_numpy(with_structure(tmp_path, nested(depth)))


def test_structure_as_deep_as_save_writes_loads(tmp_path):
    obj = {"w": np.ones(2, np.float32)}
    for _ in range(serialization.MAX_STRUCTURE_DEPTH - 1):
        obj = [obj]
    save(obj, tmp_path / "deep.safetensors")
    loaded = load_numpy(tmp_path / "deep.safetensors")
    for _ in range(serialization.MAX_STRUCTURE_DEPTH - 1):
        loaded = loaded[0]
    np.testing.assert_array_equal(loaded["w"], np.ones(2, np.float32))


def test_save_refuses_a_structure_deeper_than_load_reads(tmp_path):
    obj = []
    for _ in range(serialization.MAX_STRUCTURE_DEPTH):
        obj = [obj]
    with pytest.raises(ValueError, match=r"nested more than"):
        save(obj, tmp_path / "deep.safetensors")


@pytest.mark.parametrize("structure", [
    '{"__dict__": 5}',
    '{"__dict__": [[1]]}',
    '{"__dict__": [[[1], 2]]}',
    '{"__dict__": [[{"a": 1}, 2]]}',
    '{"__tuple__": 3}',
    '{"__tensor__": []}',
    '{"__tensor__": "w", "extra": 1}',
])
def test_malformed_structure_is_value_error_naming_file(tmp_path, structure):
    with pytest.raises(ValueError, match=r"structure\.safetensors: .*tapegrad\.structure"):
        load_numpy(with_structure(tmp_path, structure))


def test_malformed_node_holding_deep_json_is_value_error_naming_file(tmp_path):
    # The message describes the node without printing its value, which is too deep to print.
    structure = "[" * 90 + '{"__tensor__": %s}' % nested(800) + "]" * 90
    with pytest.raises(ValueError, match=r'malformed node \{"__tensor__": list\}'):
        load_numpy(with_structure(tmp_path, structure))


@pytest.mark.parametrize("shape", [[0, 2**62, 2**62], [0, 2**70], [0] * 65, [1] * 65])
def test_shape_numpy_cannot_make_is_value_error_naming_file(tmp_path, shape):
    size = 4 if 0 not in shape else 0
    path = write_raw(tmp_path / "shape.safetensors", {"w": entry(shape=shape, offsets=(0, size))},
                     b"\0" * size)
    with pytest.raises(ValueError, match=r"shape\.safetensors: tensor 'w': shape"):
        load_numpy(path)


# -- tensors (need the core) ------------------------------------------------------------------


def test_core_load_returns_tapegrad_tensors(tmp_path):
    import tapegrad

    path = tmp_path / "m.safetensors"
    save(sample_state_dict(), path)
    loaded = load(path)
    assert loaded["0.weight"].dtype == tapegrad.float32
    np.testing.assert_array_equal(loaded["0.weight"].numpy(), sample_state_dict()["0.weight"])


def test_core_save_takes_tapegrad_tensors_that_require_grad(tmp_path):
    import tapegrad

    weight = tapegrad.ones(2, 3, requires_grad=True)
    path = tmp_path / "m.safetensors"
    save({"weight": weight}, path)
    np.testing.assert_array_equal(load_file(str(path))["weight"], np.ones((2, 3), np.float32))
