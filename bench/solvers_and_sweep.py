"""Performance to the floor: every figure is a ratio of two timings taken in this run (minimum of interleaved runs).

(0) the machine: copy bandwidth of a plain tensor copy (bytes read + written per second), load average;
(a) MDEQ-TINY (fixture weights, batch 32 of random CIFAR-sized images), N = 18, for Broyden (full memory), Broyden with
    a window of 5 updates and Anderson (m = 6): the solve divided by its f evaluations alone (f evaluated on the very
    states the solve evaluated it on), and the solver's own cost per step ((solve - f evaluations) / steps) divided by
    the traffic floor: the time the copy bandwidth needs to read the solver's history once per pass. Broyden makes four
    passes over its low-rank memory per step (U and V in `x^T B` and in `B x`) at rank min(step - 1, window); Anderson
    one pass over each of its two histories (the residuals for the Gram matrix, the images f(z) for the mixing) of
    min(step, m) columns. Goals: solve <= 1.15 x f, own cost <= 3 x floor. Printed beside them: the ratio the floor
    itself allows (f + steps x floor) / f, the own cost measured inside the solve (its time less the time spent in
    its own calls of f), which does not depend on a second measurement of f, and the minor page faults of f inside the
    solve and alone. f allocates its activations afresh at every call; when glibc has handed freed memory back to the
    kernel in between, every page of them faults again. Every evaluation and training run of deq_nb on the CPU asks
    glibc to keep freed memory (`deq_nb.core.keep_freed_memory`, called by `start_processes`), so this script does
    the same, unless --malloc-defaults: then the figures are those of glibc's defaults (or of the MALLOC_ variables
    of the environment);
(b) deq_nb's Broyden / torchdeq 0.1.0's Broyden on the same f and N (`pip install torchdeq==0.1.0`);
(c) the exact language-model sweep N = 1..60 (demo DEQ-Transformer, demo corpus validation split, `--lm-percent` of
    its segments) divided by one evaluation at N = 60, beside the bound its f evaluations give: the f evaluations of
    both runs are counted by key length (the first segment has no memory, so its f is cheaper) and weighted by the
    time of one f at that length measured here. Goal: measured / bound <= 1.05;
(d) the classification sweeps N = 1..36 (demo digits; MDEQ-TINY on random images) against one evaluation at N = 36
    and against their floor: one evaluation at N = 36 plus one head evaluation per other N;
(e) a compiled f (`deq_nb.deq.compile_equilibrium`) against the eager f: a whole evaluation of MDEQ-TINY (N = 18)
    and of the demo LM (N = 30), compilation included (first run of a fresh model, inductor caches off) and
    excluded, and the largest difference of logits / losses.

    python bench/solvers_and_sweep.py [--repeats 3] [--threads 1] [--lm-percent 0.1] [--skip PART ...] [--wall]
                                      [--malloc-defaults]

Times are process CPU time unless --wall: with one thread on a machine shared with other jobs, the CPU time of this
process is what it costs, the wall time also counts the others (with more threads, use --wall on a quiet machine).

To measure another checkout (e.g. the state before a change), run this file with PYTHONPATH pointing at it; the parts
it cannot run there (no compile_equilibrium) are skipped.
"""
import os
os.environ.setdefault('TORCHINDUCTOR_FORCE_DISABLE_CACHES', '1')  # compile time measured, not read from a cache
import argparse, copy, math, resource, time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

import deq_nb
from deq_nb.checkpoint import load_checkpoint
from deq_nb.config import get_config
from deq_nb.core import asset_path
from deq_nb.data.demo import digits_datasets
from deq_nb.data.text import LMOrderedIterator, demo_text_corpus
from deq_nb.deq import SolveArgs
from deq_nb.evaluate import evaluate_classifier, sweep_classifier
from deq_nb.evaluate_lm import evaluate_lm, sweep_lm
from deq_nb.layers import list2vec, vec2list
from deq_nb.mdeq import MDEQClsNet
from deq_nb.solvers import solve
from deq_nb.transformer import build_transformer

