"""Side-by-side benchmark machinery: tapegrad against PyTorch and NumPy on the same case, in one run.

A case builds one callable per contestant; building it (the setup) is not timed. The contestants
then take turns, ABCABC..., so that drifts in clock speed or machine load hit all of them alike.
Each sample is one timed batch of `inner` calls; `inner` is calibrated once per case and shared by
all contestants. A case reports the median time per call of each contestant and the time ratios
tapegrad/torch and tapegrad/numpy.

This module imports no contestant library at import time: run.py must be able to set thread
environment variables before NumPy loads its BLAS (see load_libraries).
"""

import gc
import importlib
import math
import os
import pkgutil
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

CONTESTANTS = ("tapegrad", "torch", "numpy")
COLUMNS = ("case", "tapegrad", "torch", "numpy", "tg/torch", "tg/numpy", "note")
TIME_WIDTH = 10  # fits "123.45 µs" and "error"
RATIO_WIDTH = 8
RATIO_EXPLANATION = (
    "Times are medians per call. tg/torch and tg/numpy are time ratios: "
    "lower is better for tapegrad (below 1 means tapegrad is faster)."
)

# A module attribute rather than a direct call so that tests can substitute a fake clock.
clock = time.perf_counter_ns
WARM_UP_NS = 50_000_000  # untimed calls after a settling pause (see sample)


@dataclass
class Case:
    """One benchmark case. A setup receives its library module and returns the callable to time.

    `torchlike` builds both the tapegrad and the torch contestant: tapegrad mirrors PyTorch's API,
    so one function written against `lib` makes the two run identical code. Leave `numpy` None
    where NumPy has no equivalent; its column then shows '-'.
    """

    name: str
    torchlike: Optional[Callable] = None
    numpy: Optional[Callable] = None

    def setup_for(self, contestant):
        return self.numpy if contestant == "numpy" else self.torchlike


@dataclass
class Result:
    name: str
    per_call_ns: dict = field(default_factory=dict)  # contestant -> median nanoseconds per call
    errors: dict = field(default_factory=dict)  # contestant -> message


# ---- timing -------------------------------------------------------------------------------------


def time_batch(function, inner):
    start = clock()
    for _ in range(inner):
        function()
    return clock() - start


def calibrate(functions, target_ns):
    """The inner count whose batch lasts about target_ns for the slowest contestant.

    Sizing by the slowest bounds a case's run time; faster contestants get shorter batches that
    still hold many calls.
    """
    inner = 1
    while True:
        slowest_ns = max(time_batch(function, inner) for function in functions.values())
        # Grow tenfold until a batch is long enough to measure well, then extrapolate once.
        if slowest_ns * 10 >= target_ns:
            return max(inner, math.ceil(inner * target_ns / max(slowest_ns, 1)))
        inner *= 10


def warm_up(function):
    """Calls `function` until WARM_UP_NS have passed, at least once."""
    start = clock()
    function()
    while clock() - start < WARM_UP_NS:
        function()


def sample(functions, inner, repeat, settle_s=0.0):
    """`repeat` per-call times for each contestant, taking turns batch by batch.

    With `settle_s`, each batch starts after a pause and WARM_UP_NS of untimed calls: thread pools
    (OpenMP's, OpenBLAS's) spin for a while after their work, and with as many threads as cores the
    previous contestant's spinning threads would otherwise be timed against the next one. The pause
    lets them sleep; the warm-up then wakes this contestant's own workers and keeps them busy long
    enough that the batch times the steady state (on a virtual machine an idle core's first
    wake-ups were seen to stall a thread team for 4-30 ms, a few host scheduler ticks).
    """
    samples = {contestant: [] for contestant in functions}
    for _ in range(repeat):
        for contestant, function in functions.items():
            if settle_s:
                time.sleep(settle_s)
                warm_up(function)
            samples[contestant].append(time_batch(function, inner) / inner)
    return samples


def measure(functions, repeat, target_ns, settle_s=0.0):
    """Median nanoseconds per call of each function in `functions` (contestant -> callable)."""
    gc.collect()  # leave no garbage from setup for a collection to find later
    gc_was_enabled = gc.isenabled()
    # A collection landing in one contestant's batch would be charged to that contestant alone.
    gc.disable()
    try:
        inner = calibrate(functions, target_ns)
        samples = sample(functions, inner, repeat, settle_s)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {contestant: statistics.median(times) for contestant, times in samples.items()}


def describe(error):
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}"[:120]


