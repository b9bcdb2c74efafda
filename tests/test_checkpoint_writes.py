"""Checkpoint writes: tg.save and the atomic-write helper it goes through.

A file at the path is always either what was there before or a complete new one: the bytes go to
a temporary created with O_EXCL (so a link planted in the folder is never followed), are fsynced,
and the temporary is renamed onto the path.
"""

import os
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest

from tapegrad import _atomic
from tapegrad._atomic import atomic_write
from tapegrad.serialization import load_numpy, save


def state(value, size=1 << 16):
    return {"weight": np.full(size, value, dtype=np.float32), "step": np.array(value, np.int64)}


def assert_one_complete_state(path, values):
    loaded = load_numpy(path)
    value = int(loaded["step"])
    assert value in values
    np.testing.assert_array_equal(loaded["weight"], state(value)["weight"])


def leftovers(folder, keep):
    return sorted(name for name in os.listdir(folder) if name not in keep)


def test_save_does_not_follow_a_link_planted_at_the_old_temporary_name(tmp_path):
    # Before, save wrote through the predictable <path>.tmp<pid> with a plain open().
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    path = tmp_path / "m.safetensors"
    os.symlink(victim, f"{path}.tmp{os.getpid()}")
    save(state(1), path)
    assert victim.read_bytes() == b"precious"
    assert not path.is_symlink()
    assert_one_complete_state(path, {1})


def test_temporary_is_created_exclusively_and_never_through_a_link(tmp_path, monkeypatch):
    # Even a link planted at the very name the helper draws first is neither followed nor reused.
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    tokens = iter(["planted", "fresh"])
    monkeypatch.setattr(_atomic.secrets, "token_hex", lambda nbytes: next(tokens))
    path = tmp_path / "m.safetensors"
    os.symlink(victim, tmp_path / ".m.safetensors.planted.tmp")
    save(state(2), path)
    assert victim.read_bytes() == b"precious"
    assert_one_complete_state(path, {2})
    assert leftovers(tmp_path, {"victim", "m.safetensors"}) == [".m.safetensors.planted.tmp"]


def test_two_threads_saving_to_one_path_never_fail_or_tear(tmp_path):
    path = tmp_path / "m.safetensors"
    save(state(0), path)
    rounds = 60
    errors = []
    done = threading.Event()

    def writer(value):
        try:
            for _ in range(rounds):
                save(state(value), path)
        except BaseException as e:  # noqa: BLE001 - every failure is reported by the test
            errors.append(e)

    def reader():
        while not done.is_set():
            try:
                assert_one_complete_state(path, {0, 1, 2})
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
                return

    threads = [threading.Thread(target=writer, args=(v,)) for v in (1, 2)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert errors == []
    assert_one_complete_state(path, {1, 2})
    assert leftovers(tmp_path, {"m.safetensors"}) == []


def test_two_processes_saving_to_one_path_never_fail_or_tear(tmp_path):
    path = tmp_path / "m.safetensors"
    code = ("import sys, numpy as np\n"
            "from tapegrad.serialization import save\n"
            "v = int(sys.argv[2])\n"
            "for _ in range(40):\n"
            "    save({'weight': np.full(1 << 16, v, np.float32), 'step': np.array(v)}, sys.argv[1])\n")
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    writers = [subprocess.Popen([sys.executable, "-c", code, str(path), str(v)], env=environment)
               for v in (1, 2)]
    while any(w.poll() is None for w in writers):
        if path.exists():
            assert_one_complete_state(path, {1, 2})
    assert [w.returncode for w in writers] == [0, 0]
    assert_one_complete_state(path, {1, 2})
    assert leftovers(tmp_path, {"m.safetensors"}) == []


class InterruptedArray(np.ndarray):
    """An array whose data can't be written: KeyboardInterrupt once save is past the header."""

    def reshape(self, *shape, **kwargs):
        raise KeyboardInterrupt


def test_interrupt_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "m.safetensors"
    save(state(1), path)
    with pytest.raises(KeyboardInterrupt):
        save({"weight": np.ones(8, np.float32).view(InterruptedArray)}, path)
    assert_one_complete_state(path, {1})
    assert leftovers(tmp_path, {"m.safetensors"}) == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_helper_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path, failure):
    path = tmp_path / "metrics.json"
    path.write_text("old")
    with pytest.raises(failure):
        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write("half of the new")
            raise failure
    assert path.read_text() == "old"
    assert leftovers(tmp_path, {"metrics.json"}) == []


def test_failed_fsync_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save(state(1), path)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        save(state(2), path)
    monkeypatch.undo()
    assert_one_complete_state(path, {1})
    assert leftovers(tmp_path, {"m.safetensors"}) == []


def test_a_link_at_the_path_is_replaced_not_followed_as_safetensors_does(tmp_path):
    # safetensors' save_file renames its temporary onto the path, replacing a link there; so does
    # save, so that a link planted at a checkpoint's name can't redirect the write elsewhere.
    target = tmp_path / "target"
    target.write_bytes(b"untouched")
    path = tmp_path / "m.safetensors"
    os.symlink(target, path)
    save(state(3), path)
    assert not path.is_symlink()
    assert target.read_bytes() == b"untouched"
    assert_one_complete_state(path, {3})


def test_new_file_gets_the_umask_mode_as_open_gives(tmp_path):
    umask = os.umask(0o027)
    try:
        save(state(1), tmp_path / "m.safetensors")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "m.safetensors").st_mode) == 0o640


def test_overwritten_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "m.safetensors"
    save(state(1), path)
    os.chmod(path, 0o600)
    save(state(2), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert_one_complete_state(path, {2})


def test_helper_text_mode_writes_the_whole_file(tmp_path):
    path = tmp_path / "metrics.json"
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write('{"loss": 0.5}\n')
    assert path.read_text(encoding="utf-8") == '{"loss": 0.5}\n'
    assert leftovers(tmp_path, {"metrics.json"}) == []


def test_helper_refuses_modes_it_cannot_make_atomic(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "log", "a"):
            pass