FIXTURE = Path(__file__).resolve().parent.parent / 'nbs' / 'fixtures' / 'mdeq_cls_tiny.pt'
F32 = 4


TIMER = [time.perf_counter]   # set once by the command line: process CPU time (default) or wall time


def clock(fn):
    timer = TIMER[0]
    t = timer(); out = fn(); return timer() - t, out


def interleaved(fns: dict, repeats: int) -> dict:
    "`{name: (min time, last output)}` of the functions run in turn `repeats` times after one warm-up round."
    best = {name: (float('inf'), fn()) for name, fn in fns.items()}
    for _ in range(repeats):
        for name, fn in fns.items():
            dt, out = clock(fn)
            best[name] = (min(best[name][0], dt), out)
    return best


def minor_faults() -> int: return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def copy_bandwidth(repeats: int, n: int = 2 ** 25) -> float:
    "Bytes per second (read + write) of a plain copy of a 128 MiB float32 tensor."
    src, dst = torch.randn(n), torch.empty(n)
    t = interleaved({'copy': lambda: dst.copy_(src)}, max(repeats, 5))['copy'][0]
    return 2 * n * F32 / t


def tiny_model(batch=32):
    cfg = get_config('cifar/cls_mdeq_TINY', ['DEQ.F_EPS', 1e-7])
    model = MDEQClsNet(cfg)
    load_checkpoint(model, torch.load(FIXTURE, weights_only=True)['state_dict'])
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=gen)
    return model.eval(), x


def tiny_fixed_point_map(batch=32):
    "f(z) of MDEQ-TINY (the fixture's weights) on a random CIFAR-sized batch, as the model builds it."
    model, x = tiny_model(batch)
    with torch.no_grad():
        injections = model.injections(x)
        shapes = model.state_shapes(injections[0])
        z0 = model.initial_state(injections[0], sum(c * h * w for c, h, w in shapes))
        model.fullstage.reset(vec2list(z0, shapes))
    def f(z): return list2vec(model.fullstage(vec2list(z, shapes), injections))
    return f, z0


def history_floor_bytes(solver: str, steps: int, window: int, state_bytes: int) -> float:
    "Bytes of solver history read per step at the traffic floor (see the module docstring)."
    if solver == 'broyden': ranks = [min(s - 1, window) for s in range(1, steps + 1)]; passes = 4
    else: ranks = [min(s, window) for s in range(1, steps + 1)]; passes = 2
    return passes * sum(ranks) / steps * state_bytes


@torch.no_grad()
def bench_solvers(repeats: int, bandwidth: float, n=18):
    f, z0 = tiny_fixed_point_map()
    state_bytes = z0.numel() * F32
    cases = [('broyden', 'Broyden, full memory', {}, n), ('broyden', 'Broyden, window 5', {'memory': 5}, 5),
             ('anderson', 'Anderson, m = 6', {'m': 6}, 6)]
    for solver, label, options, window in cases:
        inputs = []
        res = solve(lambda z: inputs.append(z.clone()) or f(z), z0, solver, n, eps=1e-7, stop_mode='rel', **options)
        count = res.n_f_evals
        def f_only():
            for z in inputs: f(z)
        inside, faults = [math.inf], {'solve': math.inf, 'alone': math.inf}  # smallest over the runs
        def timed_solve():
            spent = [0.0, 0]
            def timed_f(z):
                before = minor_faults()
                t, out = clock(lambda: f(z)); spent[0] += t; spent[1] += minor_faults() - before
                return out
            t, out = clock(lambda: solve(timed_f, z0, solver, n, eps=1e-7, stop_mode='rel', **options))
            inside[0], faults['solve'] = min(inside[0], t - spent[0]), min(faults['solve'], spent[1])
            before = minor_faults(); f_only(); faults['alone'] = min(faults['alone'], minor_faults() - before)
            return out
        t = interleaved({'solve': lambda: solve(f, z0, solver, n, eps=1e-7, stop_mode='rel', **options),
                         'f': f_only, 'timed': timed_solve}, repeats)
        t_solve, t_f = t['solve'][0], t['f'][0]
        own = (t_solve - t_f) / n
        floor_bytes = history_floor_bytes(solver, n, window, state_bytes)
        floor = floor_bytes / bandwidth
        print(f"(a) {label:>21}, MDEQ-TINY batch 32, N={n}: solve {t_solve:.3f} s / its {count} f evaluations "
              f"{t_f:.3f} s = {t_solve / t_f:.3f} (goal <= 1.15; the floor allows {(t_f + n * floor) / t_f:.3f}); own "
              f"cost {1e3 * own:.1f} ms/step / traffic floor {1e3 * floor:.1f} ms/step ({floor_bytes / 1e6:.0f} MB) = "
              f"{own / floor:.1f} (goal <= 3); inside the solve {1e3 * inside[0] / n:.1f} ms/step = "
              f"{inside[0] / n / floor:.1f} x floor; page faults in f {faults['solve']:,} inside the solve, "
              f"{faults['alone']:,} alone")
    return f, z0


