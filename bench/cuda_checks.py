"""What a CPU cannot show: the CUDA path against the CPU fixture, and the large models' GPU time and memory.

    python bench/cuda_checks.py            # needs a CUDA device

1. MDEQ-TINY fixture (made on CPU, float32) reproduced on CUDA, with cuDNN's TF32 off and on;
2. one IFT training step of the demo MDEQ on CUDA: finite gradients, CPU/CUDA agreement in float32 and float64;
3. MDEQ-XL ImageNet (random weights, 224x224): evaluation at N = 26 (time, peak memory), and the one-pass sweep
   over N = 1..40 divided by one evaluation at N = 40, in the same run.
"""
import statistics, time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from cuda_timing import timed
from deq_nb.config import get_config
from deq_nb.evaluate import evaluate_classifier, sweep_classifier
from deq_nb.data.demo import digits_datasets
from deq_nb.mdeq import MDEQClsNet
from deq_nb.checkpoint import load_checkpoint
from deq_nb.deq import SolveArgs
from deq_nb.core import asset_path

FIXTURE = Path(__file__).resolve().parent.parent / 'nbs' / 'fixtures' / 'mdeq_cls_tiny.pt'


def fixture_on_cuda(dev):
    fix = torch.load(FIXTURE, weights_only=True)
    model = MDEQClsNet(get_config('cifar/cls_mdeq_TINY', ['DEQ.F_EPS', 1e-7]))
    load_checkpoint(model, fix['state_dict'])
    model.to(dev).eval()
    for tf32 in (False, True):
        torch.backends.cudnn.allow_tf32 = tf32
        with torch.no_grad():
            err = max((model(fix['x'].to(dev), solve=SolveArgs(f_thres=n)).cpu() - fix['logits_by_f_thres'][n]).abs().max().item()
                      for n in (1, 5, 18))
        print(f"1. TINY fixture on CUDA, cudnn.allow_tf32={tf32}: max |logits - CPU reference| = {err:.2e}")
    torch.backends.cudnn.allow_tf32 = False


def train_step_agreement(dev):
    "On the trained demo model (well conditioned: its backward solve converges; the TINY fixture's does not)."
    x, y = digits_datasets()[1][:16]
    for dtype in (torch.float32, torch.float64):
        grads = {}
        for d in ('cpu', dev):
            model = MDEQClsNet(get_config('digits/cls_mdeq_DIGITS', ['MODEL.DROPOUT', 0.0]))
            load_checkpoint(model, asset_path('mdeq_digits.pt'))
            model.to(d, dtype).train()
            out = model(x.to(d, dtype), train_step=10**9, return_stats=True)
            torch.nn.functional.cross_entropy(out.logits, y.to(d)).backward()
            grads[str(d)] = torch.cat([p.grad.flatten().cpu() for p in model.fullstage.parameters()])
        g_cpu, g_gpu = grads['cpu'], grads[str(dev)]
        print(f"2. IFT training step of the demo MDEQ in {dtype}: finite on CUDA {bool(torch.isfinite(g_gpu).all())}, "
              f"relative CPU/CUDA difference of the f-parameters' gradient {(g_gpu - g_cpu).norm() / g_cpu.norm():.2e}")



def xl_imagenet(dev, batch=32):
    torch.manual_seed(0)
    model = MDEQClsNet(get_config('imagenet/cls_mdeq_XL', ['DEQ.F_EPS', 1e-7])).to(dev).eval()
    data = TensorDataset(torch.randn(2 * batch, 3, 224, 224), torch.randint(0, 1000, (2 * batch,)))
    loader = DataLoader(data, batch_size=batch)
    torch.cuda.reset_peak_memory_stats(dev)
    t26 = timed(lambda: evaluate_classifier(model, loader, 26, topk=(1, 5), progress=False), dev, 1)
    peak = torch.cuda.max_memory_allocated(dev) / 2**30
    print(f"3. MDEQ-XL ImageNet, batch {batch}, N=26: {t26 / 2:.2f} s per batch, peak GPU memory {peak:.1f} GiB")
    t_one = timed(lambda: evaluate_classifier(model, loader, 40, progress=False), dev, 1)
    t_sweep = timed(lambda: sweep_classifier(model, loader, range(1, 41), progress=False), dev, 1)
    print(f"   one-pass sweep N=1..40 {t_sweep:.2f} s vs one evaluation at N=40 {t_one:.2f} s -> ratio {t_sweep / t_one:.3f}")


if __name__ == '__main__':
    dev = torch.device('cuda')
    print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    fixture_on_cuda(dev)
    train_step_agreement(dev)
    xl_imagenet(dev)
