"""Benchmark suites, one module each; `python bench/run.py NAME` runs the module NAME.

A suite module exposes `CASES`, a list of `bench.harness.Case`. run.py discovers every module in
this folder, so a new suite (elementwise, reduce, gemm, mlp, train, ...) is one new file and no
registration. Setups receive the library module to use (tapegrad, torch or numpy): import no
contestant library at module level, so that `--threads` can take effect before NumPy loads.
"""
