"""What a CPU cannot show for the segmentation slice: the demo segmenter on CUDA against CPU, and MDEQ-XL on Cityscapes-sized images.

    python bench/seg_cuda_checks.py            # needs a CUDA device

1. the demo checkpoint (deq_nb/assets/mdeq_shapes.pt) evaluated on 64 test scenes at its training N on CPU and CUDA:
   largest logit difference, mIoU on both;
2. a few IFT training steps of the demo segmenter on CUDA: finite loss and gradients;
3. MDEQ-XL Cityscapes (random weights) on one 1024x2048 image: time and peak GPU memory of an evaluation at N = 27
   with Broyden's full memory and with a window of m = 8 updates, and the one-pass sweep over N = 1..27 divided by
   one evaluation at N = 27.
"""
import statistics, time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from cuda_timing import timed
from deq_nb.config import get_config
from deq_nb.data.demo import shapes_dataset
from deq_nb.evaluate_seg import evaluate_segmenter, sweep_segmenter
from deq_nb.mdeq import MDEQSegNet
from deq_nb.checkpoint import load_checkpoint
from deq_nb.deq import SolveArgs
from deq_nb.core import asset_path
from deq_nb.train_seg import train_segmenter


def demo_on_cuda(dev):
    shipped = torch.load(asset_path('mdeq_shapes.pt'), weights_only=True)
    cfg = get_config(shipped['config'])
    data = shapes_dataset('test', 64)
    out = {}
    for d in ('cpu', dev):
        model = MDEQSegNet(cfg)
        load_checkpoint(model, shipped)
        model.to(d).eval()
        with torch.no_grad(): logits = model(data.inputs.to(d), solve=SolveArgs(f_thres=shipped['f_thres_train'])).cpu()
        res = evaluate_segmenter(model, DataLoader(data, batch_size=64), shipped['f_thres_train'], progress=False)
        out[str(d)] = logits, res['miou']
    diff = (out['cpu'][0] - out[str(dev)][0]).abs().max().item()
    print(f"1. demo segmenter at N={shipped['f_thres_train']}: max |logits CUDA - CPU| = {diff:.2e}, "
          f"mIoU CPU {out['cpu'][1]:.4f}, CUDA {out[str(dev)][1]:.4f}")


def train_on_cuda(dev):
    cfg = get_config('shapes/seg_mdeq_SHAPES', ['TRAIN.PRETRAIN_STEPS', 1])
    torch.manual_seed(0)
    model = MDEQSegNet(cfg)
    run = train_segmenter(model, shapes_dataset('train', 96), cfg, epochs=1, device=dev, progress=False)
    finite = all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    print(f"2. {run.steps} training steps of the demo segmenter on CUDA (1 pre-training, then IFT): "
          f"loss {run.history[-1]['train_loss']:.3f}, finite gradients {finite}")



def xl_cityscapes(dev, n=27, window=8):
    torch.manual_seed(0)
    model = MDEQSegNet(get_config('cityscapes/seg_mdeq_XL', ['DEQ.F_EPS', 1e-7])).to(dev).eval()
    data = TensorDataset(torch.randn(1, 3, 1024, 2048), torch.randint(0, 19, (1, 1024, 2048)))
    loader = DataLoader(data, batch_size=1)
    for memory in (0, window):
        torch.cuda.synchronize(dev); torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        seconds = timed(lambda: evaluate_segmenter(model, loader, n, progress=False, solve=SolveArgs(f_memory=memory)), dev, 2)
        peak = (torch.cuda.max_memory_allocated(dev) - base) / 2**30
        print(f"3. MDEQ-XL Cityscapes, 1024x2048, N={n}, {'full memory' if memory == 0 else f'window m={memory}'}: "
              f"{seconds:.2f} s per image, peak GPU memory above the weights {peak:.2f} GiB")
    t_one = timed(lambda: evaluate_segmenter(model, loader, n, progress=False), dev, 1)
    t_sweep = timed(lambda: sweep_segmenter(model, loader, range(1, n + 1), progress=False), dev, 1)
    print(f"   one-pass sweep N=1..{n} {t_sweep:.2f} s vs one evaluation at N={n} {t_one:.2f} s -> ratio {t_sweep / t_one:.3f}")


if __name__ == '__main__':
    dev = torch.device('cuda')
    print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    if asset_path('mdeq_shapes.pt').exists(): demo_on_cuda(dev)
    train_on_cuda(dev)
    xl_cityscapes(dev)
