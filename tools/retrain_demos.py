"""Retrain the demo checkpoints shipped in deq_nb/assets and replace them: a deliberate step, never run by the tests.

    python tools/retrain_demos.py digits            # deq_nb/assets/mdeq_digits.pt (about a minute on 2 CPU cores)
    python tools/retrain_demos.py shapes text       # the segmenter and the language model
    python tools/retrain_demos.py all --dry-run     # train into a temporary folder and report, replace nothing

Each model is trained by the package's own code (the notebooks' slow cells run the same functions into a temporary
folder and check the quality they reach), written next to the target and moved over it only once it is complete.
"""
import sys, tempfile, shutil
from pathlib import Path

from deq_nb.train import train_demo_digits
from deq_nb.train_lm import train_demo_text
from deq_nb.train_seg import train_demo_shapes

ASSETS = Path(__file__).resolve().parent.parent / 'deq_nb' / 'assets'
DEMOS = {'digits': (train_demo_digits, 'mdeq_digits.pt', 'valid_top1'),
         'shapes': (train_demo_shapes, 'mdeq_shapes.pt', 'valid_miou'),
         'text': (train_demo_text, 'deq_transformer_demo.pt', 'valid_ppl')}

if __name__ == '__main__':
    names = [a for a in sys.argv[1:] if not a.startswith('--')]
    names = list(DEMOS) if names == ['all'] else names
    unknown = [n for n in names if n not in DEMOS]
    if not names or unknown: sys.exit(f"usage: python tools/retrain_demos.py {{{'|'.join(DEMOS)}|all}}... [--dry-run]; got {names}")
    for name in names:
        train, filename, metric = DEMOS[name]
        with tempfile.TemporaryDirectory() as tmp:
            run = train(Path(tmp) / filename)
            print(f"{name}: {run.steps} steps, {run.seconds:.0f} s, {metric} {run.history[-1][metric]:.4f}")
            if '--dry-run' not in sys.argv:
                shutil.move(str(Path(tmp) / filename), str(ASSETS / filename))
                print(f"replaced {ASSETS / filename}")
