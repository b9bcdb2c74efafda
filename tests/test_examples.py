"""The course-style examples run unchanged as smoke tests (each checks its own result)."""
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script):
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"


def test_examples_are_found():
    assert {path.name for path in EXAMPLES} >= {
        "linear_regression.py", "custom_function.py", "mlp_from_scratch.py", "mlp_classifier.py"}


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_checks_its_own_result(script):
    # A smoke test can only fail if the example asserts what it computed.
    assert "\nassert " in script.read_text() or "\n    assert " in script.read_text()
