"""Writes python/tapegrad/_C.pyi, the type stubs of the extension, with pybind11-stubgen.

Run after a build (`python tools/generate_stubs.py`) and commit the result;
tests/test_stubs.py fails when the committed stubs differ from what this writes, or when a
signature names a raw C++ type (a binding whose argument or result type pybind11 does not know
the Python name of).
"""
import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "python" / "tapegrad"


def generate() -> str:
    """The stub text for tapegrad._C as the tapegrad on sys.path builds it."""
    with tempfile.TemporaryDirectory() as folder:
        # --exit-code: a signature pybind11-stubgen cannot parse (a raw C++ type) is an error.
        subprocess.run([sys.executable, "-m", "pybind11_stubgen", "--exit-code", "-o", folder, "tapegrad._C"],
                       check=True, capture_output=True, text=True)
        stubs = (pathlib.Path(folder) / "tapegrad" / "_C.pyi").read_text()
    # pybind11-stubgen's FixNumpyDtype reads every annotation named `dtype` as NumPy's: ours (the
    # dtype parameters, the dtype class's own self). No binding takes a NumPy dtype.
    stubs = stubs.replace("(self: numpy.dtype[typing.Any]", "(self").replace("numpy.dtype[typing.Any]", "dtype")
    # A parameter whose default is None takes None; the Dim and Integer hints of arguments.h leave it out.
    return re.sub(r": typing\.SupportsIndex = None\b", ": typing.SupportsIndex | None = None", stubs)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    (PACKAGE / "_C.pyi").write_text(generate())


if __name__ == "__main__":
    main()
