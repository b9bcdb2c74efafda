"""tapegrad.train: the tapegrad-train command's options and checkpoint reading.

test_core_* runs the command end to end on a tiny data set and needs the compiled core with
nn and optim.
"""

import gzip

import numpy as np
import pytest

from tapegrad import train


def test_defaults_match_the_documented_command():
    args = train.parse_args([])
    assert (args.dataset, args.epochs, args.batch_size, args.hidden, args.optimizer) == \
        ("fashion-mnist", 3, 128, [128], "sgd")
    assert args.lr is None and args.save is None and args.evaluate is None


def test_hidden_takes_comma_separated_sizes():
    assert train.parse_args(["--hidden", "256,128"]).hidden == [256, 128]


@pytest.mark.parametrize("option, value, message", [
    ("--hidden", "abc", "takes sizes like"), ("--hidden", "128,-1", "must be positive"), ("--hidden", "0", "positive"),
    ("--hidden", "", "takes sizes like"), ("--hidden", "64,,32", "takes sizes like"),
    ("--epochs", "-1", "non-negative integer"), ("--epochs", "two", "non-negative integer"),
    ("--lr", "-1", "positive finite"), ("--lr", "0", "positive finite"), ("--lr", "nan", "positive finite"),
    ("--lr", "inf", "positive finite"), ("--lr", "fast", "positive number"),
    ("--batch-size", "0", "positive integer"), ("--batch-size", "1.5", "positive integer"),
    ("--threads", "0", "positive integer"), ("--seed", str(2**64), "must be in"), ("--seed", "x", "integer"),
])
def test_bad_option_is_a_usage_error_naming_it(option, value, message, capsys):
    with pytest.raises(SystemExit) as info:
        train.parse_args([option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and message in err and "Traceback" not in err


def test_save_path_is_checked_before_any_work(tmp_path, capsys):
    for path, message in ((tmp_path / "missing" / "x.st", "does not exist"), (tmp_path, "is a folder")):
        with pytest.raises(SystemExit):
            train.parse_args(["--save", str(path)])
        err = capsys.readouterr().err
        assert f"--save {path}: " in err and message in err
    assert train.parse_args(["--save", str(tmp_path / "x.st")]).save == str(tmp_path / "x.st")


def test_data_folder_must_exist(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--data", str(tmp_path / "nope")])
    assert "no such folder" in capsys.readouterr().err


def test_unknown_dataset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--dataset", "cifar10"])
    assert "invalid choice" in capsys.readouterr().err


def mlp_state(*sizes, bias=True):
    state = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        state[f"{2 * layer}.weight"] = np.zeros((fan_out, fan_in))
        if bias:
            state[f"{2 * layer}.bias"] = np.zeros(fan_out)
    return state


def test_layer_sizes_are_read_from_checkpoint_weight_shapes():
    assert train.sizes_from_state_dict(mlp_state(784, 256, 128, 10)) == [784, 256, 128, 10]


@pytest.mark.parametrize("state, message", [
    ({"0.weight": np.zeros((64, 784)), "0.bias": np.zeros(64), "2.weight": np.zeros((10, 128)),
      "2.bias": np.zeros(10)}, "do not chain"),
    (mlp_state(784, 10, bias=False), "lacks its bias"),
    ({"0.weight": np.zeros(10), "0.bias": np.zeros(10)}, "needs"),
    ({"0.weight": np.zeros((10, 784)), "0.bias": np.zeros(9)}, "needs"),
    ({"fc.weight": np.zeros((10, 784))}, "unexpected entry 'fc.weight'"),
    ({"0.weight": np.zeros((10, 784)), "0.bias": np.zeros(10), "3.weight": np.zeros((10, 10)),
      "3.bias": np.zeros(10)}, "not 0, 2, 4"),
    ({}, "no state dict"),
    ({"state": {}, "param_groups": []}, "unexpected entry 'state'"),
], ids=["no-chain", "no-bias", "1-d-weight", "bias-size", "foreign-key", "odd-index", "empty", "optimizer"])
def test_checkpoint_that_is_not_this_commands_mlp_is_rejected(state, message):
    with pytest.raises(ValueError, match=message):
        train.sizes_from_state_dict(state)


def isolate_data(tmp_path, monkeypatch):
    from tapegrad import datasets

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TAPEGRAD_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "system")
    monkeypatch.setattr(datasets, "_download_file", _refuse_download)


def test_missing_data_exits_with_the_datasets_advice(tmp_path, monkeypatch, capsys):
    isolate_data(tmp_path, monkeypatch)
    assert train.main([]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_explicit_data_folder_without_the_files_is_named(tmp_path, monkeypatch, capsys):
    isolate_data(tmp_path, monkeypatch)
    # The cache has a data set, but an explicit --data folder is used as given.
    (tmp_path / "cache" / "tapegrad" / "fashion-mnist").mkdir(parents=True)
    _write_tiny_dataset(tmp_path / "cache" / "tapegrad" / "fashion-mnist", 16, seed=0)
    (tmp_path / "empty").mkdir()
    assert train.main(["--data", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert f"not found in root {tmp_path / 'empty'}" in err and "Traceback" not in err


def _refuse_download(urls, destination, md5):
    raise OSError("no network in tests")


def _write_tiny_dataset(folder, count, seed):
    """Separable data: the class is the row of the image that is lit."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    images = np.zeros((count, 28, 28), np.uint8)
    images[np.arange(count), labels * 2, :] = 255
    for prefix, n in (("train", count), ("t10k", count)):
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
            (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(
                gzip.compress(header + array[:n].tobytes()))


def test_core_train_save_and_evaluate_end_to_end(tmp_path, capsys):
    _write_tiny_dataset(tmp_path, 512, seed=0)
    checkpoint = tmp_path / "mlp.safetensors"
    assert train.main(["--data", str(tmp_path), "--epochs", "3", "--batch-size", "32",
                       "--hidden", "16", "--save", str(checkpoint), "--no-progress"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("test accuracy: ") and float(lines[-1].split()[-1]) > 0.9
    assert train.main(["--data", str(tmp_path), "--evaluate", str(checkpoint)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == lines[-1]


def test_core_same_seed_gives_the_same_run(tmp_path, capsys):
    _write_tiny_dataset(tmp_path, 256, seed=1)
    runs = []
    for seed in ("3", "3", "4"):
        assert train.main(["--data", str(tmp_path), "--epochs", "2", "--batch-size", "16", "--hidden", "8",
                           "--seed", seed, "--no-progress"]) == 0
        runs.append([line.split(",")[0] for line in capsys.readouterr().out.splitlines()])
    assert runs[0] == runs[1] and runs[0] != runs[2]


def _save_state(path, state):
    import tapegrad

    tapegrad.save({key: tapegrad.tensor(value) for key, value in state.items()}, path)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda folder: folder / "missing.safetensors", "cannot read checkpoint .*: No such file or directory"),
    (lambda folder: folder, "cannot read checkpoint .*: Is a directory"),
    (lambda folder: _write_bytes(folder / "junk.st", b"\x0a\x00\x00\x00\x00\x00\x00\x00{not json}"),
     "not a valid checkpoint: .*junk.st: header is not valid JSON"),
    (lambda folder: _save_state(folder / "wide.st", mlp_state(100, 10)), "maps 100 inputs to 10 outputs"),
    (lambda folder: _save_state(folder / "classes.st", mlp_state(784, 32, 5)), "maps 784 inputs to 5 outputs"),
    (lambda folder: _save_state(folder / "bias.st", {**mlp_state(784, 10), "0.bias": np.zeros(3)}),
     "not a checkpoint of this command's MLP: layer 0 has weight"),
], ids=["missing", "folder", "corrupt", "inputs", "outputs", "shapes"])
def test_core_bad_checkpoint_is_a_one_line_error(tmp_path, capsys, make, message):
    import re

    _write_tiny_dataset(tmp_path, 16, seed=0)
    checkpoint = make(tmp_path)
    assert train.main(["--data", str(tmp_path), "--evaluate", str(checkpoint)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


def _write_bytes(path, payload):
    path.write_bytes(payload)
    return path
