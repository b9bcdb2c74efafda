"""Threads: long kernels let other Python threads run (they release the GIL, also while autograd
records and during backward), results stay right when several threads compute and train at once,
and set_num_threads is one setting for the whole process."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import assert_close


class Watcher:
    """A Python thread that, once woken, notes the time: it can do so only while no other thread
    holds the GIL."""

    def __init__(self):
        self.wake, self.noted = threading.Event(), threading.Event()
        self.time = None
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            self.wake.wait()  # without the GIL
            self.wake.clear()
            if not self.running:
                return
            self.time = time.perf_counter()
            self.noted.set()

    def stop(self):
        self.running = False
        self.wake.set()
        self.thread.join()

    def runs_during(self, op, attempts=5):
        """(whether this thread ran before the last fifth of a call of op, op's result). Woken just
        before op starts, it must wait for the GIL until op returns if op holds it throughout (the
        Python between waking it and the call takes microseconds, far below the interpreter's 5 ms
        switch interval). A busy machine may not schedule it in time, hence a few attempts."""
        for _ in range(attempts):
            self.noted.clear()
            start = time.perf_counter()
            self.wake.set()
            result = op()
            end = time.perf_counter()
            self.noted.wait()
            if self.time < end - (end - start) / 5:
                return True, result
        return False, result


@pytest.fixture(scope="module")
def watcher():
    # One kernel thread, so that the watcher has a core while a kernel runs.
    previous = tg.get_num_threads()
    tg.set_num_threads(1)
    watching = Watcher()
    yield watching
    watching.stop()
    tg.set_num_threads(previous)


@pytest.fixture(scope="module")
def data():
    """The same arrays as tapegrad and as torch tensors (made outside the timed calls)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1024, 4096)).astype(np.float32)
    y = rng.standard_normal((1024, 4096)).astype(np.float32)
    arrays = {"x": x, "y": y, "mask": x > 0, "a": rng.standard_normal((1024, 1024)).astype(np.float32),
              "b": rng.standard_normal((1024, 1024)).astype(np.float32)}
    return {lib: {name: lib.tensor(array) for name, array in arrays.items()} for lib in (tg, torch)}


def setitem(lib, x, y, mask):
    y[:, 1:] = x[:, :-1]  # the same on both sides, so later comparisons still hold
    return y


# Each runs long enough on 4M elements (or a 1024^3 product) to be worth releasing the GIL for.
LONG_OPS = {
    "max": lambda lib, x, y, mask: x.max(),
    "min": lambda lib, x, y, mask: x.min(),
    "amax": lambda lib, x, y, mask: x.amax(1),
    "max_dim": lambda lib, x, y, mask: x.max(0),
    "argmax": lambda lib, x, y, mask: x.argmax(1),
    "mean": lambda lib, x, y, mask: x.mean(0),
    "prod": lambda lib, x, y, mask: x.prod(1),
    "var": lambda lib, x, y, mask: x.var(1),
    "std": lambda lib, x, y, mask: x.std(),
    "logsumexp": lambda lib, x, y, mask: x.logsumexp(1),
    "softmax": lambda lib, x, y, mask: x.t().softmax(0),
    "maximum": lambda lib, x, y, mask: lib.maximum(x, y),
    "minimum": lambda lib, x, y, mask: lib.minimum(x, y),
    "where": lambda lib, x, y, mask: lib.where(mask, x, y),
    "compare": lambda lib, x, y, mask: x < y,
    "clamp": lambda lib, x, y, mask: x.clamp(-0.5, 0.5),
    "clamp_tensor": lambda lib, x, y, mask: x.clamp(min=y),
    "pow": lambda lib, x, y, mask: x ** 3,
    "neg": lambda lib, x, y, mask: -x,
    "abs": lambda lib, x, y, mask: abs(x),
    "methods": lambda lib, x, y, mask: x.add(y).sub(x, alpha=2).mul(y),
    "remainder": lambda lib, x, y, mask: x % 0.3,
    "einsum": lambda lib, x, y, mask: lib.einsum("ij,ij->i", x, y),
    "cat": lambda lib, x, y, mask: lib.cat([x, y]),
    "stack": lambda lib, x, y, mask: lib.stack([x, y], 1),
    "setitem": setitem,
    "mask_index": lambda lib, x, y, mask: x[mask],
    "to_dtype": lambda lib, x, y, mask: x.to(lib.float64),
}


