"""Kim's (2014) CNN-rand written in PyTorch, shared by bench/torch_kim_cnn_trec.py (accuracy on TREC)
and bench/torch_kim_cnn_speed.py (training throughput on SST-2).

Kim's clean_str, 300-d embeddings uniform in +-0.25 (padding zero), convolutions of widths 3, 4, 5
with 100 maps each padded by width-1 zeros on both sides, ReLU, max over time, dropout 0.5, a
zero-initialised output layer. Needs Debian's python3-torch (not a CI dependency).
"""
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F


def clean_str(text):
    """Kim's preprocessing (TREC form, case kept): keep letters, digits and (),!?'` ; split clitics and punctuation."""
    text = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", text)
    for clitic in ("'s", "'ve", "n't", "'re", "'d", "'ll"):
        text = text.replace(clitic, " " + clitic)
    for mark, spaced in ((",", " , "), ("!", " ! "), ("(", " ( "), (")", " ) "), ("?", " ? ")):
        text = text.replace(mark, spaced)
    return text.split()


class KimCnn(nn.Module):
    def __init__(self, vocab, classes, widths=(3, 4, 5), maps=100, dim=300):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        nn.init.uniform_(self.embedding.weight, -0.25, 0.25)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        self.convs = nn.ModuleList()
        for w in widths:
            conv = nn.Conv1d(dim, maps, w, padding=w - 1)
            bound = math.sqrt(6.0 / (w * dim + w * maps))
            nn.init.uniform_(conv.weight, -bound, bound)
            nn.init.zeros_(conv.bias)
            self.convs.append(conv)
        self.dropout = nn.Dropout(0.5)
        self.out = nn.Linear(maps * len(widths), classes)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, ids):
        x = self.embedding(ids).transpose(1, 2)
        features = [F.relu(conv(x)).max(dim=2).values for conv in self.convs]
        return self.out(self.dropout(torch.cat(features, 1)))


def kim_setup(rows, labels):
    """Vocabulary of the (label, words) rows (0 = padding, 1 = unknown), Kim's model for `labels` and
    Kim's Adadelta (rho 0.95, eps 1e-6, lr 1): (vocab, model, optimizer)."""
    vocab = {}
    for _, words in rows:
        for word in words:
            vocab.setdefault(word, len(vocab) + 2)
    model = KimCnn(len(vocab) + 2, len(labels))
    return vocab, model, torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-6)


def batch_ids(sentences, vocab):
    """(batch, longest) ids, 0-padded; words not in `vocab` are 1 (unknown)."""
    longest = max(1, max(len(s) for s in sentences))
    ids = torch.zeros(len(sentences), longest, dtype=torch.long)
    for i, s in enumerate(sentences):
        for j, word in enumerate(s):
            ids[i, j] = vocab.get(word, 1)
    return ids


def train_step(model, optimizer, ids, target, limit):
    """One Adadelta step, then the padding vector back to zero and the output class vectors held to norm `limit`."""
    optimizer.zero_grad()
    F.cross_entropy(model(ids), target).backward()
    optimizer.step()
    with torch.no_grad():
        model.embedding.weight[0].zero_()
        norms = model.out.weight.norm(dim=1, keepdim=True)
        model.out.weight.mul_(torch.clamp(limit / (norms + 1e-7), max=1.0))
