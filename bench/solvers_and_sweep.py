"""Benchmarks of issue 2, each a ratio of two timings taken in this run (never absolute goals in tests).

(a) one Broyden solve on MDEQ-TINY (batch 32, N = 18) divided by the time of its f evaluations alone (goal <= 1.10);
(b) the one-pass sweep over N = 1..36 divided by one evaluation at N = 36 (goal <= 1.2), and divided by the
    sum of the 36 separate evaluations (on the demo digits test set, and on MDEQ-TINY with random images);
(c) deq_nb's Broyden vs torchdeq 0.1.0's Broyden on the same f and N (`pip install torchdeq==0.1.0` first).

    python bench/solvers_and_sweep.py [--repeats 3] [--device cpu|cuda] [--skip-sum]
"""
import argparse, statistics, time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from deq_nb.config import get_config
from deq_nb.data.demo import digits_datasets
from deq_nb.evaluate import evaluate_classifier, sweep_classifier
from deq_nb.layers import list2vec, vec2list
from deq_nb.mdeq import MDEQClsNet
from deq_nb.checkpoint import load_checkpoint
from deq_nb.solvers import solve
from deq_nb.core import asset_path

FIXTURE = Path(__file__).resolve().parent.parent / 'nbs' / 'fixtures' / 'mdeq_cls_tiny.pt'


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def timed(fn, device, repeats):
    "Median wall time of `fn()` over `repeats` runs (after one warm-up), and its last result."
    out = fn()
    times = []
    for _ in range(repeats):
        sync(device); t = time.perf_counter(); out = fn(); sync(device); times.append(time.perf_counter() - t)
    return statistics.median(times), out


def tiny_fixed_point_map(device, batch=32):
    "f(z) of MDEQ-TINY (the fixture's weights) on a random CIFAR-sized batch, as the model builds it."
    fix = torch.load(FIXTURE, weights_only=True)
    cfg = get_config('cifar/cls_mdeq_TINY', ['DEQ.F_EPS', 1e-7])
    model = MDEQClsNet(cfg)
    load_checkpoint(model, fix['state_dict'])
    model.to(device).eval()
    x = torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        injections = model.injections(x)
        shapes = model.state_shapes(injections[0])
        z0 = model.initial_state(injections[0], sum(c * h * w for c, h, w in shapes))
        model.fullstage.reset(vec2list(z0, shapes))
    def f(z): return list2vec(model.fullstage(vec2list(z, shapes), injections))
    return f, z0


@torch.no_grad()
def bench_solver_overhead(device, repeats, n=18):
    f, z0 = tiny_fixed_point_map(device)
    t_solve, res = timed(lambda: solve(f, z0, 'broyden', n, eps=1e-7, stop_mode='rel'), device, repeats)
    def f_only():
        z = z0
        for _ in range(res.n_f_evals): z = f(z)
        return z
    t_f, _ = timed(f_only, device, repeats)
    print(f"(a) MDEQ-TINY, batch 32, N={n}: Broyden solve {t_solve:.3f} s, its {res.n_f_evals} f evaluations alone "
          f"{t_f:.3f} s -> ratio {t_solve / t_f:.3f} (goal <= 1.10)")
    return f, z0


def digits_model(device):
    cfg = get_config('digits/cls_mdeq_DIGITS', ['DEQ.F_EPS', 1e-7])
    model = MDEQClsNet(cfg)
    load_checkpoint(model, asset_path('mdeq_digits.pt'))
    return model.to(device).eval(), DataLoader(digits_datasets()[1], batch_size=128), 'demo digits (599 test images)'


def tiny_model(device):
    cfg = get_config('cifar/cls_mdeq_TINY', ['DEQ.F_EPS', 1e-7])
    model = MDEQClsNet(cfg)
    load_checkpoint(model, torch.load(FIXTURE, weights_only=True)['state_dict'])
    gen = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(64, 3, 32, 32, generator=gen), torch.randint(0, 10, (64,), generator=gen))
    return model.to(device).eval(), DataLoader(data, batch_size=32), 'MDEQ-TINY (64 random CIFAR-sized images)'


def bench_sweep(device, repeats, skip_sum, make_model, n_max=36):
    model, loader, name = make_model(device)
    steps = list(range(1, n_max + 1))
    t_sweep, _ = timed(lambda: sweep_classifier(model, loader, steps, progress=False), device, repeats)
    t_one, _ = timed(lambda: evaluate_classifier(model, loader, n_max, progress=False), device, repeats)
    line = (f"(b) {name}: one-pass sweep N=1..{n_max} {t_sweep:.2f} s, one evaluation at "
            f"N={n_max} {t_one:.2f} s -> ratio {t_sweep / t_one:.3f} (goal <= 1.2)")
    if not skip_sum:
        start = time.perf_counter()
        for n in steps: evaluate_classifier(model, loader, n, progress=False)
        t_sum = time.perf_counter() - start
        line += f"; sum of the {n_max} separate evaluations {t_sum:.1f} s -> sweep / sum {t_sweep / t_sum:.3f}"
    print(line)


@torch.no_grad()
def bench_torchdeq(f, z0, device, repeats, n=18):
    try:
        from torchdeq.solver.broyden import broyden_solver
    except ImportError:
        print("(c) skipped: torchdeq is not installed (pip install torchdeq==0.1.0)")
        return
    t_ours, ours = timed(lambda: solve(f, z0, 'broyden', n, eps=1e-7, stop_mode='rel'), device, repeats)
    t_theirs, theirs = timed(lambda: broyden_solver(f, z0, max_iter=n, tol=1e-7, stop_mode='rel'), device, repeats)
    gap = (ours.z - theirs[0]).norm() / theirs[0].norm()
    print(f"(c) Broyden on MDEQ-TINY, batch 32, N={n}: deq_nb {t_ours:.3f} s, torchdeq 0.1.0 {t_theirs:.3f} s -> "
          f"ratio deq_nb/torchdeq {t_ours / t_theirs:.3f}; relative difference of the returned states {gap:.2e} "
          "(torchdeq picks the best iterate per sample, deq_nb per batch as the original)")


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--skip-sum', action='store_true', help='skip the 36 separate evaluations of (b)')
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    f, z0 = bench_solver_overhead(device, args.repeats)
    for make_model in (digits_model, tiny_model):
        bench_sweep(device, args.repeats, args.skip_sum, make_model)
    bench_torchdeq(f, z0, device, args.repeats)
