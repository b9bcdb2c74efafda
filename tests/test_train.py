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


# ---- --model lenet ---------------------------------------------------------------------------

LENET_OPTIONS = ["--model", "lenet", "--batch-size", "32", "--lr", "0.05", "--no-progress"]


def test_model_is_mlp_by_default_and_lenet_has_no_hidden_sizes():
    assert train.parse_args([]).model == "mlp"
    args = train.parse_args(["--model", "lenet"])
    assert args.model == "lenet" and args.hidden is None


def test_hidden_with_lenet_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        train.parse_args(["--model", "lenet", "--hidden", "64"])
    assert info.value.code == 2
    assert "--hidden sets the layers of --model mlp" in capsys.readouterr().err


def test_core_lenet_has_lenet5s_layers():
    model = train.build_lenet()
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert shapes == {"features.0.weight": (6, 1, 5, 5), "features.0.bias": (6,),
                      "features.3.weight": (16, 6, 5, 5), "features.3.bias": (16,),
                      "classifier.0.weight": (120, 400), "classifier.0.bias": (120,),
                      "classifier.2.weight": (84, 120), "classifier.2.bias": (84,),
                      "classifier.4.weight": (10, 84), "classifier.4.bias": (10,)}
    import tapegrad

    assert tuple(model(tapegrad.zeros(3, 784)).shape) == (3, 10)


def test_core_lenet_train_save_and_evaluate_end_to_end(tmp_path, capsys):
    _write_tiny_dataset(tmp_path, 256, seed=0)
    checkpoint = tmp_path / "lenet.safetensors"
    assert train.main(["--data", str(tmp_path), "--epochs", "3", *LENET_OPTIONS, "--save", str(checkpoint)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("test accuracy: ") and float(lines[-1].split()[-1]) > 0.9
    # --evaluate reads the architecture from the file, as for the MLP.
    assert train.main(["--data", str(tmp_path), "--evaluate", str(checkpoint)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == lines[-1]


def test_core_lenet_checkpoint_with_other_shapes_is_a_one_line_error(tmp_path, capsys):
    _write_tiny_dataset(tmp_path, 16, seed=0)
    state = {key: value.numpy() for key, value in train.build_lenet().state_dict().items()}
    state["features.3.weight"] = np.zeros((8, 6, 5, 5), np.float32)
    checkpoint = _save_state(tmp_path / "narrow.st", state)
    assert train.main(["--data", str(tmp_path), "--evaluate", str(checkpoint)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a checkpoint of this command's LeNet-5" in err


class _Interrupted(Exception):
    pass


def test_core_lenet_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path, capsys, monkeypatch):
    import json

    import tapegrad

    data = tmp_path / "data"
    data.mkdir()
    _write_tiny_dataset(data, 128, seed=2)
    options = ["--data", str(data), "--epochs", "2", *LENET_OPTIONS]
    whole, resumed, folder = tmp_path / "whole.st", tmp_path / "resumed.st", tmp_path / "ckpt"
    assert train.main([*options, "--save", str(whole)]) == 0
    save_checkpoint = train.save_checkpoint

    def killed_after_epoch_1(path, *state):
        save_checkpoint(path, *state)
        if state[3] == 1:
            raise _Interrupted

    monkeypatch.setattr(train, "save_checkpoint", killed_after_epoch_1)
    with pytest.raises(_Interrupted):
        train.main([*options, "--checkpoint-dir", str(folder)])
    monkeypatch.undo()
    assert tapegrad.load(folder / "last.safetensors")["epoch"] == 1
    capsys.readouterr()
    assert train.main([*options, "--checkpoint-dir", str(folder), "--resume", str(folder / "last.safetensors"),
                       "--save", str(resumed), "--metrics", str(tmp_path / "m.json")]) == 0
    assert "epoch 2/2" in capsys.readouterr().out
    assert whole.read_bytes() == resumed.read_bytes()
    assert [row["epoch"] for row in json.loads((tmp_path / "m.json").read_text())] == [1, 2]
    # A checkpoint of the MLP does not resume as LeNet-5, nor one of LeNet-5 as the MLP.
    assert train.main([*options[:-len(LENET_OPTIONS)], "--batch-size", "32", "--no-progress",
                       "--resume", str(folder / "last.safetensors")]) == 1
    assert "--model 'lenet' (given 'mlp')" in capsys.readouterr().err


def test_core_checkpoint_from_before_the_model_option_resumes_as_the_mlp(tmp_path):
    import tapegrad

    args = train.parse_args([])
    options = {name: getattr(args, name) for name in train.RESUME_OPTIONS if name != "model"}
    path = tmp_path / "old.st"
    tapegrad.save({"model": {}, "optimizer": {}, "scheduler": None, "epoch": 1, "rng_state": tapegrad.get_rng_state(),
                   "metrics": [], "best": 0.5, "options": options}, path)
    assert train.read_resume_checkpoint(path, args)["epoch"] == 1
    with pytest.raises(train.InputError, match="--model 'mlp' \\(given 'lenet'\\)"):
        train.read_resume_checkpoint(path, train.parse_args(["--model", "lenet"]))
