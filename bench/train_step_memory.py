"""Benchmark of issue 5: peak memory and time of one training step of MDEQ-TINY, IFT vs unrolled, at N = 6, 12, 18, 36.

One training step = forward in DEQ mode with N Broyden steps (IFT: no-grad solve + one f with the implicit backward;
unrolled: differentiable Broyden + one more f), cross-entropy, backward, Adam step, on a random CIFAR-sized batch.
Every (method, N) runs in a fresh child process, so that each peak is its own. What is measured:

- time: median wall time of `--repeats` steps after one warm-up step;
- peak memory:
    CPU:  the child's peak resident set size (`ru_maxrss`, over its lifetime: the timed steps and the identical
          warm-up step) minus its resident size just before the timed steps (model, optimiser state, batch and
          torch itself are then allocated). The child runs with MALLOC_MMAP_THRESHOLD_=65536, so that glibc serves
          every tensor above 64 KiB with mmap and gives it back on free: the resident size then follows the live
          tensors instead of malloc's cache;
    CUDA: `torch.cuda.max_memory_allocated()` during the timed steps minus the memory allocated before them;
- saved: bytes of the tensors autograd keeps for the backward pass (a `saved_tensors_hooks` count, unique storages),
  exact and the same on every device: what unrolling through the solver costs.

Printed as ratios to N = 6 of the same method (IFT memory should stay flat in N; unrolled grows), and unrolled / IFT.

    python bench/train_step_memory.py [--device cpu|cuda] [--batch 8] [--repeats 1] [--ns 6 12 18 36]
"""
import argparse, json, os, resource, statistics, subprocess, sys, time

import torch
import torch.nn.functional as F

from deq_nb.config import get_config
from deq_nb.mdeq import MDEQClsNet
from deq_nb.deq import SolveArgs
from deq_nb.train import make_optimizer, seed_everything


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def rss_bytes():
    "Current resident set size of this process (Linux /proc)."
    with open('/proc/self/statm') as f: pages = int(f.read().split()[1])
    return pages * resource.getpagesize()


class SavedBytes:
    "Counts the bytes of distinct storages autograd saves for backward while active."
    def __init__(self): self.seen, self.total = set(), 0

    def pack(self, t):
        s = t.untyped_storage()
        if s.data_ptr() not in self.seen:
            self.seen.add(s.data_ptr()); self.total += s.nbytes()
        return t


def child(method, n, device, batch, repeats):
    "Measure one (method, N) in this process; print a JSON line."
    device = torch.device(device)
    cfg = get_config('cifar/cls_mdeq_TINY', ['DEQ.F_EPS', 1e-7, 'GPUS', (0,)])
    seed_everything(0)
    model = MDEQClsNet(cfg).to(device).train()
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 10, (batch,), generator=gen).to(device)
    deq_step = int(cfg.TRAIN.PRETRAIN_STEPS)       # past pre-training: the model solves for the equilibrium
    info = {}

    def step(count=None):
        with torch.autograd.graph.saved_tensors_hooks(count.pack if count else (lambda t: t), lambda t: t):
            out = model(x, train_step=deq_step, solve=SolveArgs(f_thres=n, unrolled=method == 'unrolled'), return_stats=True)
            loss = F.cross_entropy(out.logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        info['nstep'] = int(torch.as_tensor(out.result.nstep).max())

    step()                                          # warm-up (allocates Adam's state)
    counter = SavedBytes(); step(counter)           # the saved-for-backward count
    sync(device)
    if device.type == 'cuda':
        torch.cuda.empty_cache(); base = torch.cuda.memory_allocated(device); torch.cuda.reset_peak_memory_stats(device)
    else:
        base = rss_bytes()
    times = []
    for _ in range(repeats):
        sync(device); t = time.perf_counter(); step(); sync(device); times.append(time.perf_counter() - t)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated(device) - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    print(json.dumps(dict(method=method, n=n, seconds=statistics.median(times), peak=peak, saved=counter.total,
                          nstep=info['nstep'], device=str(device), batch=batch)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--batch', type=int, default=None, help='batch size (default 8 on CPU, 64 on CUDA)')
    p.add_argument('--repeats', type=int, default=None, help='timed steps (default 1 on CPU, 5 on CUDA)')
    p.add_argument('--ns', type=int, nargs='+', default=[6, 12, 18, 36])
    p.add_argument('--child', nargs=2, metavar=('METHOD', 'N'), help=argparse.SUPPRESS)
    a = p.parse_args()
    cuda = a.device.startswith('cuda')
    batch = a.batch or (64 if cuda else 8)
    repeats = a.repeats or (5 if cuda else 1)
    if a.child:
        return child(a.child[0], int(a.child[1]), a.device, batch, repeats)
    rows = []
    for method in ('ift', 'unrolled'):
        for n in a.ns:
            cmd = [sys.executable, __file__, '--child', method, str(n), '--device', a.device, '--batch', str(batch),
                   '--repeats', str(repeats)]
            env = {**os.environ, 'MALLOC_MMAP_THRESHOLD_': '65536'}
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"  measured {method:>8} N={n:>2}: {r['seconds']:.2f} s, peak {r['peak'] / 2**20:.1f} MiB, "
                  f"saved {r['saved'] / 2**20:.1f} MiB, solver steps {r['nstep']}", flush=True)
    mem = 'peak allocated (CUDA)' if cuda else 'peak RSS increase'
    print(f"\nMDEQ-TINY, batch {batch}, {a.device}, {torch.get_num_threads()} threads; ratios to N = {a.ns[0]} of the same method")
    print(f"{'method':>9} {'N':>3} {'time s':>8} {'x':>6} {mem + ' MiB':>28} {'x':>6} {'saved MiB':>10} {'x':>6}")
    for r in rows:
        ref = next(q for q in rows if q['method'] == r['method'] and q['n'] == a.ns[0])
        ratio = lambda k: r[k] / ref[k] if ref[k] else float('nan')
        print(f"{r['method']:>9} {r['n']:>3} {r['seconds']:>8.2f} {ratio('seconds'):>6.2f} "
              f"{r['peak'] / 2**20:>28.1f} {ratio('peak'):>6.2f} {r['saved'] / 2**20:>10.1f} {ratio('saved'):>6.2f}")
    print('\nunrolled / IFT at the same N')
    for n in a.ns:
        i, u = (next(q for q in rows if q['method'] == m and q['n'] == n) for m in ('ift', 'unrolled'))
        print(f"  N={n:>2}: time {u['seconds'] / i['seconds']:.2f}, {mem} {u['peak'] / max(i['peak'], 1):.2f}, "
              f"saved {u['saved'] / i['saved']:.2f}")


if __name__ == '__main__':
    main()