@pytest.mark.parametrize("name", LONG_OPS)
def test_long_ops_let_other_threads_run(watcher, data, name):
    op = LONG_OPS[name]
    ran, ours = watcher.runs_during(lambda: op(tg, data[tg]["x"], data[tg]["y"], data[tg]["mask"]))
    assert ran, f"{name} held the GIL throughout"
    theirs = op(torch, data[torch]["x"], data[torch]["y"], data[torch]["mask"])
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for mine, expected in zip(ours, theirs):
        assert_close(mine, expected, 1e-4, 1e-4, what=name)


@pytest.mark.parametrize("name", ["matmul", "einsum", "backward", "grad"])
def test_recording_and_backward_let_other_threads_run(watcher, data, name):
    """Ops whose inputs require grad record without the GIL too, and backward runs without it."""
    a, b = data[tg]["a"].detach().requires_grad_(), data[tg]["b"].detach().requires_grad_()
    ta, tb = data[torch]["a"].detach().requires_grad_(), data[torch]["b"].detach().requires_grad_()
    if name == "matmul":
        ran, ours = watcher.runs_during(lambda: a @ b)
        theirs = ta @ tb
        assert ours.grad_fn is not None
    elif name == "einsum":
        ran, ours = watcher.runs_during(lambda: tg.einsum("ij,jk->ik", a, b))
        theirs = torch.einsum("ij,jk->ik", ta, tb)
    elif name == "backward":
        loss = (a @ b).sum()

        def backward():
            a.grad = None
            loss.backward(retain_graph=True)

        ran, _ = watcher.runs_during(backward)
        ours, theirs = a.grad, torch.autograd.grad((ta @ tb).sum(), ta)[0]
    else:
        product = a @ b
        ran, (ours,) = watcher.runs_during(lambda: tg.autograd.grad(product.sum(), b, retain_graph=True))
        theirs = torch.autograd.grad((ta @ tb).sum(), tb)[0]
    assert ran, f"{name} held the GIL throughout"
    assert_close(ours, theirs, 1e-3, 1e-4, what=name)


def test_backward_without_the_gil_runs_python_hooks_and_functions(watcher):
    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    rng = np.random.default_rng(1)
    data = rng.uniform(-1, 1, (1024, 1024))
    x = tg.tensor(data, requires_grad=True)
    seen = []
    x.register_hook(lambda grad: seen.append(tuple(grad.shape)) or grad * 3)
    loss = Square.apply(x @ x).sum()
    watcher.runs_during(loss.backward, attempts=1)  # with another Python thread waiting on the GIL
    assert seen == [(1024, 1024)]
    tx = torch.tensor(data, requires_grad=True)
    ((tx @ tx) ** 2).sum().backward()
    assert_close(x.grad, tx.grad * 3, 1e-8, 1e-8)


