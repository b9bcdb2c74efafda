"""The committed type stubs of tapegrad._C (python/tapegrad/_C.pyi) are what the build gives."""
import pathlib
import re
import subprocess
import sys

import tapegrad

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import generate_stubs  # noqa: E402


def test_stubs_are_current_and_name_python_types():
    try:
        generated = generate_stubs.generate()
    except subprocess.CalledProcessError as error:  # a raw C++ type in a signature, for one
        raise AssertionError(f"pybind11-stubgen failed:\n{error.stdout}{error.stderr}") from None
    assert not re.search(r"\b(tg|std)::", generated), "a signature names a C++ type"
    committed = (ROOT / "python" / "tapegrad" / "_C.pyi").read_text()
    assert generated == committed, "python/tapegrad/_C.pyi is stale: run `python tools/generate_stubs.py`"


def test_stubs_ship_with_the_package():
    package = pathlib.Path(tapegrad.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_C.pyi").exists()
