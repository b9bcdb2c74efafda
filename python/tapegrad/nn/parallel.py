"""tapegrad.nn.parallel: DistributedDataParallel, PyTorch's data-parallel wrapper, on tapegrad.distributed.

Every rank holds the whole model and runs it on its own share of the batch; during backward the
gradients are averaged across ranks, so that every rank's optimizer takes the same step a single
process would take on the whole batch.

How the gradients travel (PyTorch's design): the parameters are packed, in reverse order (about
the order backward produces their gradients), into flat buckets of about 25 MB (the first one
1 MB, so that communication starts early). A post-accumulate-grad hook on each parameter copies its
gradient into its bucket; the moment a bucket is complete its non-blocking allreduce starts, and
backward goes on computing the next gradients meanwhile (a helper thread gives MPI the calls it
needs to move the allreduces on). The hook that completes the last bucket
waits for all of them and writes the averages back into .grad, so when ``loss.backward()`` returns
every .grad holds the average over ranks.

Every parameter that requires grad must receive a gradient in each synchronised backward: one that
takes no part in the loss leaves its bucket, and so the reduction, unfinished, and the next forward
raises a RuntimeError naming it (set ``requires_grad_(False)`` on parameters that are not trained).
``find_unused_parameters=True`` is not supported.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import weakref

import numpy as np

from .module import Module

# PyTorch's defaults (torch.distributed's _DEFAULT_FIRST_BUCKET_BYTES and DDP's bucket_cap_mb).
FIRST_BUCKET_BYTES = 1024 * 1024
DEFAULT_BUCKET_CAP_MB = 25
# How often the progress thread gives the allreduces in flight an MPI call (see _Progress).
PROGRESS_INTERVAL_S = 100e-6

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters whose gradients are reduced together, through one flat array (and a tensor
    sharing its memory, which the collectives take). With ``as_view`` (gradient_as_bucket_view)
    each parameter's .grad becomes a view into it after the first reduction, so that the averages
    need no copy back, and a gradient accumulated into that .grad (zero_grad(set_to_none=False))
    none in either."""

    def __init__(self, parameters, world_size, as_view):
        import tapegrad

        self.parameters = parameters
        self.world_size = world_size
        self.offsets = np.cumsum([0, *(parameter.numel() for parameter in parameters)]).tolist()
        self.flat = np.empty(self.offsets[-1], parameters[0].detach().numpy().dtype)
        self.tensor = tapegrad.from_numpy(self.flat)
        self.views = [self.tensor[start:end].view(parameter.shape) for parameter, start, end
                      in zip(parameters, self.offsets, self.offsets[1:])] if as_view else None
        self.reset()

    def reset(self):
        self.arrived = [False] * len(self.parameters)  # which gradients this backward has written
        self.missing = len(self.parameters)

    def write_gradient(self, position, gradient):
        self.arrived[position] = True
        self.missing -= 1
        # gradient.numpy() shares .grad's memory, whatever its strides (and is the bucket's own
        # slice when .grad is already its view: then the division is in place). Divided on the way
        # in (as PyTorch's DDP divides before its allreduce), so that a sum of the buckets is the
        # average with no pass of its own over them.
        np.divide(gradient.detach().numpy().reshape(-1), self.world_size,
                  out=self.flat[self.offsets[position]:self.offsets[position + 1]])

    def read_gradients(self):
        for position, parameter in enumerate(self.parameters):
            if self.views is not None:
                view = self.views[position]
                if parameter.grad.data_ptr() != view.data_ptr() or parameter.grad.stride() != view.stride():
                    parameter.grad = view
                continue
            grad = parameter.grad.detach().numpy()
            grad[...] = self.flat[self.offsets[position]:self.offsets[position + 1]].reshape(grad.shape)


def _assign_buckets(parameters, bucket_bytes, world_size, as_view):
    """PyTorch's assignment: through the parameters in reverse order, one open bucket per dtype,
    closed once it holds at least its limit (FIRST_BUCKET_BYTES for the dtype's first bucket);
    buckets ordered by their first parameter."""
    open_buckets = {}  # dtype: [parameters, bytes, limit]
    buckets = []
    for parameter in reversed(parameters):
        dtype = parameter.dtype
        entry = open_buckets.setdefault(dtype, [[], 0, min(FIRST_BUCKET_BYTES, bucket_bytes)])
        entry[0].append(parameter)
        entry[1] += parameter.numel() * parameter.element_size()
        if entry[1] >= entry[2]:
            buckets.append(entry[0])
            open_buckets[dtype] = [[], 0, bucket_bytes]
    buckets += [members for members, _, _ in open_buckets.values() if members]
    order = {id(parameter): index for index, parameter in enumerate(reversed(parameters))}
    buckets.sort(key=lambda members: order[id(members[0])])
    return [_Bucket(members, world_size, as_view) for members in buckets]


