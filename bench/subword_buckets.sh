#!/usr/bin/env bash
# Do hashed subword buckets for unknown words (vocabulary.h) help? Kim CNN-rand trained on
# SST-2's 6,920 sentences with --min-count 2 (so that rare training words are out of the
# vocabulary and train the buckets), with and without --subword-buckets, picked by a 10%
# validation split, scored on SST-2 dev (872 sentences): mean ± sd over seeds.
#   bench/subword_buckets.sh [build-dir]      SEEDS="1 2 3" EPOCHS=10 BUCKETS=2000 THREADS=2
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
out=$build/bench/subword_buckets
mkdir -p "$out"
seeds=${SEEDS:-1 2 3}
buckets=${BUCKETS:-2000}
epochs=${EPOCHS:-10}
threads=${THREADS:-2}
cmake --build "$build" --target textcnn -j2 >/dev/null

stats() { awk '{s+=$1; q+=$1*$1; n++} END {m=s/n; v=(n>1)?(q-n*m*m)/(n-1):0; if (v<0) v=0; printf "%.2f%% ± %.2f (n=%d)", 100*m, 100*sqrt(v), n}'; }

for b in 0 "$buckets"; do
  : >"$out/dev_$b.txt"
  for seed in $seeds; do
    model=$out/b${b}_s$seed.model
    "$build/textcnn" train --train "$data/sst2/train.csv" --validation-split 0.1 --model "$model" \
      --min-count 2 --subword-buckets "$b" --epochs "$epochs" --patience 4 --seed "$seed" \
      --threads "$threads" --quiet >/dev/null
    "$build/textcnn" eval --model "$model" --data "$data/sst2/dev.csv" --json --threads "$threads" |
      sed -E 's/.*"accuracy":([0-9.eE+-]+).*/\1/' >>"$out/dev_$b.txt"
  done
  echo "subword buckets $b: SST-2 dev accuracy $(stats <"$out/dev_$b.txt")"
done
