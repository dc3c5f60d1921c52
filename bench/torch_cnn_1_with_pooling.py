#!/usr/bin/python3
"""The article's Keras protocol for cnn_1_with_pooling, written again in PyTorch: an independent
check of the figure bench/image_accuracy.sh reports for imagecnn (issue 5 asks for >= 87 %).

Protocol (the article's train()): Conv2D 8 5x5 'same' + ReLU, MaxPool 2x2, Conv2D 8 3x3 'same' +
ReLU, MaxPool 2x2, Flatten, Dense 10 logits; pixels / 255; the last 20 % of the training file held
out (taken before shuffling, as Keras' validation_split); shuffled every epoch; batch 128; 5 epochs;
softmax cross-entropy from logits, batch mean; RMSprop lr 1e-3, rho 0.9, eps 1e-7 with zero-started
accumulators. Reported: the test accuracy after the last epoch, and that of the epoch with the
best validation accuracy (what imagecnn keeps).

Options: --init glorot (Keras: Glorot-uniform kernels, zero biases; default) | torch (PyTorch's own);
--eps outside (tf.keras 2 and torch: lr g / (sqrt(v) + eps); default) | inside (Keras 3: lr g / sqrt(v + eps));
--scale 255 (default) or 1 (raw 0..255 pixels, not the protocol; for comparison).

Needs Debian's python3-torch (not installed by scripts/setup.sh: apt-get install python3-torch).
Usage: bench/torch_cnn_1_with_pooling.py [--seeds 1 2 3] [--init glorot|torch] [--eps outside|inside]
One thread per run (torch.set_num_threads(1)); about 40 s per seed here.
"""
import argparse
import gzip
import statistics
import time

import numpy as np
import torch
import torch.nn as nn

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
parser.add_argument("--init", choices=["glorot", "torch"], default="glorot")
parser.add_argument("--eps", choices=["outside", "inside"], default="outside")
parser.add_argument("--scale", type=float, default=255.0)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()


def read_idx(name):
    data = gzip.open(f"{args.data}/{name}").read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def images(name):
    return torch.tensor(read_idx(name), dtype=torch.float32).unsqueeze(1) / args.scale


def labels(name):
    return torch.tensor(read_idx(name), dtype=torch.long)


class KerasRmsprop(torch.optim.Optimizer):
    """v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + eps), or / sqrt(v + eps) (Keras 3)."""

    def __init__(self, params, eps_inside):
        super().__init__(params, {})
        self.eps_inside = eps_inside

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                v = self.state[p].setdefault("v", torch.zeros_like(p))
                v.mul_(0.9).addcmul_(p.grad, p.grad, value=0.1)
                denominator = (v + 1e-7).sqrt() if self.eps_inside else v.sqrt().add_(1e-7)
                p.addcdiv_(p.grad, denominator, value=-1e-3)


def run(seed, x, y, x_test, y_test):
    torch.manual_seed(seed)
    split = int(len(x) * 0.8)
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
    model = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
                          nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                          nn.Flatten(), nn.Linear(392, 10))
    if args.init == "glorot":
        for layer in model:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
    optimizer = KerasRmsprop(model.parameters(), args.eps == "inside")
    loss_fn = nn.CrossEntropyLoss()

    def accuracy(a, b):
        with torch.no_grad():
            return sum((model(a[i:i + 1000]).argmax(1) == b[i:i + 1000]).sum().item()
                       for i in range(0, len(a), 1000)) / len(a)

    best_val, best_test = -1.0, 0.0
    for epoch in range(1, 6):
        start = time.time()
        order = torch.randperm(split)
        for i in range(0, split, 128):
            batch = order[i:i + 128]
            optimizer.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        val, test = accuracy(x_val, y_val), accuracy(x_test, y_test)
        if val >= best_val:
            best_val, best_test = val, test
        print(f"seed {seed} epoch {epoch}: validation {val:.4f} test {test:.4f} ({time.time() - start:.1f} s)",
              flush=True)
    return test, best_test


torch.set_num_threads(1)
x, y = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
results = [run(seed, x, y, x_test, y_test) for seed in args.seeds]
for name, column in (("after epoch 5", 0), ("best validation epoch", 1)):
    values = [100 * r[column] for r in results]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    print(f"init {args.init}, eps {args.eps}, scale {args.scale:g}: test accuracy {name} "
          f"{statistics.mean(values):.2f} ± {sd:.2f} % (runs: {', '.join(f'{v:.2f}' for v in values)})")
