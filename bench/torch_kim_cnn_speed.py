#!/usr/bin/python3
"""Training throughput of Kim's CNN-rand in PyTorch on SST-2's training sentences: the side-by-side
figure bench/train_speed.sh prints next to textcnn's (issue 13 asks textcnn for >= 10x).

The model of bench/torch_kim_cnn.py with Kim's training (Adadelta rho 0.95, eps 1e-6, lr 1, batch 50,
max-norm 3 on the output class vectors, dense embedding gradient as nn.Embedding gives it), on every
sentence of train.csv, reshuffled each epoch. Prints one line per epoch (sentences/s over the epoch's
training steps, no evaluation) and the median epoch.

Needs Debian's python3-torch. Usage: bench/torch_kim_cnn_speed.py [--threads 2] [--epochs 5] [--train CSV]
"""
import argparse
import csv
import os
import random
import statistics
import sys
import time

import torch

sys.dont_write_bytecode = True  # no __pycache__ left in bench/
from torch_kim_cnn import batch_ids, clean_str, kim_setup, train_step

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--train", default=os.path.join(here, "..", "..", "shared", "data", "sst2", "train.csv"))
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

torch.set_num_threads(args.threads)
random.seed(args.seed)
torch.manual_seed(args.seed)
with open(args.train, newline="", encoding="utf-8") as f:
    rows = [(label, clean_str(text.lower())) for label, text in list(csv.reader(f))[1:]]
labels = sorted({label for label, _ in rows})
label_id = {label: i for i, label in enumerate(labels)}
vocab, model, optimizer = kim_setup(rows, labels)
model.train()
rates = []
for epoch in range(1, args.epochs + 1):
    order = list(range(len(rows)))
    random.shuffle(order)
    start = time.perf_counter()
    for i in range(0, len(order), 50):
        chunk = [rows[k] for k in order[i:i + 50]]
        target = torch.tensor([label_id[label] for label, _ in chunk])
        train_step(model, optimizer, batch_ids([words for _, words in chunk], vocab), target, 3.0 * (1 - 0.5))
    seconds = time.perf_counter() - start
    rates.append(len(rows) / seconds)
    print(f"epoch {epoch}: {rates[-1]:.0f} sentences/s ({seconds:.1f} s)", flush=True)
print(f"PyTorch {torch.__version__} Kim CNN-rand, {len(rows)} sentences, {args.threads} threads: "
      f"{statistics.median(rates):.0f} sentences/s (median epoch)")