def run_case(case, libraries, repeat, target_ns, settle_s=0.0):
    """Time one case; a contestant that fails at setup or at call is reported, never raised."""
    result = Result(case.name)
    functions = {}
    for contestant in CONTESTANTS:
        setup, library = case.setup_for(contestant), libraries.get(contestant)
        if setup is None or library is None:
            continue
        try:
            function = setup(library)
            function()  # warm-up, which also surfaces a failing call before any timing
            functions[contestant] = function
        except Exception as error:
            result.errors[contestant] = describe(error)
    if functions:
        try:
            result.per_call_ns = measure(functions, repeat, target_ns, settle_s)
        except Exception as error:  # a call that passed its warm-up failed on a later call
            result.errors["during timing"] = describe(error)
    return result


# ---- formatting ---------------------------------------------------------------------------------


def format_time(nanoseconds):
    if nanoseconds is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if nanoseconds >= scale:
            return f"{nanoseconds / scale:.2f} {unit}"
    return f"{nanoseconds:.2f} ns"


def format_ratio(numerator_ns, denominator_ns):
    if numerator_ns is None or denominator_ns is None:
        return "-"
    return f"{numerator_ns / denominator_ns:.2f}"


def result_cells(result):
    times = result.per_call_ns
    cells = [result.name]
    for contestant in CONTESTANTS:
        cells.append("error" if contestant in result.errors else format_time(times.get(contestant)))
    for other in ("torch", "numpy"):
        cells.append(format_ratio(times.get("tapegrad"), times.get(other)))
    cells.append("; ".join(f"error: {where}: {message}" for where, message in result.errors.items()))
    return cells


def column_widths(case_names):
    """Widths fixed before any case runs, so each row can be printed as soon as it is measured."""
    name_width = max([len(COLUMNS[0]), *map(len, case_names)])
    return [name_width, *[TIME_WIDTH] * len(CONTESTANTS), RATIO_WIDTH, RATIO_WIDTH]


def format_row(cells, widths, markdown=False):
    if markdown:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    name, *numbers, note = cells
    aligned = [name.ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(numbers, widths[1:])]
    return "  ".join(aligned + [note]).rstrip()


def table_rule(widths, markdown=False):
    if markdown:  # case and note left-aligned, numbers right-aligned
        return "| --- |" + " ---: |" * (len(COLUMNS) - 2) + " --- |"
    return "  ".join("-" * width for width in widths)


# ---- libraries, machine, suites -----------------------------------------------------------------


def import_optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def load_libraries():
    """contestant -> module, or None where it is not installed (its column then shows '-')."""
    return {contestant: import_optional(contestant) for contestant in CONTESTANTS}


def set_threads(libraries, threads):
    for name in ("tapegrad", "torch"):
        if libraries[name] is not None:
            libraries[name].set_num_threads(threads)
    threadpoolctl = import_optional("threadpoolctl")
    if threadpoolctl is not None:  # otherwise run.py's environment variables bound NumPy's BLAS
        threadpoolctl.threadpool_limits(threads)


def numpy_threads():
    threadpoolctl = import_optional("threadpoolctl")
    if threadpoolctl is not None:
        pools = threadpoolctl.threadpool_info()
        return ",".join(str(pool["num_threads"]) for pool in pools) or "no BLAS pool"
    return os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def header_lines(libraries, command):
    def version(name):
        library = libraries[name]
        return getattr(library, "__version__", "unknown") if library is not None else "not installed"

    def threads(name):
        library = libraries[name]
        return library.get_num_threads() if library is not None else "-"

    return [
        f"command: {command}",
        f"cpu: {cpu_model()} ({os.cpu_count()} logical cores), {platform.system()} {platform.machine()}, "
        # Other work on the machine skews results (threads preempted at barriers): record it.
        f"load average {os.getloadavg()[0]:.2f} at start",
        "versions: python {}, {}".format(
            platform.python_version(), ", ".join(f"{name} {version(name)}" for name in CONTESTANTS)
        ),
        "threads: tapegrad {}, torch {}, numpy {}".format(threads("tapegrad"), threads("torch"), numpy_threads()),
        RATIO_EXPLANATION,
    ]


def discover_suites():
    """Every module in bench/suites is a suite: adding one is adding a file."""
    from bench import suites

    return sorted(module.name for module in pkgutil.iter_modules(suites.__path__))


def load_suite(name):
    return importlib.import_module(f"bench.suites.{name}").CASES


def run_suite(name, cases, libraries, repeat, target_ns, markdown=False, settle_s=0.0):
    widths = column_widths(case.name for case in cases)
    print(f"\n### {name}\n" if markdown else f"\n[{name}]")
    print(format_row(list(COLUMNS), widths, markdown))
    print(table_rule(widths, markdown))
    for case in cases:
        result = run_case(case, libraries, repeat, target_ns, settle_s)
        print(format_row(result_cells(result), widths, markdown), flush=True)
