"""Run the notebooks' tests (nbdev's test runner), one thread per notebook, with a line per notebook and a count.

    python tools/test_notebooks.py                   # every notebook, in parallel (one worker per core, at most 8)
    python tools/test_notebooks.py --flags slow      # also the cells flagged slow (they retrain the demo models)
    python tools/test_notebooks.py nbs/01_solvers.ipynb nbs/10_mdeq.ipynb

`nbdev_test` runs the same tests; this runner makes each worker use one thread (several notebooks run at once, and
PyTorch would otherwise give each of them every core), says which notebook passed or failed as it finishes, and ends
with a count line. It exits with 1 if any notebook failed.
"""
import os
for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'): os.environ.setdefault(_var, '1')

import sys, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from nbdev.config import get_config
from nbdev.test import test_nb

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list) -> int:
    flags = argv[argv.index('--flags') + 1].split() if '--flags' in argv else []
    names = [a for i, a in enumerate(argv) if not a.startswith('--') and (i == 0 or argv[i - 1] != '--flags')]
    nbs = [Path(n).resolve() for n in names] or sorted((ROOT / 'nbs').glob('*.ipynb'))
    # the notebooks that start papermill kernels take longest: start them first, so that the others fill the gaps
    nbs.sort(key=lambda p: -p.read_text().count('run_notebook(') if p.is_file() else 0)
    missing = [str(p) for p in nbs if not p.is_file()]
    if missing: sys.exit(f"no such notebook: {', '.join(missing)}")
    skip = get_config(cfg_name='settings.ini', path=ROOT).tst_flags.split()
    workers = max(1, min(os.cpu_count() or 1, 8, len(nbs)))
    print(f"testing {len(nbs)} notebooks with {workers} worker(s), one thread each"
          f"{' (flags: ' + ' '.join(flags) + ')' if flags else ''}", flush=True)
    start, failed = time.perf_counter(), []
    with ProcessPoolExecutor(workers) as pool:
        jobs = {pool.submit(test_nb, p, skip_flags=skip, force_flags=flags, basepath=str(ROOT)): p for p in nbs}
        for job in as_completed(jobs):
            passed, seconds = job.result()
            if not passed: failed.append(jobs[job].name)
            print(f"{'passed' if passed else 'FAILED'}  {jobs[job].name}  ({seconds:.0f} s)", flush=True)
    print(f"{len(nbs) - len(failed)} passed, {len(failed)} failed in {time.perf_counter() - start:.0f} s"
          + (f": {', '.join(sorted(failed))}" if failed else ''), flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
