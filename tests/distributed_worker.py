"""What tests/test_distributed.py runs under ``mpiexec -n N``: ``python distributed_worker.py SCENARIO``.

Every rank checks its own results; a failed check raises, and the excepthook that
init_process_group installs aborts the job, so mpiexec exits non-zero. Rank 0 prints "ok SCENARIO"
at the end of each scenario that passed.
"""
import sys

import numpy as np

import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad import nn

DTYPES = {tg.float32: np.float32, tg.float64: np.float64, tg.int32: np.int32, tg.int64: np.int64,
          tg.bool: np.bool_}


def rank_values(rank, dtype, shape=(2, 3)):
    """What rank `rank` contributes: distinct per rank, exact in every dtype (and bool mixed)."""
    values = np.arange(np.prod(shape)).reshape(shape) * (rank + 2) - rank
    if dtype is tg.bool:
        return (values % 3 == 0)
    return values.astype(DTYPES[dtype])


def expected_reduction(op, arrays):
    stacked = np.stack(arrays)
    if stacked.dtype == np.bool_:
        return stacked.any(0) if op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX) else stacked.all(0)
    return {dist.ReduceOp.SUM: stacked.sum(0), dist.ReduceOp.PRODUCT: stacked.prod(0, dtype=stacked.dtype),
            dist.ReduceOp.MIN: stacked.min(0), dist.ReduceOp.MAX: stacked.max(0),
            dist.ReduceOp.AVG: stacked.mean(0)}[op].astype(stacked.dtype)


def check(result, expected, what):
    result = result.numpy() if isinstance(result, tg.Tensor) else result
    if not np.array_equal(result, expected):
        raise AssertionError(f"rank {dist.get_rank()}: {what}: got {result.tolist()}, expected {expected.tolist()}")


def collectives():
    rank, size = dist.get_rank(), dist.get_world_size()
    try:
        dist.init_process_group("mpi")
        raise AssertionError("a second init_process_group must fail")
    except ValueError as e:
        assert "twice" in str(e)
    for dtype in DTYPES:
        mine = rank_values(rank, dtype)
        everyone = [rank_values(r, dtype) for r in range(size)]
        ops = [op for op in dist.ReduceOp if op is not dist.ReduceOp.AVG or dtype.is_floating_point]
        for op in ops:
            for async_op in (False, True):
                tensor = tg.from_numpy(mine.copy())
                work = dist.all_reduce(tensor, op=op, async_op=async_op)
                if async_op:
                    assert work.wait() and work.is_completed()
                check(tensor, expected_reduction(op, everyone), f"all_reduce {op} {dtype} async={async_op}")
            # A non-contiguous tensor: reduced through a copy, written back through its strides.
            transposed = tg.from_numpy(mine.T.copy()).t()
            dist.all_reduce(transposed, op=op)
            check(transposed, expected_reduction(op, everyone), f"all_reduce {op} {dtype} of a transposed tensor")

            outputs = tg.from_numpy(np.zeros_like(mine))
            inputs = [tg.from_numpy(rank_values(rank + part, dtype)) for part in range(size)]
            dist.reduce_scatter(outputs, inputs, op=op)
            check(outputs, expected_reduction(op, [rank_values(r + rank, dtype) for r in range(size)]),
                  f"reduce_scatter {op} {dtype}")

        for async_op in (False, True):
            tensor = tg.from_numpy(mine.copy())
            work = dist.broadcast(tensor, src=size - 1, async_op=async_op)
            if async_op:
                work.wait()
            check(tensor, everyone[-1], f"broadcast {dtype}")

            gathered = [tg.from_numpy(np.zeros_like(mine)) for _ in range(size)]
            work = dist.all_gather(gathered, tg.from_numpy(mine), async_op=async_op)
            if async_op:
                work.wait()
            for r in range(size):
                check(gathered[r], everyone[r], f"all_gather {dtype} part {r}")

            destination = 1 % size
            gathered = [tg.from_numpy(np.zeros_like(mine)) for _ in range(size)] if rank == destination else None
            work = dist.gather(tg.from_numpy(mine), gathered, dst=destination, async_op=async_op)
            if async_op:
                work.wait()
            for r in range(size if rank == destination else 0):
                check(gathered[r], everyone[r], f"gather {dtype} part {r}")

            received = tg.from_numpy(np.zeros_like(mine))
            parts = [tg.from_numpy(rank_values(10 + r, dtype)) for r in range(size)] if rank == 0 else None
            work = dist.scatter(received, parts, src=0, async_op=async_op)
            if async_op:
                work.wait()
            check(received, rank_values(10 + rank, dtype), f"scatter {dtype}")
    dist.barrier()
    dist.barrier(async_op=True).wait()
    try:
        dist.all_reduce(tg.tensor([1, 2]), op=dist.ReduceOp.AVG)
        raise AssertionError("AVG of integers must fail")
    except ValueError as e:
        assert "floating point" in str(e)


def make_model(seed):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 6), nn.Tanh(), nn.Linear(6, 3)).double()


def global_batches(steps, per_rank, size):
    """The same global batches on every rank: inputs and targets for `steps` steps."""
    generator = tg.Generator().manual_seed(1234)
    return [(tg.randn(per_rank * size, 5, generator=generator, dtype=tg.float64),
             tg.randint(0, 3, (per_rank * size,), generator=generator)) for _ in range(steps)]


