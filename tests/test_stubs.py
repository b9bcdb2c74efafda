"""The committed type stubs of tapegrad._C (python/tapegrad/_C.pyi) are what the build gives."""
import pathlib
import re
import subprocess
import sys

import jedi

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


def test_tensor_number_dtype_and_device_parameters_are_typed():
    """Bindings take these as Python objects; arguments.h's typed vocabulary names them for editors."""
    committed = (ROOT / "python" / "tapegrad" / "_C.pyi").read_text()
    untyped = sorted(set(re.findall(r"\b((?:input|other|dtype|device|generator|alpha|index|target): typing\.Any)",
                                    committed)))
    assert not untyped, f"parameters shown as typing.Any: {untyped} (use the types in csrc/python/arguments.h)"
    assert "numpy.dtype" not in committed, "a dtype parameter names NumPy's dtype instead of tapegrad's"
    assert not re.search(r"SupportsIndex = None", committed), "a parameter defaulting to None does not admit None"


def _editor(code):
    """A jedi script over `code` that sees the tapegrad these tests import, as an editor would."""
    package_root = str(pathlib.Path(tapegrad.__file__).parent.parent)
    return jedi.Script(code, project=jedi.Project(package_root, added_sys_path=[package_root]))


def test_an_editor_completes_tensor_methods_and_shows_their_prose():
    methods = {completion.name for completion in _editor("import tapegrad as tg\ntg.ones(3).").complete()}
    assert {"matmul", "backward", "grad", "relu", "sum", "shape", "view", "requires_grad_"} <= methods, sorted(methods)
    namespace = {completion.name for completion in _editor("import tapegrad as tg\ntg.").complete()}
    assert {"ones", "tensor", "matmul", "nn", "optim", "no_grad", "float32"} <= namespace
    functional = {completion.name for completion in _editor("import tapegrad.nn.functional as F\nF.").complete()}
    assert {"relu", "cross_entropy", "conv2d", "linear"} <= functional
    (matmul,) = _editor("import tapegrad as tg\ntg.ones(3).matmul").help(2, 15)
    assert "matmul" in matmul.docstring() and "product" in matmul.docstring().lower(), matmul.docstring()
