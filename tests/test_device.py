"""Devices: this build has only the CPU backend, so every creation function asked for a CUDA tensor
says so and names itself (tensor(), .to() and .cuda() are in test_tensor.py), and a build
configured for CUDA refuses to configure."""
import pathlib
import shutil
import subprocess

import pytest

import tapegrad as tg

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("expression, op", [
    ("tg.empty(2, device='cuda')", "empty"),
    ("tg.zeros(2, 3, device='cuda')", "zeros"),
    ("tg.ones(2, device='cuda:0')", "ones"),
    ("tg.full((2,), 1.5, device='cuda')", "full"),
    ("tg.rand(2, device='cuda')", "rand"),
    ("tg.randn(2, device='cuda')", "randn"),
    ("tg.randint(0, 5, (3,), device='cuda')", "randint"),
    ("tg.randperm(4, device='cuda')", "randperm"),
    ("tg.arange(3, device='cuda')", "arange"),
    ("tg.linspace(0, 1, 3, device='cuda')", "linspace"),
    ("tg.eye(3, device='cuda')", "eye"),
    ("tg.empty_like(tg.ones(2), device='cuda')", "empty_like"),
    ("tg.zeros_like(tg.ones(2), device='cuda')", "zeros_like"),
    ("tg.ones_like(tg.ones(2), device='cuda')", "ones_like"),
    ("tg.full_like(tg.ones(2), 3, device='cuda')", "full_like"),
    ("tg.rand_like(tg.ones(2), device='cuda')", "rand_like"),
    ("tg.randn_like(tg.ones(2), device='cuda')", "randn_like"),
])
def test_cuda_tensors_are_refused_by_name(expression, op):
    with pytest.raises(RuntimeError, match=rf"^\[{op}\] .*cuda"):
        eval(expression)


@pytest.mark.skipif(shutil.which("cmake") is None, reason="needs cmake on PATH")
def test_configuring_for_cuda_stops_with_a_reason(tmp_path):
    result = subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tmp_path), "-DTAPEGRAD_CUDA=ON",
                             "-DTAPEGRAD_BUILD_PYTHON=OFF"], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "TAPEGRAD_CUDA=ON: tapegrad has no CUDA backend yet" in result.stderr
