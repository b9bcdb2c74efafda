"""Data-parallel training on MPI: what DistributedDataParallel costs and gains, in one table.

    python bench/distributed.py [--ranks 2] [--repeat 10] [--quick]

1. allreduce: the gradients of 16 parameters of 1M float32 each (64 MB) averaged by DDP's bucketed
   path (copy into 25 MB buckets, non-blocking allreduces, copy back; and with
   gradient_as_bucket_view, where .grad is the bucket), and the buckets' allreduces alone, against
   one raw mpi4py Allreduce of a 64 MB buffer (and the same after the one pass an average needs);
   ratios of bandwidths (raw time / ours).
2. epoch: one Fashion-MNIST epoch of tapegrad-train (784-128-10, global batch 256), 1 process x 2
   threads against 2 ranks x 1 thread (the samples/s the command reports).
3. overlap: the 784-1024-1024-10 MLP on 2 ranks x 1 thread, batch 128 per rank: backward with DDP
   (allreduces start while backward runs) against backward, then the same averaging, one after the
   other.

It launches itself under mpiexec for the measurements that need ranks; medians of --repeat runs.
Fashion-MNIST comes from Debian's dataset-fashion-mnist (or tapegrad's cache).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)


def mpiexec_path():
    found = shutil.which("mpiexec", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    if found is None:
        sys.exit("bench/distributed.py: mpiexec not found (pip install '.[mpi]')")
    return found


def launch(ranks, *arguments, threads=1):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    command = [mpiexec_path(), "-n", str(ranks), sys.executable, *arguments]
    job = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if job.returncode != 0:
        sys.exit(f"bench/distributed.py: {' '.join(command)} failed:\n{job.stdout}{job.stderr}")
    return job.stdout


# --- measured inside the ranks ---------------------------------------------------------------

def median_seconds(function, repeat):
    import tapegrad.distributed as dist

    times = []
    for _ in range(repeat):
        dist.barrier()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_allreduce(repeat, elements):
    """Prints 'allreduce <raw> <raw average> <buckets' communication> <bucketed path> <bucket views>
    <buckets>' (seconds) on rank 0."""
    import numpy as np

    import tapegrad as tg
    import tapegrad.distributed as dist
    from mpi4py import MPI

    class Parameters(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.tensors = tg.nn.ParameterList([tg.nn.Parameter(tg.zeros(elements)) for _ in range(16)])

        def forward(self, x):
            return x

    def wrapped(as_view):
        module = Parameters()
        ddp = tg.nn.parallel.DistributedDataParallel(module, gradient_as_bucket_view=as_view)
        for parameter in module.parameters():
            parameter.grad = tg.randn(elements)
        hooks = [(index, position, parameter) for index, bucket in enumerate(ddp._buckets)
                 for position, parameter in enumerate(bucket.parameters)]

        def bucketed():
            ddp(None)  # arms the reduction, as a forward does
            # What backward's post-accumulate-grad hooks do, in the order they fire.
            for index, position, parameter in hooks:
                ddp._gradient_ready(index, position, parameter)
        return ddp, bucketed

    ddp, bucketed = wrapped(as_view=False)
    # After its first call every .grad is a view of its bucket: the division is in place, nothing
    # is copied back (a loop with zero_grad(set_to_none=False)).
    _, bucket_view = wrapped(as_view=True)

    def communication():
        # The buckets' allreduces alone, as the hooks start them, without the copies in and out.
        for work in [dist.all_reduce(bucket.tensor, async_op=True) for bucket in ddp._buckets]:
            work.wait()

    flat = np.random.default_rng(0).standard_normal(16 * elements).astype(np.float32)
    comm = dist._group.comm

    def raw():
        comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)

    def raw_average():
        # The least an average costs: the raw sum and one pass dividing it (DDP divides on the way in).
        np.divide(flat, dist.get_world_size(), out=flat)
        comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)

    functions = (raw, raw_average, communication, bucketed, bucket_view)
    seconds = [median_seconds(function, repeat) for function in functions]
    if dist.get_rank() == 0:
        print("allreduce", *seconds, len(ddp._buckets), flush=True)


