"""Averages the validation probabilities of bench/mixed_ensemble_study.sh.

mixed_ensemble_study.py DIR [TASK...]

1. Per task, the accuracy and mean log-loss of k Kim networks plus n naive-Bayes networks
   averaged (the README's "Why two naive-Bayes members" table), mean over the seeds found.
2. For sms, the decision threshold protocol, judged on validation data alone: the validation
   documents are split in two stratified halves 300 times per seed; half A picks the threshold
   as bench/text_accuracy.sh does (best accuracy, ties to the highest, midpoints between scores)
   and half B scores it, beside the plain 0.5 threshold on the same half B.
"""
import csv
import sys

import numpy as np

MIXES = {'1 Kim': (1, 0), '5 Kim': (5, 0), '1 NB': (0, 1), '2 NB': (0, 2), '4 Kim + 1 NB': (4, 1),
         '5 Kim + 1 NB': (5, 1), '3 Kim + 2 NB': (3, 2), '5 Kim + 2 NB': (5, 2)}


def probabilities(directory, task, seed, kind, member):
    with open(f'{directory}/{task}.{seed}.{kind}{member}.prob') as f:
        rows = [line.rstrip('\n').split('\t') for line in f]
    return rows[0][1:], np.array([[float(x) for x in r[1:]] for r in rows[1:]])


def seed_data(directory, task, seed):
    """Labels, gold ids and the members' probabilities of one seed, or None when incomplete."""
    try:
        labels, _ = probabilities(directory, task, seed, 'kim', 1)
        members = {(kind, m): probabilities(directory, task, seed, kind, m)[1]
                   for kind, count in (('kim', 5), ('nb', 2)) for m in range(1, count + 1)}
        with open(f'{directory}/{task}.{seed}.dev.csv', newline='') as f:
            rows = csv.reader(f)
            next(rows)
            gold = np.array([labels.index(row[0]) for row in rows])
    except FileNotFoundError:
        return None
    return labels, gold, members


def mixture(members, kim, nb):
    total = sum(members[('kim', m)] for m in range(1, kim + 1)) + sum(members[('nb', m)] for m in range(1, nb + 1))
    return total / (kim + nb)


def pick_threshold(p, spam):
    """bench/text_accuracy.sh's pick_threshold on P(spam) scores p and gold spam flags."""
    order = np.argsort(p, kind='stable')
    p, spam = p[order], spam[order]
    correct, best, threshold, n = int(spam.sum()), -1, 0.5, len(p)
    for i in range(n + 1):
        if i > 0:
            correct += -1 if spam[i - 1] else 1
        if 0 < i < n and p[i - 1] == p[i]:
            continue
        t = ((0.0 if i == 0 else p[i - 1]) + (1.0 if i == n else p[i])) / 2
        if correct >= best:
            best, threshold = correct, t
    return threshold


def accuracy_and_ham_fpr(p, spam, threshold):
    called = p > threshold
    return (called == spam).mean(), (called & ~spam).sum() / (~spam).sum()


def threshold_study(directory, seeds):
    rng = np.random.default_rng(1)
    print('\nsms decision threshold, validation halves (A picks, B scores; 300 splits per seed):')
    for name in ('1 Kim', '5 Kim', '3 Kim + 2 NB'):
        scores = {'picked on A': [], '0.5': []}
        picked = []
        for seed in seeds:
            labels, gold, members = seed
            p = mixture(members, *MIXES[name])[:, labels.index('spam')]
            spam = gold == labels.index('spam')
            spam_ids, ham_ids = np.where(spam)[0], np.where(~spam)[0]
            for _ in range(300):
                a = np.concatenate([rng.permutation(spam_ids)[:len(spam_ids) // 2],
                                    rng.permutation(ham_ids)[:len(ham_ids) // 2]])
                b = np.setdiff1d(np.arange(len(p)), a)
                t = pick_threshold(p[a], spam[a])
                picked.append(t)
                scores['picked on A'].append(accuracy_and_ham_fpr(p[b], spam[b], t))
                scores['0.5'].append(accuracy_and_ham_fpr(p[b], spam[b], 0.5))
        print(f'  {name} (median threshold picked {np.median(picked):.3f}):')
        for protocol, values in scores.items():
            v = np.array(values)
            print(f'    {protocol:12s} accuracy {100 * v[:, 0].mean():.2f} %, ham FPR {100 * v[:, 1].mean():.3f} %')


def main():
    directory, tasks = sys.argv[1], sys.argv[2:] or ['sst2-sentences', 'trec', 'sms']
    for task in tasks:
        seeds = [s for s in (seed_data(directory, task, seed) for seed in (1, 2, 3)) if s is not None]
        if not seeds:
            continue
        print(f'{task}: accuracy (mean log-loss) on validation, mean of {len(seeds)} seeds')
        for name, (kim, nb) in MIXES.items():
            results = []
            for labels, gold, members in seeds:
                p = mixture(members, kim, nb)
                log_loss = -np.log(np.maximum(p[np.arange(len(gold)), gold], 1e-12)).mean()
                results.append(((p.argmax(1) == gold).mean(), log_loss))
            r = np.array(results)
            print(f'  {name:13s} {100 * r[:, 0].mean():.2f} ({r[:, 1].mean():.3f})')
        if task == 'sms':
            threshold_study(directory, seeds)


if __name__ == '__main__':
    main()
