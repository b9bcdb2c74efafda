"""tapegrad.distributed, DistributedDataParallel and tapegrad-train under ``mpiexec -n 2`` and
``-n 3`` on this machine: each test starts a job of tests/distributed_worker.py (whose ranks check
their own results) with a timeout, so a hang fails instead of blocking the suite."""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad import train
from test_train import _write_tiny_dataset

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
needs_mpi = pytest.mark.skipif(not dist.is_mpi_available() or MPIEXEC is None,
                               reason="needs mpi4py and its mpiexec: pip install '.[mpi]'")


def mpiexec(ranks, *command, timeout=60):
    """Runs command on `ranks` processes of this machine, one kernel thread each, with tapegrad
    importable from where this test imported it."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    package_root = os.path.dirname(os.path.dirname(tg.__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, *command], env=env, capture_output=True,
                          text=True, timeout=timeout)


@needs_mpi
@pytest.mark.parametrize("ranks", [2, 3])
def test_collectives_and_ddp_on_every_rank(ranks):
    scenarios = ["collectives", "ddp", "no_sync", "unused"]
    job = mpiexec(ranks, WORKER, *scenarios)
    assert job.returncode == 0, job.stdout + job.stderr
    assert job.stdout.split() == sum((["ok", name] for name in scenarios), [])


@needs_mpi
def test_a_rank_that_raises_ends_the_job_instead_of_hanging():
    start = time.monotonic()
    job = mpiexec(3, WORKER, "raise", timeout=30)
    assert job.returncode != 0
    assert "ValueError: this rank fails on purpose" in job.stderr
    assert time.monotonic() - start < 20


@needs_mpi
def test_train_under_mpiexec_equals_the_single_process_run(tmp_path, capsys):
    _write_tiny_dataset(tmp_path, 256, seed=2)
    options = ["--data", str(tmp_path), "--epochs", "2", "--batch-size", "32", "--hidden", "16", "--no-progress"]
    job = mpiexec(2, "-m", "tapegrad.train", *options, "--save", str(tmp_path / "two.safetensors"))
    assert job.returncode == 0, job.stdout + job.stderr
    assert train.main([*options, "--save", str(tmp_path / "one.safetensors")]) == 0
    single = capsys.readouterr().out.splitlines()
    two = job.stdout.splitlines()  # rank 0's alone
    assert len(two) == len(single) == 4 and two[-1] == single[-1]
    # The epochs' losses and accuracies (not their speeds, nor the checkpoint's name).
    assert [line.split(",")[:2] for line in two[:2]] == [line.split(",")[:2] for line in single[:2]]
    one_state, two_state = tg.load(str(tmp_path / "one.safetensors")), tg.load(str(tmp_path / "two.safetensors"))
    assert list(one_state) == list(two_state)
    for key in one_state:
        np.testing.assert_allclose(two_state[key].numpy(), one_state[key].numpy(), rtol=0, atol=1e-5)


@needs_mpi
def test_train_refuses_a_global_batch_the_ranks_cannot_share(tmp_path):
    _write_tiny_dataset(tmp_path, 64, seed=0)
    job = mpiexec(3, "-m", "tapegrad.train", "--data", str(tmp_path), "--batch-size", "32", timeout=30)
    assert job.returncode != 0
    assert "--batch-size 32 is the global batch: it must be a multiple of the 3 processes" in job.stderr


def test_without_mpi4py_init_process_group_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert not dist.is_mpi_available()
    with pytest.raises(RuntimeError, match=r"needs mpi4py.*pip install 'tapegrad\[mpi\]'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_the_group_must_exist_before_use_and_only_mpi_is_a_backend():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match=r"\[get_rank\] Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match=r"\[all_reduce\] Default process group has not been initialized"):
        dist.all_reduce(tg.ones(2))
    with pytest.raises(ValueError, match="backend 'gloo' is not available"):
        dist.init_process_group("gloo")
    with pytest.raises(RuntimeError, match="init_process_group"):
        tg.nn.parallel.DistributedDataParallel(tg.nn.Linear(2, 2))