def measure_overlap(repeat, hidden, batch):
    """Prints 'overlap <backward> <allreduce> <ddp backward>' on rank 0."""
    import numpy as np

    import tapegrad as tg
    import tapegrad.distributed as dist
    from mpi4py import MPI
    from tapegrad import nn

    def mlp():
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                             nn.Linear(hidden, 10))

    inputs, targets = tg.randn(batch, 784), tg.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()
    plain, ddp = mlp(), nn.parallel.DistributedDataParallel(mlp())
    comm = dist._group.comm
    flat = np.empty(sum(parameter.numel() for parameter in plain.parameters()), np.float32)

    def timed_backward(model):
        model.zero_grad()
        loss = loss_fn(model(inputs), targets)
        dist.barrier()
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    def average_gradients():
        # The same work as DDP's reduction, after backward: copy in (divided), allreduce, copy back.
        start = time.perf_counter()
        offset = 0
        for parameter in reversed(list(plain.parameters())):
            grad = parameter.grad.numpy()
            np.divide(grad.reshape(-1), dist.get_world_size(), out=flat[offset:offset + grad.size])
            offset += grad.size
        comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        offset = 0
        for parameter in reversed(list(plain.parameters())):
            grad = parameter.grad.numpy()
            grad[...] = flat[offset:offset + grad.size].reshape(grad.shape)
            offset += grad.size
        return time.perf_counter() - start

    backward, allreduce, overlapped = [], [], []
    for _ in range(repeat + 1):  # the first round warms up
        backward.append(timed_backward(plain))
        allreduce.append(average_gradients())
        overlapped.append(timed_backward(ddp))
    if dist.get_rank() == 0:
        print("overlap", *(statistics.median(times[1:]) for times in (backward, allreduce, overlapped)), flush=True)


def rank_main(arguments):
    import tapegrad as tg
    import tapegrad.distributed as dist

    tg.set_num_threads(1)
    dist.init_process_group("mpi")
    if arguments.measure == "allreduce":
        measure_allreduce(arguments.repeat, 1 << (12 if arguments.quick else 20))
    else:
        measure_overlap(arguments.repeat, 64 if arguments.quick else 1024, 128)


# --- the driver ------------------------------------------------------------------------------

def epoch_rate(ranks, threads, quick):
    """tapegrad-train's samples/s over one epoch (global batch 256)."""
    options = ["-m", "tapegrad.train", "--epochs", "1", "--batch-size", "256", "--threads", str(threads),
               "--no-progress"]
    if quick:
        options += ["--hidden", "8"]
    if ranks == 1:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        output = subprocess.run([sys.executable, *options], env=env, capture_output=True, text=True,
                                check=True, timeout=900).stdout
    else:
        output = launch(ranks, *options, threads=threads)
    return float(re.search(r"([\d,]+) samples/s", output).group(1).replace(",", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, one repeat")
    parser.add_argument("--measure", choices=("allreduce", "overlap"), help=argparse.SUPPRESS)  # inside a rank
    arguments = parser.parse_args()
    if arguments.measure:
        return rank_main(arguments)
    repeat = ["--repeat", str(1 if arguments.quick else arguments.repeat)] + (["--quick"] if arguments.quick else [])

    fields = launch(arguments.ranks, HERE, "--measure", "allreduce", *repeat).split()
    raw, raw_average, communication, bucketed, bucket_view = (float(value) for value in fields[1:6])
    buckets = int(fields[6])
    size_bytes = 16 * (1 << (12 if arguments.quick else 20)) * 4
    threaded, ranked = epoch_rate(1, arguments.ranks, arguments.quick), epoch_rate(arguments.ranks, 1, arguments.quick)
    fields = launch(arguments.ranks, HERE, "--measure", "overlap", *repeat).split()
    backward, allreduce, overlapped = (float(value) for value in fields[1:4])

    n = arguments.ranks
    rows = [
        ("allreduce", f"raw mpi4py Allreduce of {size_bytes / 2**20:g} MiB, {n} ranks", f"{raw * 1e3:.1f} ms",
         f"{size_bytes / raw / 1e9:.2f} GB/s"),
        ("", "raw Allreduce after one pass dividing by the ranks (an average)", f"{raw_average * 1e3:.1f} ms",
         f"{size_bytes / raw_average / 1e9:.2f} GB/s, {raw / raw_average:.2f}x raw"),
        ("", f"DDP's {buckets} buckets, their allreduces alone", f"{communication * 1e3:.1f} ms",
         f"{size_bytes / communication / 1e9:.2f} GB/s, {raw / communication:.2f}x raw"),
        ("", "DDP bucketed path (with copies in and out)", f"{bucketed * 1e3:.1f} ms",
         f"{size_bytes / bucketed / 1e9:.2f} GB/s, {raw / bucketed:.2f}x raw"),
        ("", "DDP with gradient_as_bucket_view (in-place division)", f"{bucket_view * 1e3:.1f} ms",
         f"{size_bytes / bucket_view / 1e9:.2f} GB/s, {raw / bucket_view:.2f}x raw, "
         f"{raw_average / bucket_view:.2f}x the raw average"),
        ("epoch", f"1 process x {n} threads", f"{threaded:,.0f} samples/s", ""),
        ("", f"{n} ranks x 1 thread", f"{ranked:,.0f} samples/s", f"{threaded / ranked:.2f}x the threaded time"),
        ("overlap", "backward, then allreduce", f"{backward * 1e3:.1f} + {allreduce * 1e3:.1f} ms",
         f"{(backward + allreduce) * 1e3:.1f} ms"),
        ("", "DDP backward (allreduce overlapped)", f"{overlapped * 1e3:.1f} ms",
         f"{overlapped / (backward + allreduce):.2f}x the sequential time"),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