@torch.no_grad()
def bench_torchdeq(f, z0, repeats: int, n=18):
    try:
        from torchdeq.solver.broyden import broyden_solver
    except ImportError:
        print("(b) skipped: torchdeq is not installed (pip install torchdeq==0.1.0)")
        return
    t = interleaved({'ours': lambda: solve(f, z0, 'broyden', n, eps=1e-7, stop_mode='rel'),
                     'theirs': lambda: broyden_solver(f, z0, max_iter=n, tol=1e-7, stop_mode='rel')}, repeats)
    ours, theirs = t['ours'][1], t['theirs'][1]
    gap = (ours.z - theirs[0]).norm() / theirs[0].norm()
    print(f"(b) Broyden on MDEQ-TINY, batch 32, N={n}: deq_nb {t['ours'][0]:.3f} s, torchdeq 0.1.0 "
          f"{t['theirs'][0]:.3f} s -> deq_nb / torchdeq {t['ours'][0] / t['theirs'][0]:.3f}; relative difference of "
          f"the returned states {gap:.1e} (torchdeq picks the best iterate per sample, deq_nb per batch)")


def lm_setup():
    model = build_transformer(weights=asset_path('deq_transformer_demo.pt'))
    return model, demo_text_corpus().valid


@torch.no_grad()
def bench_lm_sweep(repeats: int, percent: float, n_max=60):
    model, tokens = lm_setup()
    counts = {}
    def count(module, args):
        klen = args[2].shape[2] + args[0].shape[2]
        counts[klen] = counts.get(klen, 0) + 1
    hook = model.func.register_forward_pre_hook(count)
    s = SolveArgs(f_solver='broyden', f_eps=1e-7)
    runs = {'one': lambda: evaluate_lm(model, tokens, n_max, solve=s, percent=percent, progress=False),
            'sweep': lambda: sweep_lm(model, tokens, range(1, n_max + 1), solve=s, percent=percent, progress=False)}
    evals, best = {}, {}
    for name, fn in runs.items():   # one counted run each (also the warm-up)
        counts.clear(); fn(); evals[name] = dict(counts)
    for _ in range(repeats):
        for name, fn in runs.items():
            best[name] = min(best.get(name, float('inf')), clock(fn)[0])
    hook.remove()
    t_f = f_time_by_length(model, tokens, sorted(set(evals['one']) | set(evals['sweep'])), repeats)
    f_time = {name: sum(c * t_f[k] for k, c in e.items()) for name, e in evals.items()}
    n_evals = {name: sum(e.values()) for name, e in evals.items()}
    measured, bound = best['sweep'] / best['one'], f_time['sweep'] / f_time['one']
    print(f"(c) LM sweep N=1..{n_max} (demo LM, {percent:.0%} of the validation segments): sweep {best['sweep']:.1f} s "
          f"/ one evaluation at N={n_max} {best['one']:.2f} s = {measured:.2f}; bound from its f evaluations "
          f"{bound:.2f} (f counts {n_evals['sweep']} / {n_evals['one']} = {n_evals['sweep'] / n_evals['one']:.2f}, "
          f"one f: {', '.join(f'{1e3 * t:.2f} ms at {k} keys' for k, t in sorted(t_f.items()))}) -> measured / "
          f"bound {measured / bound:.3f} (goal <= 1.05)")


