"""Timing on a CUDA device, shared by the CUDA check scripts of this folder."""
import statistics
import time

import torch


def timed(fn, dev, repeats=3):
    "Median wall time of `fn()` over `repeats` runs on device `dev`, after one warm-up run, synchronising around each."
    fn()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize(dev); t = time.perf_counter(); fn(); torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - t)
    return statistics.median(times)