def parameters_of(model):
    return [parameter.detach().numpy().copy() for parameter in model.parameters()]


def assert_equal_on_every_rank(arrays, what):
    for array in arrays:
        low, high = tg.from_numpy(array.copy()), tg.from_numpy(array.copy())
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        if not np.array_equal(low.numpy(), high.numpy()):
            raise AssertionError(f"{what}: ranks differ")


def ddp_equals_single_process():
    rank, size = dist.get_rank(), dist.get_world_size()
    per_rank, steps = 4, 5
    loss_fn = nn.CrossEntropyLoss()
    for optimizer_name in ("sgd", "adam"):
        # bucket_cap_mb: the default (one bucket for this small model) and one bucket per parameter;
        # .grad copied back or a view of its bucket, cleared to None or zeroed in place.
        for bucket_cap_mb, as_view, set_to_none in [(None, False, True), (1e-6, False, True), (None, True, True),
                                                    (1e-6, True, False)]:
            def optimizer_for(parameters):
                if optimizer_name == "sgd":
                    return tg.optim.SGD(parameters, lr=0.1, momentum=0.9)
                return tg.optim.Adam(parameters, lr=0.01)

            reference = make_model(seed=0)
            # Ranks start from different weights: DDP's broadcast makes them rank 0's.
            model = nn.parallel.DistributedDataParallel(make_model(seed=rank), bucket_cap_mb=bucket_cap_mb,
                                                        gradient_as_bucket_view=as_view)
            assert len(model._buckets) == (1 if bucket_cap_mb is None else 6)
            reference_optimizer, optimizer = optimizer_for(reference.parameters()), optimizer_for(model.parameters())
            for inputs, targets in global_batches(steps, per_rank, size):
                reference_optimizer.zero_grad()
                loss_fn(reference(inputs), targets).backward()
                reference_optimizer.step()
                shard = slice(rank * per_rank, (rank + 1) * per_rank)
                optimizer.zero_grad(set_to_none=set_to_none)
                loss_fn(model(inputs[shard]), targets[shard]).backward()
                if as_view:
                    views = [view.data_ptr() for bucket in model._buckets for view in bucket.views]
                    assert sorted(p.grad.data_ptr() for p in model.parameters()) == sorted(views)
                optimizer.step()
            assert not model._progress.works  # backward() returned with every allreduce waited for
            for ours, theirs in zip(parameters_of(model), parameters_of(reference)):
                np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
            assert_equal_on_every_rank(parameters_of(model), f"{optimizer_name} parameters")
    state = model.state_dict()
    assert list(state) == ["module." + key for key in model.module.state_dict()], list(state)


def no_sync_accumulates():
    rank, size = dist.get_rank(), dist.get_world_size()
    per_rank = 3
    loss_fn = nn.CrossEntropyLoss()
    reference = make_model(seed=0)
    model = nn.parallel.DistributedDataParallel(make_model(seed=0), bucket_cap_mb=1e-6)
    batches = global_batches(3, per_rank, size)
    shard = slice(rank * per_rank, (rank + 1) * per_rank)
    local = make_model(seed=0)
    with model.no_sync():
        for inputs, targets in batches[:2]:
            loss_fn(model(inputs[shard]), targets[shard]).backward()
            loss_fn(local(inputs[shard]), targets[shard]).backward()
    # Inside no_sync, gradients stay this rank's own.
    for ours, alone in zip(model.parameters(), local.parameters()):
        np.testing.assert_allclose(ours.grad.numpy(), alone.grad.numpy(), rtol=0, atol=1e-12)
    inputs, targets = batches[2]
    loss_fn(model(inputs[shard]), targets[shard]).backward()
    for inputs, targets in batches:
        loss_fn(reference(inputs), targets).backward()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=0, atol=1e-10)


def unused_parameter_is_an_error():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 2), nn.Linear(3, 2)

        def forward(self, x):
            return self.used(x)

    try:
        nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
        raise AssertionError("find_unused_parameters=True must be refused")
    except NotImplementedError as e:
        assert "find_unused_parameters" in str(e)
    model = nn.parallel.DistributedDataParallel(TwoHeads())
    model(tg.randn(4, 3)).sum().backward()
    try:
        model(tg.randn(4, 3))
        raise AssertionError("the forward after a backward that left a parameter without gradient must fail")
    except RuntimeError as e:
        assert "unused.weight" in str(e) and "used.weight" not in str(e).replace("unused.weight", ""), str(e)


def rank_raises():
    if dist.get_rank() == dist.get_world_size() - 1:
        raise ValueError("this rank fails on purpose")
    dist.barrier()  # the others wait here for a rank that will never come


SCENARIOS = {"collectives": collectives, "ddp": ddp_equals_single_process, "no_sync": no_sync_accumulates,
             "unused": unused_parameter_is_an_error, "raise": rank_raises}

if __name__ == "__main__":
    tg.set_num_threads(1)
    dist.init_process_group("mpi")
    for name in sys.argv[1:]:
        SCENARIOS[name]()
        dist.barrier()
        if dist.get_rank() == 0:
            print("ok", name, flush=True)
    dist.destroy_process_group()
