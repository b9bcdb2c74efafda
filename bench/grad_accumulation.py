"""Gradient accumulation over micro-batches, the loop where a GEMM's weight gradient meets an
existing .grad (the case #12 asks about): median µs per micro-batch of tapegrad on one thread.

    python bench/grad_accumulation.py BATCH MICRO_BATCHES     # e.g. 1 4, 32 4

Compare two builds by running it under each (PYTHONPATH=...), one after the other.
"""
import statistics
import sys
import time

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F


def main():
    batch, micro = int(sys.argv[1]), int(sys.argv[2])
    tg.set_num_threads(1)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = tg.optim.SGD(model.parameters(), lr=0.01)
    inputs = [tg.randn(batch, 784) for _ in range(micro)]
    targets = [tg.randint(0, 10, (batch,)) for _ in range(micro)]

    def step():
        optimizer.zero_grad()
        for x, y in zip(inputs, targets):
            F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(200):
        step()
    times = []
    for _ in range(15):
        start = time.perf_counter()
        for _ in range(300):
            step()
        times.append((time.perf_counter() - start) / 300 / micro * 1e6)
    print(f"{statistics.median(times):.2f} us per micro-batch")


if __name__ == "__main__":
    main()
