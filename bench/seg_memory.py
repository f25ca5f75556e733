"""Peak memory and time of a segmentation forward solve vs N, with the full Broyden memory and with a window.

Broyden keeps two state-sized vectors per step, so the memory of a solve grows like 2*N*|z|. `DEQ.F_MEMORY m`
(`SolveArgs(f_memory=m)` per call) keeps only the last m updates. This script runs the demo segmenter (`shapes/seg_mdeq_SHAPES`,
the packaged weights when present) in eval mode on a batch of larger random images, for several N, with the full
memory and with a window, and prints the peak memory above the memory in use before the forward and the median
time, then the ratios: window / full at each N, and each N / the smallest N.

Memory: on CUDA, torch.cuda.max_memory_allocated; on CPU, the running sum of the allocations and frees recorded by
torch.profiler (profile_memory=True), in the order of the operators. Times are taken in separate runs without the
profiler. Every number is a ratio of two runs made in this process, on this machine.

    python bench/seg_memory.py                       # CPU: batch 2 of 128x256 images, N = 10, 20, 40, window 5
    python bench/seg_memory.py --device cuda --height 512 --width 1024 --batch 4
"""
import argparse, statistics, time

import torch

from deq_nb.config import get_config
from deq_nb.mdeq import MDEQSegNet
from deq_nb.checkpoint import load_checkpoint
from deq_nb.deq import SolveArgs
from deq_nb.core import asset_path


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def demo_segmenter(device):
    cfg = get_config('shapes/seg_mdeq_SHAPES', ['DEQ.F_EPS', 1e-7])
    model = MDEQSegNet(cfg)
    weights = asset_path('mdeq_shapes.pt')
    if weights.exists(): load_checkpoint(model, weights)
    return model.to(device).eval()


def peak_bytes(fn, device):
    "Peak memory (bytes) allocated by fn() above what was allocated before it."
    if device.type == 'cuda':
        sync(device); torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn(); sync(device)
        return torch.cuda.max_memory_allocated(device) - before
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    current = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        current += event.self_cpu_memory_usage
        peak = max(peak, current)
    return peak


def median_seconds(fn, device, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        sync(device); t = time.perf_counter(); fn(); sync(device); times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--height', type=int, default=128)
    ap.add_argument('--width', type=int, default=256)
    ap.add_argument('--steps', default='10,20,40', help='the N values, comma-separated')
    ap.add_argument('--window', type=int, default=5, help='the Broyden window m')
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    device = torch.device(args.device)
    steps = [int(s) for s in args.steps.split(',')]
    model = demo_segmenter(device)
    x = torch.randn(args.batch, 3, args.height, args.width, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        shapes = model.state_shapes(model.injections(x)[0])
    state_floats = args.batch * sum(c * h * w for c, h, w in shapes)
    print(f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}, "
          f"batch {args.batch} of {args.height}x{args.width}, state {state_floats:,} floats "
          f"({4 * state_floats / 2**20:.1f} MiB), window m = {args.window}")
    rows = {}
    for n in steps:
        for memory in (0, args.window):
            def run(): 
                with torch.no_grad(): model(x, solve=SolveArgs(f_thres=n, f_memory=memory))
            peak = peak_bytes(run, device)
            seconds = median_seconds(run, device, args.repeats)
            slots = n if memory == 0 or memory >= n else memory
            rows[n, memory] = (peak, seconds)
            print(f"N={n:3d} {'full memory' if memory == 0 else f'window m={memory}':>13}: peak {peak / 2**20:8.1f} MiB "
                  f"(Broyden's U, V: {2 * slots * 4 * state_floats / 2**20:7.1f} MiB), {seconds:.3f} s", flush=True)
    print("\nratios, window / full memory at the same N:")
    for n in steps:
        (pf, tf), (pw, tw) = rows[n, 0], rows[n, args.window]
        print(f"  N={n:3d}: peak memory {pw / pf:.3f}, time {tw / tf:.3f}")
    print(f"ratios, N / N={steps[0]} (full memory | window):")
    for n in steps[1:]:
        print(f"  N={n:3d}: peak memory {rows[n, 0][0] / rows[steps[0], 0][0]:.3f} | "
              f"{rows[n, args.window][0] / rows[steps[0], args.window][0]:.3f}, "
              f"time {rows[n, 0][1] / rows[steps[0], 0][1]:.3f} | {rows[n, args.window][1] / rows[steps[0], args.window][1]:.3f}")


if __name__ == '__main__':
    main()
