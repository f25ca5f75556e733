"""Evaluation throughput of the packaged demo DEQ-Transformer (deq_nb/assets/deq_transformer_demo.pt).

Measured in one run, on one device, on the demo corpus's validation split (16 streams, 32-token segments, memory
carried, f_eps 1e-7 so that every solve runs exactly N steps):

- tokens/s at N = 30 with Broyden and with Anderson;
- the one-pass sweep over N = 1..60 divided by one evaluation at N = 60, for the exact sweep (one memory per N,
  identical to separate runs) and for the shared-memory sweep (one solve per segment; only N = 60 is exact).

    python bench/lm_throughput.py [--device cpu|cuda] [--percent 1.0] [--n-max 60]
"""
import argparse
import math
import time

import torch

from deq_nb.data.text import demo_text_corpus
from deq_nb.deq import SolveArgs
from deq_nb.evaluate_lm import evaluate_lm, sweep_lm
from deq_nb.core import asset_path, resolve_device
from deq_nb.transformer import build_transformer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='auto')
    parser.add_argument('--percent', type=float, default=1.0, help='fraction of the validation segments')
    parser.add_argument('--n-max', type=int, default=60)
    parser.add_argument('--f-eps', type=float, default=1e-7)
    args = parser.parse_args()

    device = resolve_device(args.device)
    model = build_transformer(weights=asset_path('deq_transformer_demo.pt'), device=device)
    tokens = demo_text_corpus().valid
    common = dict(percent=args.percent, progress=False)
    evaluate_lm(model, tokens, 2, solve=SolveArgs(f_eps=args.f_eps), **{**common, 'percent': min(args.percent, 0.1)})          # warm-up

    broyden = evaluate_lm(model, tokens, 30, solve=SolveArgs(f_solver='broyden', f_eps=args.f_eps), **common)
    anderson = evaluate_lm(model, tokens, 30, solve=SolveArgs(f_solver='anderson', f_eps=args.f_eps), **common)
    one = evaluate_lm(model, tokens, args.n_max, solve=SolveArgs(f_solver='broyden', f_eps=args.f_eps), **common)
    steps = range(1, args.n_max + 1)
    exact = sweep_lm(model, tokens, steps, memory='per_n', solve=SolveArgs(f_solver='broyden', f_eps=args.f_eps), **common)
    shared = sweep_lm(model, tokens, steps, memory='shared', solve=SolveArgs(f_solver='broyden', f_eps=args.f_eps), **common)

    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f"device: {device} ({name}), torch threads {torch.get_num_threads()}, "
          f"{one['n_tokens']} target tokens in {one['n_segments']} segments, f_eps {args.f_eps}")
    for label, m in (('broyden N=30', broyden), ('anderson N=30', anderson), (f'broyden N={args.n_max}', one)):
        print(f"{label:>16}: {m['n_tokens'] / m['seconds']:9.0f} tokens/s   ppl {m['ppl']:.4f}   cvg_rel {m['cvg_rel']:.2e}")
    print(f"anderson / broyden throughput at N=30: {broyden['seconds'] / anderson['seconds']:.2f}")
    ideal = sum(steps) / args.n_max
    print(f"exact sweep N=1..{args.n_max} / one evaluation at N={args.n_max}: "
          f"{exact[args.n_max]['seconds'] / one['seconds']:.2f}  (f evaluations: sum(N)/N_max = {ideal:.1f} after the "
          f"first segment)")
    print(f"shared-memory sweep N=1..{args.n_max} / one evaluation at N={args.n_max}: "
          f"{shared[args.n_max]['seconds'] / one['seconds']:.2f}")
    same = all(exact[args.n_max][k] == one[k] for k in ('loss', 'cvg_rel', 'cvg_abs'))
    print(f"exact sweep at N={args.n_max} identical to the separate evaluation: {same}; at N=30: "
          f"{exact[30]['loss'] == broyden['loss']}; shared sweep at N=30 differs by "
          f"{shared[30]['loss'] - broyden['loss']:+.2e} nats")


if __name__ == '__main__':
    main()
