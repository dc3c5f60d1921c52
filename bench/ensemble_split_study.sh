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
# THRESHOLD=1 (two classes, as SMS): each ensemble also picks a threshold on the second label's
# probability from its validation probabilities (`train --validation-predictions`: the shared
# split's, or out of bag; the best accuracy, ties to the highest threshold, as
# bench/text_accuracy.sh picks SMS's) and is scored with `eval --threshold LABEL=T` as well.
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
      --validation-predictions "$out/v.$s.$variant.tsv" "${options[@]}" 2>/dev/null)
    threshold_options=() threshold_note=
    if [[ ${THRESHOLD:-0} == 1 ]]; then
      # Labels sorted: the second is the positive one (spam). Midpoints between neighbouring
      # scores; of equal accuracies the highest threshold.
      positive=$(head -n 1 "$out/v.$s.$variant.tsv" | cut -f4)
      threshold=$(tail -n +2 "$out/v.$s.$variant.tsv" | awk -F'\t' '{print $2, $4}' | sort -g -k2 |
        awk -v pos="$positive" '{lab[NR] = $1; p[NR] = $2; n_pos += ($1 == pos)}
          END { correct = n_pos; best = -1
            for (i = 0; i <= NR; ++i) {
              if (i > 0) correct += (lab[i] == pos) ? -1 : 1
              if (i > 0 && i < NR && p[i] == p[i + 1]) continue
              t = ((i == 0 ? 0 : p[i]) + (i == NR ? 1 : p[i + 1])) / 2
              if (correct >= best) { best = correct; threshold = t } }
            printf "%.6f", threshold }')
      threshold_options=(--threshold "$positive=$threshold")
      threshold_note=" (threshold $positive=$threshold)"
    fi
    result=$("$textcnn" eval --model "$model" --data "$out/outer_val.$s.csv" --json --threads "$threads" \
      "${threshold_options[@]}")
    accuracy=$(json_number accuracy "$result")
    fpr=$(sed -nE 's/.*"confusion":\[\[([0-9]+),([0-9]+)\](,\[[0-9]+,[0-9]+\])?\].*/\1 \2 \3/p' <<<"$result" |
      awk '$3 != "" {printf "  first label FPR %.2f %%", 100 * $2 / ($1 + $2)}')
    printf 'seed %s %-6s ensemble %.2f  dev accuracy %.2f (%s: %s documents)%s%s\n' "$s" "$variant" \
      "$(awk -v a="$accuracy" 'BEGIN {print 100 * a}')" "$(awk -v a="$(json_number dev_accuracy "$trained")" 'BEGIN {print 100 * a}')" \
      "$([[ $variant == own ]] && echo "out of bag" || echo "shared split")" "$(json_number dev_documents "$trained")" \
      "$fpr" "$threshold_note" |
      tee -a "$results"
  done
done
awk '{acc[$2 " " $3] = $5; if ($0 ~ /FPR/) { f = $0; sub(/.*FPR /, "", f); fpr[$2 " " $3] = f + 0 } } END {
  n = 0; for (key in acc) { split(key, p, " "); if (p[2] == "own") { d = acc[p[1] " own"] - acc[p[1] " shared"]; s += d; q += d * d; n++ } }
  m = s / n; se = n > 1 ? sqrt((q - n * m * m) / (n - 1) / n) : 0
  printf "own - shared, ensemble accuracy on the outer hold-out: %+.2f +- %.2f (mean paired difference, standard error; %d seeds)\n", m, se, n
  if (length(fpr)) { for (key in fpr) { split(key, p, " "); sum[p[2]] += fpr[key]; count[p[2]]++ }
    printf "first label FPR, mean: shared %.2f %%, own %.2f %%\n", sum["shared"] / count["shared"], sum["own"] / count["own"] } }' "$results"
