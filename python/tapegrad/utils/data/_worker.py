"""The worker processes of ``DataLoader(num_workers=N)``.

Each worker gets (pass, batch number, indices) from its own queue, fetches and collates the
samples, and puts the batch on the shared result queue with every tensor in it replaced by a
``_SharedArray`` (its NumPy buffer, which multiprocessing pickles as one block rather than element
by element); the main process turns them back into tensors with ``from_numpy``, without a copy.
Batch ``i`` goes to worker ``i % N``, at most ``prefetch_factor * N`` are outstanding, and the main
process hands them out in order. A worker seeds Python's ``random`` and tapegrad with
``base_seed + worker_id``, as PyTorch does, and NumPy's global stream from that seed too.
"""

import collections.abc
import contextlib
import queue
import random
import time
import traceback

import numpy as np

# How often a waiting main process checks that its workers are still alive.
_POLL_SECONDS = 1.0
# How long a worker gets to exit after being told to before it is terminated.
_JOIN_SECONDS = 5.0


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: id, num_workers, seed and dataset (the
    worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


current = None  # this process's WorkerInfo; None in the main process


class _SharedArray:
    """A tensor on its way between processes, as its NumPy array."""

    def __init__(self, array):
        self.array = array


def _map_tensors(data, convert, is_leaf):
    if is_leaf(data):
        return convert(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({key: _map_tensors(value, convert, is_leaf) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_map_tensors(item, convert, is_leaf) for item in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_map_tensors(item, convert, is_leaf) for item in data)
    return data


def to_shareable(data):
    import tapegrad

    return _map_tensors(data, lambda tensor: _SharedArray(tensor.detach().contiguous().numpy()),
                        lambda value: isinstance(value, tapegrad.Tensor))


def from_shareable(data):
    import tapegrad

    return _map_tensors(data, lambda shared: tapegrad.from_numpy(shared.array),
                        lambda value: isinstance(value, _SharedArray))


def worker_loop(fetch, worker_id, num_workers, seed, dataset, worker_init_fn, index_queue, result_queue):
    """A worker's life: seed, run worker_init_fn, then serve batches until told None."""
    global current
    import tapegrad

    # As PyTorch's workers: one kernel thread each, so N workers do not oversubscribe the cores.
    tapegrad.set_num_threads(1)
    random.seed(seed)
    tapegrad.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, seed]).generate_state(4))
    current = WorkerInfo(worker_id, num_workers, seed, dataset)
    failure = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as e:  # reported for every batch this worker is asked for
            failure = (type(e), traceback.format_exc())
    while True:
        task = index_queue.get()
        if task is None:
            return
        epoch, number, indices = task
        if failure is not None:
            result_queue.put((epoch, number, worker_id, None, failure))
            continue
        try:
            batch = to_shareable(fetch(indices))
        except Exception as e:
            result_queue.put((epoch, number, worker_id, None, (type(e), traceback.format_exc())))
            continue
        result_queue.put((epoch, number, worker_id, batch, None))


class WorkerPool:
    """N worker processes serving one loader's batches, pass after pass."""

    def __init__(self, loader, fetch):
        import multiprocessing

        context = loader.multiprocessing_context
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        self._loader = loader
        self._result_queue = context.Queue()
        self._index_queues, self._workers = [], []
        self._epoch = 0
        base_seed = self._base_seed()
        for worker_id in range(loader.num_workers):
            index_queue = context.Queue()
            worker = context.Process(
                target=worker_loop, daemon=True,
                args=(fetch, worker_id, loader.num_workers, base_seed + worker_id, loader.dataset,
                      loader.worker_init_fn, index_queue, self._result_queue))
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)

    def _base_seed(self):
        """The seed base: the generator's (or the global stream's) initial seed. Unlike PyTorch,
        which draws it from the stream, this leaves the stream alone, so the batches are the
        ones num_workers=0 gives."""
        import tapegrad

        seed = self._loader.generator.initial_seed() if self._loader.generator is not None else tapegrad.initial_seed()
        return int(seed) % 2**63

    def batches(self, index_batches):
        """The batches of one pass, in order."""
        self._epoch += 1
        epoch, pending, ready = self._epoch, iter(enumerate(index_batches)), {}
        outstanding, wanted = 0, 0
        limit = max(1, self._loader.prefetch_factor) * len(self._workers)
        exhausted = False
        while True:
            while not exhausted and outstanding < limit:
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                number, indices = task
                self._index_queues[number % len(self._workers)].put((epoch, number, indices))
                outstanding += 1
            if wanted in ready:
                outstanding -= 1
                yield from_shareable(ready.pop(wanted))
                wanted += 1
                continue
            if exhausted and outstanding == 0:
                return
            result_epoch, number, worker_id, batch, failure = self._next_result()
            if result_epoch != epoch:
                continue  # left over from a pass that was not run to its end
            if failure is not None:
                kind, text = failure
                message = f"Caught {kind.__name__} in DataLoader worker process {worker_id}.\nOriginal {text}"
                try:
                    error = kind(message)
                except Exception:
                    error = RuntimeError(message)
                raise error
            ready[number] = batch

    def _next_result(self):
        timeout = self._loader.timeout
        interval = min(_POLL_SECONDS, timeout) if timeout else _POLL_SECONDS
        waited = 0.0
        while True:
            try:
                return self._result_queue.get(timeout=interval)
            except queue.Empty:
                waited += interval
            dead = [str(worker.pid) for worker in self._workers if not worker.is_alive()]
            if dead:
                self.shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly")
            if timeout and waited >= timeout:
                self.shutdown()
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def shutdown(self):
        """Tells each worker to stop, waits for it, and terminates one that does not stop: no
        process outlives the pool."""
        workers, self._workers = self._workers, []
        for index_queue, worker in zip(self._index_queues, workers):
            if worker.is_alive():
                index_queue.put(None)
        deadline = time.monotonic() + _JOIN_SECONDS
        for worker in workers:
            # A worker exits only once its results are in the pipe: read them away meanwhile.
            while worker.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    self._result_queue.get(timeout=0.05)
            if worker.is_alive():
                worker.terminate()
            worker.join()
        for index_queue in self._index_queues:
            index_queue.close()
            index_queue.join_thread()
        self._index_queues = []
        self._result_queue.close()
        self._result_queue.join_thread()

    def __del__(self):
        if self._workers:
            self.shutdown()
