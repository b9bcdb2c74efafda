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


@pytest.mark.parametrize("bad", ["abc", "128,-1", "0"])
def test_bad_hidden_is_a_usage_error(bad, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--hidden", bad])
    assert "--hidden" in capsys.readouterr().err


def test_unknown_dataset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--dataset", "cifar10"])
    assert "invalid choice" in capsys.readouterr().err


def test_layer_sizes_are_read_from_checkpoint_weight_shapes():
    state = {"0.weight": np.zeros((256, 784)), "0.bias": np.zeros(256),
             "2.weight": np.zeros((128, 256)), "2.bias": np.zeros(128),
             "4.weight": np.zeros((10, 128)), "4.bias": np.zeros(10)}
    assert train.sizes_from_state_dict(state) == [784, 256, 128, 10]


def test_checkpoint_with_layers_that_do_not_chain_is_rejected():
    state = {"0.weight": np.zeros((64, 784)), "2.weight": np.zeros((10, 128))}
    with pytest.raises(ValueError, match="do not chain"):
        train.sizes_from_state_dict(state)


def test_missing_data_exits_with_the_datasets_advice(tmp_path, monkeypatch, capsys):
    from tapegrad import datasets

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TAPEGRAD_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "system")
    monkeypatch.setattr(datasets, "_download_file", _refuse_download)
    assert train.main(["--data", str(tmp_path)]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


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
