#!/usr/bin/env bash
# The validation-only study behind `--nb-members` (README, Accuracy: "Why two naive-Bayes
# members" and the SMS threshold protocol): per task and seed, 5 Kim networks and 2 networks with
# the naive-Bayes wide branch (--word-ngrams 2 --ngram-init nb), each trained alone on one thread
# on bench/text_accuracy.sh's split and options, their probabilities on the validation documents
# saved (`predict --prob`); bench/mixed_ensemble_study.py then averages them outside textcnn.
# Never touches a test set.
#   bench/mixed_ensemble_study.sh [TASK...]   TASK: sst2-sentences | trec | sms (default: all three)
#   SEEDS (default "1 2 3"), TEXTCNN_BUILD_DIR, TEXTCNN_DATA as in text_accuracy.sh.
# Member m of seed s trains from seed 100 s + m. About 21 trainings per seed; files already made
# are kept, so an interrupted run resumes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
textcnn=$build/textcnn
out=$build/bench/mixed_study
mkdir -p "$out"
tasks=("$@")
[[ ${#tasks[@]} -eq 0 ]] && tasks=(sst2-sentences trec sms)
for task in "${tasks[@]}"; do
  for seed in ${SEEDS:-1 2 3}; do
    case $task in
      sst2-sentences) train=$data/sst2/train.csv; dev=$data/sst2/dev.csv; extra=(--epochs 25 --patience 6) ;;
      trec) "$textcnn" split --data "$data/trec/train.csv" --test-share 0.1 --seed "$seed" \
              --train-out "$out/trec_fit.$seed.csv" --test-out "$out/trec_val.$seed.csv" >/dev/null
            train=$out/trec_fit.$seed.csv; dev=$out/trec_val.$seed.csv; extra=(--epochs 25 --no-lowercase) ;;
      sms) [[ -f $out/sms_train.csv ]] || "$textcnn" split --data "$data/sms_spam/all.csv" --test-share 0.2 --seed 1 \
             --train-out "$out/sms_train.csv" --test-out "$out/sms_test.csv" >/dev/null
           "$textcnn" split --data "$out/sms_train.csv" --test-share 0.1 --seed "$seed" \
             --train-out "$out/sms_fit.$seed.csv" --test-out "$out/sms_val.$seed.csv" >/dev/null
           train=$out/sms_fit.$seed.csv; dev=$out/sms_val.$seed.csv; extra=(--epochs 15 --patience 5) ;;
      *) echo "unknown task $task" >&2; exit 2 ;;
    esac
    cp "$dev" "$out/$task.$seed.dev.csv"
    for kind in kim nb; do
      count=5; options=()
      [[ $kind == nb ]] && { count=2; options=(--word-ngrams 2 --ngram-init nb); }
      for m in $(seq 1 $count); do
        f=$out/$task.$seed.$kind$m
        [[ -s $f.prob ]] && continue
        "$textcnn" train --train "$train" --dev "$dev" --model "$f.model" --seed $((seed * 100 + m)) --threads 1 \
          --quiet "${extra[@]}" "${options[@]}" >/dev/null
        "$textcnn" predict --model "$f.model" --prob --quiet --threads 1 "$dev" >"$f.prob.part"
        mv "$f.prob.part" "$f.prob"
        rm -f "$f.model"
      done
    done
    echo "$task seed $seed: done"
  done
done
/usr/bin/python3 "$root/bench/mixed_ensemble_study.py" "$out" "${tasks[@]}"
