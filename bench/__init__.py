"""Side-by-side ratio benchmarks of tapegrad against PyTorch and NumPy; run with `python bench/run.py`."""
