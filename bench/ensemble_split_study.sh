#!/usr/bin/env bash
# Validation-only study: should an ensemble's members share one validation split
# (`textcnn train --ensemble K --validation-split 0.1 --member-validation shared`, the default:
# every member holds out the same documents, so a tenth of the data trains no member) or each hold
# out its own (`--member-validation own`, as bagging: together they train on all of it, and they
# differ more)? Judged on an outer hold-out no member trains or validates on; never touches a
# test set.
#   bench/ensemble_split_study.sh [TRAIN.csv]   (default: TREC's train.csv)
#   SEEDS: outer splits (default "11 12 13 14 15 16"), K: members (5), OPTIONS: train options
#   (default TREC's protocol: "--epochs 25 --no-lowercase"; SMS's: "--epochs 15 --patience 5";
#   add "--nb-members 2" for the mixed ensemble), THREADS (2), TEXTCNN_BUILD_DIR, TEXTCNN_DATA.
# Per outer seed s: `split` holds out 10 % (seed s); on the other 90 % both variants train an
# ensemble of K from --seed s (the same member seeds; member 1's split is the same in both), and
# `eval` scores each on the outer hold-out (the argmax of the averaged probabilities; for two
# classes also the false-positive rate of the first label, ham for SMS). Prints each seed's
# accuracies, then the mean paired difference own - shared and its standard error. About 2 K
# trainings per seed (TREC: 20 s each on one core of this machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
textcnn=$build/textcnn
train=${1:-$data/trec/train.csv}
read -r -a options <<<"${OPTIONS:---epochs 25 --no-lowercase}"
k_members=${K:-5}
threads=${THREADS:-2}
out=$build/bench/ensemble_split_study
mkdir -p "$out"
results=$out/results.txt
: >"$results"
json_number() { grep -oE "\"$1\":[0-9.eE+-]+" <<<"$2" | head -n 1 | cut -d: -f2; }
for s in ${SEEDS:-11 12 13 14 15 16}; do
  "$textcnn" split --data "$train" --test-share 0.1 --seed "$s" \
    --train-out "$out/outer_train.$s.csv" --test-out "$out/outer_val.$s.csv" >/dev/null 2>&1
  for variant in shared own; do
    model=$out/m.$s.$variant.model
    trained=$("$textcnn" train --train "$out/outer_train.$s.csv" --validation-split 0.1 --ensemble "$k_members" \
      --member-validation "$variant" --model "$model" --seed "$s" --threads "$threads" --quiet --json \
      "${options[@]}" 2>/dev/null)
    result=$("$textcnn" eval --model "$model" --data "$out/outer_val.$s.csv" --json --threads "$threads")
    accuracy=$(json_number accuracy "$result")
    fpr=$(sed -nE 's/.*"confusion":\[\[([0-9]+),([0-9]+)\](,\[[0-9]+,[0-9]+\])?\].*/\1 \2 \3/p' <<<"$result" |
      awk '$3 != "" {printf "  first label FPR %.2f %%", 100 * $2 / ($1 + $2)}')
    printf 'seed %s %-6s ensemble %.2f  dev accuracy %.2f (%s: %s documents)%s\n' "$s" "$variant" \
      "$(awk -v a="$accuracy" 'BEGIN {print 100 * a}')" "$(awk -v a="$(json_number dev_accuracy "$trained")" 'BEGIN {print 100 * a}')" \
      "$([[ $variant == own ]] && echo "out of bag" || echo "shared split")" "$(json_number dev_documents "$trained")" "$fpr" |
      tee -a "$results"
  done
done
awk '{acc[$2 " " $3] = $5} END {
  n = 0; for (key in acc) { split(key, p, " "); if (p[2] == "own") { d = acc[p[1] " own"] - acc[p[1] " shared"]; s += d; q += d * d; n++ } }
  m = s / n; se = n > 1 ? sqrt((q - n * m * m) / (n - 1) / n) : 0
  printf "own - shared, ensemble accuracy on the outer hold-out: %+.2f +- %.2f (mean paired difference, standard error; %d seeds)\n", m, se, n }' "$results"
