"""tapegrad.distributed: PyTorch's process group and collectives, on MPI (through mpi4py).

    mpiexec -n 4 python my_script.py          # one machine
    mpiexec -hosts a,b -n 8 python my_script.py   # across machines (MPICH's host option)

    import tapegrad.distributed as dist
    dist.init_process_group("mpi")            # rank and world size come from mpiexec
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, as in PyTorch

Collectives hand MPI the tensor's own memory (``tensor.numpy()`` shares it), so a contiguous
tensor is never copied; a non-contiguous one goes through a contiguous copy and is written back.
Only the default group (``group=None``) exists. ``init_process_group`` also installs an excepthook
that aborts the whole MPI job when a rank dies of an uncaught exception, so that the other ranks,
blocked in a collective that rank will never join, fail fast instead of hanging.
"""

from __future__ import annotations

import enum
import sys
import time

import numpy as np

__all__ = ["ReduceOp", "Work", "is_available", "is_mpi_available", "init_process_group", "is_initialized",
           "destroy_process_group", "get_rank", "get_world_size", "get_backend", "barrier", "all_reduce",
           "broadcast", "all_gather", "reduce_scatter", "gather", "scatter"]


class ReduceOp(enum.Enum):
    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


class _ProcessGroup:
    """The default group: a duplicate of MPI's world communicator (so our messages never match a
    user's own mpi4py traffic) and the excepthook it replaced."""

    def __init__(self, mpi, previous_excepthook):
        self.mpi = mpi
        self.comm = mpi.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.previous_excepthook = previous_excepthook


_group: _ProcessGroup | None = None


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError("[init_process_group] the 'mpi' backend needs mpi4py and an MPI library: "
                           "pip install 'tapegrad[mpi]' (or mpi4py built against your system MPI)") from e
    return MPI


def is_available() -> bool:
    """True: the package itself is always there (PyTorch's meaning); see is_mpi_available."""
    return True


