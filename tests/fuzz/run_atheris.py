"""A longer, coverage-guided run of one fuzz target with atheris (``pip install atheris``):

    PYTHONPATH=python python tests/fuzz/run_atheris.py load -max_total_time=600
    PYTHONPATH=python python tests/fuzz/run_atheris.py idx -runs=100000

It starts from the committed corpus (tests/fuzz/corpus/<target>, which it does not modify) and
writes the new inputs it finds to --work (default /tmp/tapegrad-fuzz-<target>). Every input is
checked by harness.check, as in tests/test_fuzz.py: anything but loading or a ValueError naming
the file, a hang or an allocation over the stated limit raises ContractBroken, and libFuzzer
stops and writes the input to crash-<hash> (in the current folder, or -artifact_prefix=...).
Other arguments go to libFuzzer: -max_total_time, -runs, -jobs, -seed, -rss_limit_mb, ...
Inputs worth keeping go into the committed corpus by hand (small ones, named for what they hit).
"""

import argparse
import random
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports(include=["tapegrad"]):
    from fuzz import harness


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=harness.TARGETS)
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the inputs the run finds (default /tmp/tapegrad-fuzz-TARGET)")
    args, libfuzzer_args = parser.parse_known_args()
    work = args.work or Path(tempfile.gettempdir()) / f"tapegrad-fuzz-{args.target}"
    work.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="tapegrad-fuzz-input-")

    def test_one_input(data: bytes):
        harness.check(args.target, data, scratch)

    def mutator(data: bytes, max_size: int, seed: int) -> bytes:
        # Half libFuzzer's byte-level mutations, half the harness's format-aware ones (they keep
        # the header length right and mutate gzip's payload rather than its compressed bytes).
        if seed % 2:
            return atheris.Mutate(data, max_size)
        return harness.mutate(args.target, data, random.Random(seed), [])[:max_size]

    # libFuzzer writes what it finds into its first corpus folder and only reads the others.
    argv = [sys.argv[0], *libfuzzer_args, str(work), str(harness.CORPUS / args.target)]
    atheris.Setup(argv, test_one_input, custom_mutator=mutator)
    with harness.traced():
        atheris.Fuzz()


if __name__ == "__main__":
    main()