@torch.no_grad()
def f_time_by_length(model, tokens, key_lengths, repeats: int) -> dict:
    "{key length: seconds of one f of the demo LM} for segments of the split whose memory gives that key length."
    it = LMOrderedIterator(tokens, 16, model.config.eval_tgt_len, 'cpu')
    mems, segments = None, {}
    for _, (data, target, _) in zip(range(len(key_lengths) + 1), it):
        seg = model.prepare_segment(data, mems)
        klen = seg.z0.shape[2] + (0 if mems is None else mems.length)
        segments.setdefault(klen, seg)
        mems = model(data, target, mems, solve=SolveArgs(f_thres=2)).mems
    missing = set(key_lengths) - set(segments)
    if missing: raise RuntimeError(f"no segment with key length(s) {sorted(missing)}")
    def tenfold(seg):
        for _ in range(10): seg.f(seg.z0)
    t = interleaved({k: (lambda seg=segments[k]: tenfold(seg)) for k in key_lengths}, repeats)
    return {k: t[k][0] / 10 for k in key_lengths}


def digits_model():
    cfg = get_config('digits/cls_mdeq_DIGITS', ['DEQ.F_EPS', 1e-7])
    model = MDEQClsNet(cfg)
    load_checkpoint(model, asset_path('mdeq_digits.pt'))
    return model.eval(), DataLoader(digits_datasets()[1], batch_size=128), 'demo digits (599 test images)'


def random_images(seed: int) -> DataLoader:
    "64 random CIFAR-sized images with random labels, in batches of 32."
    gen = torch.Generator().manual_seed(seed)
    data = torch.utils.data.TensorDataset(torch.randn(64, 3, 32, 32, generator=gen),
                                          torch.randint(0, 10, (64,), generator=gen))
    return DataLoader(data, batch_size=32)


def tiny_loader_model():
    return tiny_model()[0], random_images(0), 'MDEQ-TINY (64 random CIFAR-sized images)'


@torch.no_grad()
def head_time(model, loader, n: int) -> float:
    "Seconds of the head on the states of every batch (what the sweep adds per extra N)."
    total = 0.0
    for x, _ in loader:
        z = model(x, solve=SolveArgs(f_thres=n), return_stats=True).z
        total += min(clock(lambda: model.logits_from_state(z))[0] for _ in range(3))
    return total


def bench_class_sweep(repeats: int, make_model, n_max=36):
    model, loader, name = make_model()
    steps = list(range(1, n_max + 1))
    t = interleaved({'sweep': lambda: sweep_classifier(model, loader, steps, progress=False),
                     'one': lambda: evaluate_classifier(model, loader, n_max, progress=False)}, repeats)
    t_sweep, t_one = t['sweep'][0], t['one'][0]
    floor = t_one + (n_max - 1) * head_time(model, loader, n_max)
    print(f"(d) {name}: sweep N=1..{n_max} {t_sweep:.2f} s / one evaluation at N={n_max} {t_one:.2f} s = "
          f"{t_sweep / t_one:.3f}; / its floor (one evaluation + {n_max - 1} head evaluations, {floor:.2f} s) = "
          f"{t_sweep / floor:.3f}")