def is_mpi_available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _abort_job(exc_type, exc, traceback):
    """sys.excepthook while a group exists: print the traceback, then take every rank down."""
    group = _group
    (group.previous_excepthook if group else sys.__excepthook__)(exc_type, exc, traceback)
    if group is not None:
        sys.stderr.flush()
        # mpiexec forwards a rank's output asynchronously and drops what is still in the pipe when
        # Abort tears the job down: a loaded CI run showed the traceback cut after its first line.
        # Half a second on the way to a dead job lets it drain.
        time.sleep(0.5)
        group.mpi.COMM_WORLD.Abort(1)


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins the job mpiexec started: rank and world size come from MPI. ``world_size`` and
    ``rank``, when given, must agree with it; ``init_method``, ``store`` and ``timeout`` have no
    meaning for MPI and are ignored."""
    global _group
    if _group is not None:
        raise ValueError("[init_process_group] trying to initialize the default process group twice!")
    if backend not in (None, "mpi"):
        raise ValueError(f"[init_process_group] backend {backend!r} is not available; tapegrad's backend is 'mpi'")
    mpi = _import_mpi()
    group = _ProcessGroup(mpi, sys.excepthook)
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            group.comm.Free()
            raise ValueError(f"[init_process_group] {name}={given}, but MPI says {actual} (mpiexec sets it)")
    _group = group
    sys.excepthook = _abort_job


def is_initialized() -> bool:
    return _group is not None


def _default_group(op: str, group=None) -> _ProcessGroup:
    """The default group, for an op called with group=group (only None, the default, exists)."""
    if group is not None:
        raise ValueError(f"[{op}] only the default group (group=None) is supported")
    if _group is None:
        raise ValueError(f"[{op}] Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _group


def destroy_process_group(group=None):
    """Frees the group and restores the excepthook; MPI itself stays up (it cannot start twice),
    so init_process_group may be called again."""
    global _group
    current = _default_group("destroy_process_group", group)
    _group = None
    if sys.excepthook is _abort_job:
        sys.excepthook = current.previous_excepthook
    current.comm.Free()


def get_backend(group=None) -> str:
    _default_group("get_backend", group)
    return "mpi"


def get_rank(group=None) -> int:
    return _default_group("get_rank", group).rank


def get_world_size(group=None) -> int:
    return _default_group("get_world_size", group).size


class Work:
    """What a collective with ``async_op=True`` returns (PyTorch's Work): ``wait()`` blocks until
    the collective is done and its results are in the tensors; ``is_completed()`` does not block."""

    def __init__(self, request, finish):
        self._request = request
        self._finish = finish  # writes results back into the tensors; run once, after completion
        self._done = False

    def _complete(self):
        self._done = True
        self._request = None
        finish, self._finish = self._finish, None
        finish()

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()


class _Buffer:
    """The memory MPI reads and writes for one tensor: the tensor's own when it is contiguous, else
    a contiguous copy that write_back() copies into the tensor."""

    def __init__(self, tensor, op: str, copy_in: bool = True):
        import tapegrad

        if not isinstance(tensor, tapegrad.Tensor):
            raise TypeError(f"[{op}] expected a Tensor, got {type(tensor).__name__}")
        self.view = tensor.detach().numpy()  # shares the tensor's memory, whatever its strides
        self.shared = tensor.is_contiguous()
        if self.shared:
            self.array = self.view
        else:
            self.array = np.ascontiguousarray(self.view) if copy_in else np.empty(self.view.shape, self.view.dtype)

    def write_back(self):
        if not self.shared:
            self.view[...] = self.array


def _per_rank(tensors, op: str, what: str, like, size: int):
    """tensors as a list, checked to hold one tensor of like's shape and dtype per rank."""
    tensors = list(tensors)
    if len(tensors) != size:
        raise ValueError(f"[{op}] {what} must hold one tensor per rank ({size}), got {len(tensors)}")
    for tensor in tensors:
        if tuple(tensor.shape) != tuple(like.shape) or tensor.dtype != like.dtype:
            raise ValueError(f"[{op}] every tensor in {what} must have shape {tuple(like.shape)} and dtype "
                             f"{like.dtype}, got {tuple(tensor.shape)} and {tensor.dtype}")
    return tensors


def _mpi_op(group: _ProcessGroup, op, array, name: str):
    """MPI's operation for op on array's dtype. MPI has no average (a sum, divided afterwards) and
    no arithmetic on bool (PyTorch's bool sum and max are a logical or, product and min an and)."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"[{name}] op must be a dist.ReduceOp, got {op!r}")
    mpi = group.mpi
    if array.dtype == np.bool_:
        if op is ReduceOp.AVG:
            raise ValueError(f"[{name}] ReduceOp.AVG needs a floating point tensor, got bool")
        return mpi.LOR if op in (ReduceOp.SUM, ReduceOp.MAX) else mpi.LAND
    if op is ReduceOp.AVG and not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"[{name}] ReduceOp.AVG needs a floating point tensor, got {array.dtype}")
    return {ReduceOp.SUM: mpi.SUM, ReduceOp.AVG: mpi.SUM, ReduceOp.PRODUCT: mpi.PROD, ReduceOp.MIN: mpi.MIN,
            ReduceOp.MAX: mpi.MAX}[op]


def _run(group: _ProcessGroup, async_op: bool, blocking, nonblocking, finish=lambda: None):
    """Runs a collective: the blocking MPI call and finish() now, or the non-blocking one with a Work
    that runs finish() on completion."""
    if async_op:
        return Work(nonblocking(), finish)
    blocking()
    finish()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces tensor across ranks, in place on every rank."""
    group = _default_group("all_reduce", group)
    buffer = _Buffer(tensor, "all_reduce")
    mpi_op = _mpi_op(group, op, buffer.array, "all_reduce")

    def finish():
        if op is ReduceOp.AVG:
            buffer.array /= group.size
        buffer.write_back()

    in_place = group.mpi.IN_PLACE
    return _run(group, async_op, lambda: group.comm.Allreduce(in_place, buffer.array, mpi_op),
                lambda: group.comm.Iallreduce(in_place, buffer.array, mpi_op), finish)


def broadcast(tensor, src, group=None, async_op=False):
    """Copies rank src's tensor into tensor on every other rank."""
    group = _default_group("broadcast", group)
    _check_rank("broadcast", "src", src, group)
    buffer = _Buffer(tensor, "broadcast", copy_in=group.rank == src)
    return _run(group, async_op, lambda: group.comm.Bcast(buffer.array, root=src),
                lambda: group.comm.Ibcast(buffer.array, root=src), buffer.write_back)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] = rank r's tensor, on every rank."""
    group = _default_group("all_gather", group)
    outputs = _per_rank(tensor_list, "all_gather", "tensor_list", tensor, group.size)
    buffer = _Buffer(tensor, "all_gather")
    gathered = np.empty((group.size, *buffer.array.shape), buffer.array.dtype)

    def finish():
        for output, part in zip(outputs, gathered):
            output.detach().numpy()[...] = part

    return _run(group, async_op, lambda: group.comm.Allgather(buffer.array, gathered),
                lambda: group.comm.Iallgather(buffer.array, gathered), finish)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output = the reduction over ranks of their input_list[rank]."""
    group = _default_group("reduce_scatter", group)
    inputs = _per_rank(input_list, "reduce_scatter", "input_list", output, group.size)
    stacked = np.stack([item.detach().numpy() for item in inputs])
    buffer = _Buffer(output, "reduce_scatter", copy_in=False)
    mpi_op = _mpi_op(group, op, stacked, "reduce_scatter")

    def finish():
        if op is ReduceOp.AVG:
            buffer.array /= group.size
        buffer.write_back()

    return _run(group, async_op, lambda: group.comm.Reduce_scatter_block(stacked, buffer.array, mpi_op),
                lambda: group.comm.Ireduce_scatter_block(stacked, buffer.array, mpi_op), finish)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """gather_list[r] = rank r's tensor, on rank dst (which alone passes gather_list)."""
    group = _default_group("gather", group)
    _check_rank("gather", "dst", dst, group)
    buffer = _Buffer(tensor, "gather")
    outputs, gathered = None, None
    if group.rank == dst:
        if gather_list is None:
            raise ValueError("[gather] the destination rank must pass gather_list")
        outputs = _per_rank(gather_list, "gather", "gather_list", tensor, group.size)
        gathered = np.empty((group.size, *buffer.array.shape), buffer.array.dtype)
    elif gather_list:
        raise ValueError(f"[gather] only the destination rank ({dst}) passes gather_list")

    def finish():
        for output, part in zip(outputs or (), gathered if gathered is not None else ()):
            output.detach().numpy()[...] = part

    return _run(group, async_op, lambda: group.comm.Gather(buffer.array, gathered, root=dst),
                lambda: group.comm.Igather(buffer.array, gathered, root=dst), finish)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """tensor = rank src's scatter_list[rank] (src alone passes scatter_list)."""
    group = _default_group("scatter", group)
    _check_rank("scatter", "src", src, group)
    buffer = _Buffer(tensor, "scatter", copy_in=False)
    stacked = None
    if group.rank == src:
        if scatter_list is None:
            raise ValueError("[scatter] the source rank must pass scatter_list")
        inputs = _per_rank(scatter_list, "scatter", "scatter_list", tensor, group.size)
        stacked = np.stack([item.detach().numpy() for item in inputs])
    elif scatter_list:
        raise ValueError(f"[scatter] only the source rank ({src}) passes scatter_list")
    return _run(group, async_op, lambda: group.comm.Scatter(stacked, buffer.array, root=src),
                lambda: group.comm.Iscatter(stacked, buffer.array, root=src), buffer.write_back)


def barrier(group=None, async_op=False, device_ids=None):
    group = _default_group("barrier", group)
    return _run(group, async_op, group.comm.Barrier, group.comm.Ibarrier)


def _check_rank(op: str, name: str, value, group: _ProcessGroup):
    if not isinstance(value, int) or not 0 <= value < group.size:
        raise ValueError(f"[{op}] {name}={value!r} is not a rank of this group (0 to {group.size - 1})")