def test_threads_train_one_shared_model():
    """Four threads record and run backward at once (without the GIL), all into the same leaves:
    each leaf gets one gradient sink, and no accumulation is lost."""
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((256, 128))
    batches = [rng.standard_normal((512, 256)) for _ in range(4)]
    steps = 5
    w = tg.tensor(weight, requires_grad=True)
    errors = []

    def train(batch):
        try:
            for _ in range(steps):
                ((tg.tensor(batch) @ w).relu() * 0.5).sum().backward()
        except Exception as error:  # a failure in a thread must fail the test
            errors.append(error)

    threads = [threading.Thread(target=train, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    tw = torch.tensor(weight, requires_grad=True)
    for batch in batches:
        ((torch.tensor(batch) @ tw).relu() * 0.5).sum().backward()
    assert_close(w.grad, tw.grad * steps, 1e-9, 1e-9)


def test_threads_computing_at_once_get_right_results():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((1024, 1100)) for _ in range(4)]
    results = [None] * len(arrays)

    def work(slot):
        x = tg.tensor(arrays[slot])
        results[slot] = (x.softmax(1).sum(0), x.t().argmax(1), (x * 2).clamp(-1, 1).mean(), x.var(0))

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(len(arrays))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for array, result in zip(arrays, results):
        x = torch.tensor(array)
        for ours, theirs in zip(result, (x.softmax(1).sum(0), x.t().argmax(1), (x * 2).clamp(-1, 1).mean(), x.var(0))):
            assert_close(ours, theirs, 1e-10, 1e-8)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_flat_copies_and_fills_split_across_threads(threads):
    """Contiguous copies, fills and arange large enough for a team split into one range per thread
    (an uneven last one with 3); an overlapping in-place shift stays one ordered memmove."""
    previous = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        size = 300_001
        source = np.random.default_rng(5).standard_normal(size).astype(np.float32)
        x = tg.tensor(source)
        np.testing.assert_array_equal(x.clone().numpy(), source)
        np.testing.assert_array_equal(tg.cat([x, x]).numpy(), np.concatenate([source, source]))
        np.testing.assert_array_equal(tg.full((size,), 2.5).numpy(), np.full(size, 2.5, np.float32))
        np.testing.assert_array_equal(tg.zeros(size, dtype=tg.int64).numpy(), np.zeros(size, np.int64))
        np.testing.assert_array_equal(tg.arange(size).numpy(), np.arange(size))
        # Within an ulp of torch's, which rounds start + i * step differently in its vector loop.
        assert_close(tg.arange(0.0, 3.0, 1e-5, dtype=tg.float64), torch.arange(0.0, 3.0, 1e-5, dtype=torch.float64),
                     1e-15, 1e-15)
        shifted = x.clone()
        shifted[1:] = shifted[:-1]
        np.testing.assert_array_equal(shifted.numpy(), np.concatenate([source[:1], source[:-1]]))
    finally:
        tg.set_num_threads(previous)


# ---- set_num_threads ---------------------------------------------------------------------------

def test_set_num_threads_is_process_wide():
    previous = tg.get_num_threads()
    seen = []
    try:
        tg.set_num_threads(1)
        thread = threading.Thread(target=lambda: seen.append(tg.get_num_threads()))
        thread.start()
        thread.join()
        thread = threading.Thread(target=tg.set_num_threads, args=(3,))
        thread.start()
        thread.join()
        seen.append(tg.get_num_threads())
        # Kernels started from another thread run (and give the same results) under the setting.
        x = tg.tensor(np.random.default_rng(4).standard_normal((512, 1024)))
        results = []
        thread = threading.Thread(target=lambda: results.append((x.sum(1), x.softmax(0), x @ x.t())))
        thread.start()
        thread.join()
        assert_close(results[0][0], x.sum(1), 1e-12, 1e-12)
        assert_close(results[0][2], x @ x.t(), 1e-12, 1e-12)
    finally:
        tg.set_num_threads(previous)
    assert seen == [1, 3]
    with pytest.raises(ValueError, match=r"\[set_num_threads\]"):
        tg.set_num_threads(0)


@pytest.mark.parametrize("setting", ["1", "3"])
def test_omp_num_threads_sets_the_default(setting):
    environment = dict(os.environ, OMP_NUM_THREADS=setting, PYTHONPATH=os.pathsep.join(sys.path))
    program = ("import threading, tapegrad as tg\n"
               "seen = []\n"
               "thread = threading.Thread(target=lambda: seen.append(tg.get_num_threads()))\n"
               "thread.start(); thread.join()\n"
               "print(tg.get_num_threads(), seen[0])\n")
    result = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [setting, setting]
