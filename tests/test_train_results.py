"""tapegrad-train keeps its results: the validation split, metrics, checkpoints, resuming, curves,
``python -m tapegrad``, and the newcomer's fixes ($TAPEGRAD_DATA, CLI wording, no bar in logs)."""

import csv
import json
import subprocess
import sys

import pytest

import tapegrad as tg
from tapegrad import train
from test_distributed import mpiexec, needs_mpi
from test_train import _write_tiny_dataset, isolate_data

OPTIONS = ["--epochs", "3", "--batch-size", "32", "--hidden", "16", "--no-progress"]


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    _write_tiny_dataset(folder, 320, seed=2)
    return folder


def test_validation_split_is_seeded_and_disjoint():
    train_part, val_part = train.validation_split(100, 0.1, seed=5)
    assert len(val_part) == 10 and len(train_part) == 90
    assert sorted([*train_part, *val_part]) == list(range(100))
    again, other = train.validation_split(100, 0.1, seed=5), train.validation_split(100, 0.1, seed=6)
    assert list(again[1]) == list(val_part) and list(other[1]) != list(val_part)
    assert len(train.validation_split(100, 0.0, seed=5)[1]) == 0


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_core_metrics_have_one_row_per_epoch(data, tmp_path, capsys, suffix):
    path = tmp_path / f"metrics{suffix}"
    assert train.main(["--data", str(data), *OPTIONS, "--metrics", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("test accuracy: ") and "val accuracy" in lines[0]
    if suffix == ".csv":
        rows = list(csv.DictReader(path.open()))
    else:
        rows = json.loads(path.read_text())
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    assert set(rows[0]) == set(train.METRIC_FIELDS)
    assert all(0 <= float(row["val_accuracy"]) <= 1 and float(row["learning_rate"]) == 0.02 for row in rows)


def test_metrics_suffix_is_checked(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--metrics", str(tmp_path / "m.txt")])
    assert ".csv or .json" in capsys.readouterr().err


def test_core_checkpoints_hold_the_whole_run_state(data, tmp_path, capsys):
    folder = tmp_path / "ckpt"
    assert train.main(["--data", str(data), *OPTIONS, "--checkpoint-dir", str(folder),
                       "--scheduler", "cosine"]) == 0
    last = tg.load(folder / "last.safetensors")
    assert set(last) == {"model", "optimizer", "scheduler", "epoch", "rng_state", "metrics", "best", "options"}
    assert last["epoch"] == 3 and len(last["metrics"]) == 3 and last["scheduler"]["last_epoch"] == 3
    best = tg.load(folder / "best.safetensors")
    accuracies = [row["val_accuracy"] for row in last["metrics"]]
    assert best["epoch"] == accuracies.index(max(accuracies)) + 1


class Interrupted(Exception):
    """Stands for the run being killed."""


@pytest.mark.parametrize("extra", [[], ["--optimizer", "adam", "--scheduler", "cosine"]])
def test_core_resume_ends_with_the_weights_of_an_uninterrupted_run(data, tmp_path, capsys, monkeypatch, extra):
    options = ["--data", str(data), *OPTIONS, *extra]
    whole, resumed = tmp_path / "whole.safetensors", tmp_path / "resumed.safetensors"
    assert train.main([*options, "--save", str(whole)]) == 0
    folder = tmp_path / "ckpt"
    save_checkpoint = train.save_checkpoint

    def killed_after_epoch_1(path, *state):
        save_checkpoint(path, *state)
        if state[3] == 1:
            raise Interrupted

    monkeypatch.setattr(train, "save_checkpoint", killed_after_epoch_1)
    with pytest.raises(Interrupted):
        train.main([*options, "--checkpoint-dir", str(folder)])
    monkeypatch.undo()
    assert tg.load(folder / "last.safetensors")["epoch"] == 1
    capsys.readouterr()
    assert train.main([*options, "--checkpoint-dir", str(folder), "--resume", str(folder / "last.safetensors"),
                       "--save", str(resumed), "--metrics", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/3" not in out and "epoch 3/3" in out
    assert whole.read_bytes() == resumed.read_bytes()
    assert [row["epoch"] for row in json.loads((tmp_path / "m.json").read_text())] == [1, 2, 3]


def test_resume_with_other_options_is_refused(data, tmp_path, capsys):
    folder = tmp_path / "ckpt"
    assert train.main(["--data", str(data), *OPTIONS, "--epochs", "1", "--checkpoint-dir", str(folder)]) == 0
    assert train.main(["--data", str(data), *OPTIONS, "--hidden", "8",
                       "--resume", str(folder / "last.safetensors")]) == 1
    assert "--hidden [16] (given [8])" in capsys.readouterr().err


def test_core_plot_writes_a_png(data, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    assert train.main(["--data", str(data), *OPTIONS, "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    with pytest.raises(SystemExit):
        train.parse_args(["--plot", str(tmp_path / "curves.png")])
    assert "pip install 'tapegrad[plot]'" in capsys.readouterr().err


def test_help_shows_every_default():
    text = subprocess.run([sys.executable, "-m", "tapegrad", "--help"], capture_output=True, text=True,
                          check=True).stdout
    assert text.startswith("usage: python -m tapegrad")
    for option in ("--epochs", "--val-fraction", "--metrics", "--checkpoint-dir", "--resume", "--plot",
                   "--draw-graph", "--profile", "--dataset", "--batch-size", "--seed"):
        help_line = text.split(option, 2)[-1].split("\n  --")[0]
        assert "(default:" in " ".join(help_line.split()), option


def test_core_python_m_tapegrad_trains_without_flooding_a_log(data, tmp_path):
    job = subprocess.run([sys.executable, "-m", "tapegrad", "--data", str(data), *OPTIONS[:-1]],
                         capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job.stderr
    assert job.stdout.strip().splitlines()[-1].startswith("test accuracy: ")
    assert job.stderr == ""  # stderr is a pipe, not a terminal: no progress bar


def test_missing_tapegrad_data_folder_is_an_error_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit):
        train.parse_args([])
    assert f"TAPEGRAD_DATA={tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err


def test_not_found_advice_speaks_the_commands_options(tmp_path, monkeypatch, capsys):
    isolate_data(tmp_path, monkeypatch)
    assert train.main([]) == 1
    err = capsys.readouterr().err
    assert "root=" not in err and "--data DIR" in err
    (tmp_path / "empty").mkdir()
    assert train.main(["--data", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "root=None" not in err and "run without --data" in err


@needs_mpi
def test_train_under_mpiexec_splits_checkpoints_and_resumes(data, tmp_path, capsys):
    folder = tmp_path / "ckpt"
    options = ["--data", str(data), *OPTIONS[2:], "--checkpoint-dir", str(folder)]
    job = mpiexec(2, "-m", "tapegrad", *options, "--epochs", "1")
    assert job.returncode == 0, job.stdout + job.stderr
    job = mpiexec(2, "-m", "tapegrad", *options, "--epochs", "2", "--resume", str(folder / "last.safetensors"),
                  "--save", str(tmp_path / "two.safetensors"))
    assert job.returncode == 0, job.stdout + job.stderr
    assert job.stdout.count("test accuracy:") == 1 and "epoch 2/2" in job.stdout
    assert train.main([*options[:-2], "--epochs", "2", "--save", str(tmp_path / "one.safetensors")]) == 0
    two, one = tg.load(tmp_path / "two.safetensors"), tg.load(tmp_path / "one.safetensors")
    for name in one:
        assert float((two[name] - one[name]).abs().max().item()) < 1e-5, name


@needs_mpi
def test_core_lenet_under_mpiexec_equals_one_process(tmp_path):
    # 288 training samples: whole batches on both ranks, so the sampler pads no shard with a repeat.
    _write_tiny_dataset(tmp_path, 320, seed=3)
    options = ["--data", str(tmp_path), "--epochs", "1", "--model", "lenet", "--batch-size", "32", "--no-progress"]
    job = mpiexec(2, "-m", "tapegrad", *options, "--save", str(tmp_path / "two.st"))
    assert job.returncode == 0, job.stdout + job.stderr
    assert job.stdout.count("test accuracy:") == 1
    assert train.main([*options, "--save", str(tmp_path / "one.st")]) == 0
    two, one = tg.load(tmp_path / "two.st"), tg.load(tmp_path / "one.st")
    for name in one:
        assert float((two[name] - one[name]).abs().max().item()) < 1e-5, name
