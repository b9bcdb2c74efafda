"""tg.load's PyTorch-shaped arguments and lazy access: file objects, mmap=True, safe_open,
F16/BF16 files (widened to float32), map_location and weights_only."""

import gc
import io

import numpy as np
import pytest
import torch
from safetensors import safe_open as reference_safe_open
from safetensors.torch import save_file

import tapegrad as tg
from tapegrad.serialization import load_numpy, safe_open


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "state.safetensors"
    tg.save({"w": tg.tensor([[1.0, 2.0], [3.0, 4.0]]), "n": tg.tensor([1, 2, 3]), "e": tg.zeros(0)}, path)
    return path


def test_half_and_bfloat16_load_as_float32_exactly(tmp_path):
    path = tmp_path / "half.safetensors"
    values = torch.tensor([0.0, -1.5, 3.140625, 65504.0, 1e-3])
    save_file({"h": values.half(), "b": values.bfloat16()}, str(path))
    loaded = tg.load(path)
    assert loaded["h"].dtype == tg.float32 and loaded["b"].dtype == tg.float32
    np.testing.assert_array_equal(loaded["h"].numpy(), values.half().float().numpy())
    np.testing.assert_array_equal(loaded["b"].numpy(), values.bfloat16().float().numpy())
    np.testing.assert_array_equal(tg.load(path, mmap=True)["b"].numpy(), values.bfloat16().float().numpy())


def test_save_and_load_take_file_objects(state_file):
    buffer = io.BytesIO()
    tg.save({"model": {"w": tg.ones(2)}, "epoch": 3}, buffer)
    buffer.seek(0)
    assert tg.load(buffer)["epoch"] == 3
    with open(state_file, "rb") as f:
        assert tg.load(f)["w"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    prefixed = io.BytesIO(b"junk" + state_file.read_bytes())
    prefixed.seek(4)  # read from where the file object stands, as torch.load does
    assert tg.load(prefixed)["n"].tolist() == [1, 2, 3]


def test_mmap_loads_the_same_tensors_and_never_writes_the_file(state_file):
    before = state_file.read_bytes()
    mapped = tg.load(state_file, mmap=True)
    assert {name: t.tolist() for name, t in mapped.items()} == {name: t.tolist() for name, t in tg.load(state_file).items()}
    weight = mapped["w"]
    weight.add_(1.0)
    del mapped  # the tensor keeps the map alive
    gc.collect()
    assert weight.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    assert state_file.read_bytes() == before
    assert load_numpy(state_file, mmap=True)["n"].tolist() == [1, 2, 3]


def test_safe_open_reads_one_tensor_as_the_safetensors_package(state_file):
    with safe_open(state_file) as ours, reference_safe_open(str(state_file), framework="np") as theirs:
        assert sorted(ours.keys()) == sorted(theirs.keys())
        for name in theirs.keys():
            np.testing.assert_array_equal(ours.get_tensor(name).numpy(), theirs.get_tensor(name))
        with pytest.raises(KeyError, match="no tensor 'missing'"):
            ours.get_tensor("missing")
    with safe_open(state_file, framework="np") as ours:
        assert isinstance(ours.get_tensor("w"), np.ndarray)


def test_safe_open_checks_the_header_as_load_does(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\0" * 4)
    with pytest.raises(ValueError, match="short.safetensors: 4 bytes is too short"):
        safe_open(path)


def test_map_location_and_weights_only_as_pytorch_code_passes_them(state_file):
    for location in ("cpu", tg.device("cpu"), None):
        assert tg.load(state_file, map_location=location, weights_only=True)["n"].tolist() == [1, 2, 3]
    with pytest.raises(RuntimeError, match=r"\[load\] cannot load onto 'cuda:0'.*CPU only"):
        tg.load(state_file, map_location="cuda:0")
    with pytest.raises(TypeError, match="weights_only"):
        tg.load(state_file, weights_only="yes")