def bench_compiled(repeats: int, lm_percent: float):
    try:
        from deq_nb.deq import compile_equilibrium
    except ImportError:
        print("(e) skipped: this checkout has no deq_nb.deq.compile_equilibrium")
        return
    model, loader = tiny_model()[0], random_images(1)
    x = loader.dataset.tensors[0][:32]
    lm, tokens = lm_setup()
    s = SolveArgs(f_solver='broyden', f_eps=1e-7)
    cases = [('MDEQ-TINY, 64 images, N=18', model,
              lambda m: evaluate_classifier(m, loader, 18, progress=False),
              lambda m: m(x, solve=SolveArgs(f_thres=18), return_stats=True).logits),
             (f'demo LM, {lm_percent:.0%} of the validation split, N=30', lm,
              lambda m: evaluate_lm(m, tokens, 30, solve=s, percent=lm_percent, progress=False), None)]
    for label, eager, run, logits in cases:
        compiled = compile_equilibrium(copy.deepcopy(eager))
        t_first, _ = clock(lambda: run(compiled))
        t = interleaved({'eager': lambda: run(eager), 'compiled': lambda: run(compiled)}, repeats)
        t_e, t_c = t['eager'][0], t['compiled'][0]
        if logits is not None:
            with torch.no_grad(): gap = (logits(compiled) - logits(eager)).abs().max().item()
            what = 'largest logit difference'
        else:
            gap = abs(t['compiled'][1]['loss'] - t['eager'][1]['loss']); what = 'loss difference (nats)'
        print(f"(e) {label}: compiled / eager evaluation {t_c / t_e:.3f} without compilation ({t_c:.2f} s vs "
              f"{t_e:.2f} s), {t_first / t_e:.2f} with it (first run {t_first:.1f} s); {what} {gap:.1e}")


if __name__ == '__main__':
    parts = ('solvers', 'torchdeq', 'lm', 'class', 'compile')
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--lm-percent', type=float, default=0.1)
    parser.add_argument('--skip', nargs='*', default=[], choices=parts)
    parser.add_argument('--wall', action='store_true',
                        help='time with the wall clock instead of the process CPU time (the default: on a shared machine '
                             'the CPU time of a one-thread run does not count the other processes)')
    parser.add_argument('--malloc-defaults', action='store_true',
                        help="leave glibc's malloc as the environment sets it (a run of deq_nb on the CPU keeps freed memory)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not args.wall: TIMER[0] = time.process_time
    try: from deq_nb.core import keep_freed_memory
    except ImportError: keep_freed_memory = None    # a checkout from before it
    kept = not args.malloc_defaults and keep_freed_memory is not None and keep_freed_memory()
    bandwidth = copy_bandwidth(args.repeats)
    set_outside = [*getattr(deq_nb.core, 'MALLOC_VARIABLES', ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_')),
                   'GLIBC_TUNABLES']
    malloc = ('freed memory kept, as a run of deq_nb on the CPU does' if kept else
              ', '.join(f"{k}={os.environ[k]}" for k in set_outside if k in os.environ) or 'glibc malloc defaults')
    print(f"deq_nb from {Path(deq_nb.__file__).parent}; cpu, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, load average {os.getloadavg()[0]:.1f}, {'wall' if args.wall else 'process CPU'} time; copy bandwidth "
          f"{bandwidth / 1e9:.1f} GB/s; {malloc}")
    if 'solvers' not in args.skip or 'torchdeq' not in args.skip:
        f, z0 = bench_solvers(args.repeats, bandwidth) if 'solvers' not in args.skip else tiny_fixed_point_map()
        if 'torchdeq' not in args.skip: bench_torchdeq(f, z0, args.repeats)
    if 'lm' not in args.skip: bench_lm_sweep(args.repeats, args.lm_percent)
    if 'class' not in args.skip:
        for make_model in (digits_model, tiny_loader_model): bench_class_sweep(args.repeats, make_model)
    if 'compile' not in args.skip: bench_compiled(args.repeats, args.lm_percent)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
