"""What a K-process evaluation costs against one process, on this machine's CPUs (gloo), with the console script.

    python bench/distributed_eval.py [--nproc 2] [--repeats 3] [--cfg digits/cls_mdeq_DIGITS] [--f_thres 18]

Runs `deq_nb_cls_valid` in one process and under `torchrun --nproc_per_node K`, interleaved, and prints the minimum
over the repeats of the whole command's wall time and of the evaluation's own time (the `seconds` column: the slowest
process's loop), their ratios, and the machine's load. Each process gets one thread (OMP_NUM_THREADS=1), so K
processes use K cores. On GPUs run it on a machine with K GPUs (the processes take the GPU of their LOCAL_RANK).
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

from deq_nb.distributed import torchrun_command
from deq_nb.results import read_results


def run(argv: list, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nproc', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--cfg', default='digits/cls_mdeq_DIGITS')
    ap.add_argument('--f_thres', type=int, default=18)
    ap.add_argument('--sweep', default='')
    a = ap.parse_args()
    script = shutil.which('deq_nb_cls_valid')
    if script is None: sys.exit("deq_nb_cls_valid is not on PATH: pip install -e . first")
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    walls, evals = {1: [], a.nproc: []}, {1: [], a.nproc: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.repeats):
            for k in (1, a.nproc):
                csv = Path(tmp) / f'k{k}_{i}.csv'
                args = ['--cfg', a.cfg, '--results_name', str(csv), *(['--sweep', a.sweep] if a.sweep else []),
                        'DEQ.F_THRES', str(a.f_thres)]
                argv = [script, *args] if k == 1 else torchrun_command(k, [script, *args])
                walls[k].append(run(argv, env))
                evals[k].append(read_results(csv).seconds.max())
    load = os.getloadavg()
    print(f"{a.cfg}, N = {a.f_thres}{', sweep ' + a.sweep if a.sweep else ''}; CPU processes (gloo), one thread each; "
          f"{os.cpu_count()} cores; load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; minimum of {a.repeats} interleaved runs")
    for name, t in (('whole command', walls), ('evaluation loop', evals)):
        one, many = min(t[1]), min(t[a.nproc])
        print(f"  {name:16s}: 1 process {one:6.2f} s, {a.nproc} processes {many:6.2f} s, ratio {many / one:.2f} "
              f"(ideal {1 / a.nproc:.2f})")


if __name__ == '__main__':
    main()
