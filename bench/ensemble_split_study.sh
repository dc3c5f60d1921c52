#!/usr/bin/env bash
# Validation-only study: should an ensemble's members share one validation split (what
# `textcnn train --ensemble K --validation-split S` does today: every member holds out the same
# documents, so 10 % of the data trains no member) or each hold out its own (as bagging: together
# they train on all of it, and they differ more)? Judged on an outer hold-out no member trains or
# validates on; never touches a test set.
#   bench/ensemble_split_study.sh [TRAIN.csv]   (default: TREC's train.csv)
#   SEEDS: outer splits (default "11 12 13 14 15 16"), K: members (5), OPTIONS: train options
#   (default TREC's protocol: "--epochs 25 --no-lowercase"), TEXTCNN_BUILD_DIR, TEXTCNN_DATA.
# Per outer seed s: `split` holds out 10 % (seed s); from the other 90 %, variant "shared" splits
# off one 10 % validation set (seed 100 + s) for all K members, variant "own" one per member
# (seed 100 k + s); member k trains from seed k with that --dev, one thread, and `predict --prob`
# scores the outer hold-out; the K members' probabilities are averaged. Prints each seed's
# ensemble and member accuracies, then the mean paired difference own - shared and its standard
# error. About 2 K trainings per seed (TREC: 20 s each on this machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
textcnn=$build/textcnn
train=${1:-$data/trec/train.csv}
read -r -a options <<<"${OPTIONS:---epochs 25 --no-lowercase}"
k_members=${K:-5}
out=$build/bench/ensemble_split_study
mkdir -p "$out"
results=$out/results.txt
: >"$results"
for s in ${SEEDS:-11 12 13 14 15 16}; do
  "$textcnn" split --data "$train" --test-share 0.1 --seed "$s" \
    --train-out "$out/outer_train.$s.csv" --test-out "$out/outer_val.$s.csv" >/dev/null 2>&1
  for variant in shared own; do
    for k in $(seq 1 "$k_members"); do
      if [[ $variant == shared ]]; then split_seed=$((100 + s)); else split_seed=$((100 * k + s)); fi
      "$textcnn" split --data "$out/outer_train.$s.csv" --test-share 0.1 --seed "$split_seed" \
        --train-out "$out/fit.$s.$variant.$k.csv" --test-out "$out/dev.$s.$variant.$k.csv" >/dev/null 2>&1
      "$textcnn" train --train "$out/fit.$s.$variant.$k.csv" --dev "$out/dev.$s.$variant.$k.csv" \
        --model "$out/m.$s.$variant.$k.model" --seed "$k" --threads 1 --quiet "${options[@]}" >/dev/null 2>&1
      "$textcnn" predict --prob --quiet --model "$out/m.$s.$variant.$k.model" "$out/outer_val.$s.csv" \
        >"$out/p.$s.$variant.$k.tsv"
    done
    /usr/bin/python3 - "$out" "$s" "$variant" "$k_members" <<'PY' | tee -a "$results"
import csv, sys
out, s, variant, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
truth = [row[0] for row in csv.reader(open(f"{out}/outer_val.{s}.csv"))][1:]
def accuracy(rows):
    return sum(labels[max(range(len(r)), key=r.__getitem__)] == t for r, t in zip(rows, truth)) / len(truth)
total, members = None, []
for m in range(1, k + 1):
    lines = [l.rstrip("\n").split("\t") for l in open(f"{out}/p.{s}.{variant}.{m}.tsv")]
    labels = lines[0][1:]
    rows = [[float(x) for x in l[1:]] for l in lines[1:]]
    members.append(accuracy(rows))
    total = rows if total is None else [[a + b for a, b in zip(x, y)] for x, y in zip(total, rows)]
print(f"seed {s} {variant:6s} ensemble {100 * accuracy(total):.2f}  members mean {100 * sum(members) / k:.2f}  "
      f"({' '.join(f'{100 * a:.1f}' for a in members)})", flush=True)
PY
  done
done
awk '{acc[$2 " " $3] = $5} END {
  n = 0; for (key in acc) { split(key, p, " "); if (p[2] == "own") { d = acc[p[1] " own"] - acc[p[1] " shared"]; s += d; q += d * d; n++ } }
  m = s / n; se = n > 1 ? sqrt((q - n * m * m) / (n - 1) / n) : 0
  printf "own - shared, ensemble accuracy on the outer hold-out: %+.2f +- %.2f (mean paired difference, standard error; %d seeds)\n", m, se, n }' "$results"
