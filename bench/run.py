"""Run benchmark suites side by side: tapegrad against PyTorch and NumPy.

    python bench/run.py [suite ...] [--repeat N] [--quick] [--filter SUBSTR] [--threads N] [--markdown]

With no suite named, every module in bench/suites runs. --markdown prints the tables for BENCHMARKS.md.
"""

import argparse
import os
import sys
from pathlib import Path

# Run as a script, Python puts bench/ on the path; `import bench` needs the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402  (imports no contestant library, see harness docstring)

DEFAULT_REPEAT, QUICK_REPEAT = 15, 3
DEFAULT_BATCH_NS, QUICK_BATCH_NS = 5_000_000, 200_000


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suites", nargs="*", help="suites to run (default: all, alphabetically)")
    parser.add_argument("--repeat", type=int, help=f"timed batches per contestant (default {DEFAULT_REPEAT})")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: few repeats, tiny batches")
    parser.add_argument("--filter", default="", help="only cases whose 'suite/case' contains SUBSTR")
    parser.add_argument("--threads", type=int, help="threads for all three libraries")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--settle", type=float,
                        help="seconds of pause before each timed batch (default 0.2 with --threads > 1, else 0): "
                             "lets the previous contestant's spinning worker threads go idle")
    arguments = parser.parse_args()
    available = harness.discover_suites()
    unknown = [name for name in arguments.suites if name not in available]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; available: {', '.join(available)}")
    arguments.suites = arguments.suites or available
    return arguments


def main():
    arguments = parse_arguments()
    if arguments.threads:
        # OpenMP and OpenBLAS/MKL read these once, when they load: set them before any library import.
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(arguments.threads)
    libraries = harness.load_libraries()
    if arguments.threads:
        harness.set_threads(libraries, arguments.threads)
    repeat = arguments.repeat or (QUICK_REPEAT if arguments.quick else DEFAULT_REPEAT)
    batch_ns = QUICK_BATCH_NS if arguments.quick else DEFAULT_BATCH_NS
    settle_s = arguments.settle if arguments.settle is not None else (0.2 if (arguments.threads or 0) > 1 else 0.0)

    command = "python bench/run.py " + " ".join(sys.argv[1:])
    for line in harness.header_lines(libraries, command.strip()):
        print(f"- {line}" if arguments.markdown else line)
    for suite in arguments.suites:
        cases = [case for case in harness.load_suite(suite) if arguments.filter in f"{suite}/{case.name}"]
        if cases:
            harness.run_suite(suite, cases, libraries, repeat, batch_ns, arguments.markdown, settle_s)


if __name__ == "__main__":
    main()
