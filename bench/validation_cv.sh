#!/usr/bin/env bash
# Monte Carlo cross-validation of textcnn train options on the training data alone: each seed
# draws its own stratified validation split (--validation-split, default 0.1) and trains; the
# best validation accuracy of each run and their mean are printed. Comparing two option sets on
# the same seeds gives paired differences (how the README's TREC variant table was made).
#
# Usage: bench/validation_cv.sh TRAIN.csv [textcnn train options...]
#   e.g. bench/validation_cv.sh ../shared/data/trec/train.csv --no-lowercase --min-count 2
# Environment: SEEDS (default "11 12 13 14 15 16 17 18"), SPLIT (0.1), EPOCHS (25), THREADS (1),
#   TEXTCNN_BUILD_DIR (build). Test data is never read.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
textcnn=${TEXTCNN_BUILD_DIR:-$root/build}/textcnn
[[ $# -ge 1 ]] || { sed -n '2,11p' "$0" >&2; exit 2; }
[[ -x $textcnn ]] || { echo "validation_cv.sh: $textcnn not built" >&2; exit 1; }
train=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=()
for seed in ${SEEDS:-11 12 13 14 15 16 17 18}; do
  "$textcnn" train --train "$train" --validation-split "${SPLIT:-0.1}" --model "$work/model" --seed "$seed" \
    --epochs "${EPOCHS:-25}" --threads "${THREADS:-1}" --quiet --log-json "$work/log.jsonl" "$@" >/dev/null
  best=$(grep '"event":"epoch"' "$work/log.jsonl" | sed -E 's/.*"dev_accuracy":([0-9.eE+-]+).*/\1/' | sort -g | tail -1)
  echo "seed $seed: best validation accuracy $best"
  results+=("$best")
done
printf '%s\n' "${results[@]}" | awk -v options="$*" '{s += $1; q += $1 * $1; n++}
  END {m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0; if (v < 0) v = 0
       printf "options [%s]: mean best validation accuracy %.2f %% ± %.2f over %d seeds\n", options, 100 * m, 100 * sqrt(v), n}'