class _Progress:
    """MPI advances a non-blocking collective only inside MPI calls, and backward computes the next
    gradients in C++, without the GIL, making none. While allreduces are in flight, a helper thread
    tests them every PROGRESS_INTERVAL_S, sleeping in between so that it takes next to no CPU from
    backward. It ends when they are all complete (start() makes a new one for the next) or when
    finish() takes over, which waits in MPI itself, the fastest way once nothing else is left to do;
    finish() does not wait for it to end (it may be waiting for the GIL)."""

    def __init__(self):
        self.works = []  # the launched buckets' allreduces, in bucket order
        self._lock = threading.Lock()
        self._thread = None
        self._finishing = False

    def start(self, work):
        with self._lock:
            self.works.append(work)
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="DistributedDataParallel progress",
                                                daemon=True)
                self._thread.start()

    def _poll(self):
        while True:
            with self._lock:
                # is_completed() is an MPI test.
                if self._finishing or all([work.is_completed() for work in self.works]):
                    self._thread = None
                    return
            time.sleep(PROGRESS_INTERVAL_S)

    def finish(self):
        """Waits for every allreduce. Once _finishing is set the thread touches none of them (it
        checks under the lock), so there is no need to wait for it to notice."""
        with self._lock:
            self._finishing = True
        for work in self.works:
            work.wait()
        with self._lock:
            self.works = []
            self._finishing = False


def _gradient_ready(ddp_ref, bucket_index, position, parameter):
    """The post-accumulate-grad hook of one parameter (holding the wrapper weakly: hooks live in C++,
    where Python's garbage collector cannot see the cycle a strong reference would make)."""
    ddp = ddp_ref()
    if ddp is not None:
        ddp._gradient_ready(bucket_index, position, parameter)


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training across the ranks of the default process group.

    Rank 0's parameters and buffers are copied to every rank here, so ranks may start from
    different initialisations. ``broadcast_buffers`` copies rank 0's buffers again at each forward.
    ``gradient_as_bucket_view=True`` (PyTorch's option) makes each .grad a view into its bucket after
    the first synchronised backward: the averages need no copy back, and with
    ``zero_grad(set_to_none=False)`` the gradients are accumulated in the bucket itself.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        from .. import distributed as dist

        name = "DistributedDataParallel"
        if find_unused_parameters:
            raise NotImplementedError(f"[{name}] find_unused_parameters=True is not supported: every parameter "
                                      "that requires grad must receive a gradient in each backward (set "
                                      "requires_grad_(False) on those that do not)")
        if device_ids not in (None, []) or output_device is not None:
            raise ValueError(f"[{name}] device_ids and output_device must be None for a CPU module")
        if not dist.is_initialized():
            raise RuntimeError(f"[{name}] call tapegrad.distributed.init_process_group('mpi') first")
        if process_group is not None:
            raise ValueError(f"[{name}] only the default group (process_group=None) is supported")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        self._dist = dist
        self._world_size = dist.get_world_size()

        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.detach(), src=0)
        self._names = {id(parameter): name for name, parameter in module.named_parameters()}
        trained = [parameter for parameter in module.parameters() if parameter.requires_grad]
        for parameter in trained:
            if not parameter.is_floating_point():
                raise TypeError(f"[{name}] parameters that require grad are floating point, got {parameter.dtype}")
        cap = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self._buckets = _assign_buckets(trained, int(cap * 1024 * 1024), self._world_size, gradient_as_bucket_view)
        this = weakref.ref(self)
        for bucket_index, bucket in enumerate(self._buckets):
            for position, parameter in enumerate(bucket.parameters):
                parameter.register_post_accumulate_grad_hook(functools.partial(_gradient_ready, this, bucket_index,
                                                                               position))
        self._expect_gradients = False  # set by a forward whose backward must reduce
        self._progress = _Progress()

    def forward(self, *inputs, **kwargs):
        import tapegrad

        self._check_previous_reduction_finished()
        if self.broadcast_buffers:
            for buffer in self.module.buffers():
                self._dist.broadcast(buffer.detach(), src=0)
        if tapegrad.is_grad_enabled() and self.require_backward_grad_sync:
            for bucket in self._buckets:
                bucket.reset()
            self._progress.finish()  # nothing in flight, unless the last backward failed midway
            self._expect_gradients = True
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside accumulate gradients locally, unreduced; the first
        synchronised backward after them reduces the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _gradient_ready(self, bucket_index, position, parameter):
        if not self._expect_gradients:
            return
        bucket = self._buckets[bucket_index]
        if bucket.arrived[position]:
            raise RuntimeError("[DistributedDataParallel] a parameter received its gradient twice in one "
                               f"backward ({self._names[id(parameter)]}); run forward again before backward")
        bucket.write_gradient(position, parameter.grad)
        buckets, progress = self._buckets, self._progress
        # Buckets start in bucket order, identical on every rank, as MPI requires of collectives.
        while len(progress.works) < len(buckets) and buckets[len(progress.works)].missing == 0:
            progress.start(self._dist.all_reduce(buckets[len(progress.works)].tensor, async_op=True))
        if len(progress.works) < len(buckets):
            return
        progress.finish()
        for finished in buckets:
            finished.read_gradients()
        self._expect_gradients = False

    def _check_previous_reduction_finished(self):
        """PyTorch's error for a backward that left buckets unreduced (a forward without a backward
        is fine)."""
        if not (self._expect_gradients and any(any(bucket.arrived) for bucket in self._buckets)):
            return
        missing = [self._names[id(parameter)] for bucket in self._buckets
                   for parameter, arrived in zip(bucket.parameters, bucket.arrived) if not arrived]
        raise RuntimeError("[DistributedDataParallel] Expected to have finished reduction in the prior iteration "
                           "before starting a new one: some parameters took no part in the loss, so no gradient "
                           "was averaged across ranks (find_unused_parameters=True is not supported; call "
                           "requires_grad_(False) on parameters that are not trained). Parameters that received "
                           f"no gradient: {', '.join(missing)}")
