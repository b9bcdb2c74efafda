"""Fixtures shared by the test files."""
import pytest

import tapegrad as tg

ISAS = ("generic", "avx2", "avx512")


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs a test with the CPU kernels forced to one instruction set (GEMM micro-kernels, vector
    elementwise and reduction loops), skipping those this CPU lacks."""
    detected = tg._C._detected_cpu_isa()
    if ISAS.index(request.param) > ISAS.index(detected):
        reason = f"this CPU supports at most {detected}, so the {request.param} kernels cannot run"
        print(reason)
        pytest.skip(reason)
    previous = tg._C._get_cpu_isa()
    tg._C._set_cpu_isa(request.param)
    assert tg._C._get_cpu_isa() == request.param
    yield request.param
    tg._C._set_cpu_isa(previous)
