#!/usr/bin/env bash
# Test accuracy of textcnn's Kim CNN-rand on the shared benchmarks, mean ± sd over seeds.
#   bench/text_accuracy.sh [TASK...]     TASK: sst2 (train_phrases) | sst2-sentences | trec | sms
#   SEEDS="1 2 3" EPOCHS=... THREADS=2 to override; results also go to build/bench/accuracy/.
#   TRAIN_OPTIONS="--word-ngrams 2" adds options to every `textcnn train` (e.g. to compare variants);
#   TAG=name keeps their files apart. VALIDATION_ONLY=1 reports the dev/validation accuracies only
#   and never touches the test files (for choosing settings).
#   MEMBER_VALIDATION=own (trec, sms; with TRAIN_OPTIONS="--ensemble K ..."): the members of an ensemble
#   each hold out a validation split of their own (`train --validation-split 0.1 --member-validation
#   own` on all of train.csv; member 1's split is the seed's, the one the files below hold) instead
#   of the one split every member shares; the reported validation accuracy is then out of bag.
#   NBSVM still trains on the seed's split. For sms the same on all of the 80 % (sms_train.csv), and
#   the threshold is picked on the out-of-bag probabilities (`train --validation-predictions`).
#   SELF_PRETRAIN=1 starts the embeddings from vectors pre-trained on the training part's own
#   text (issue 12: no outside vectors can be fetched here): per seed, the training documents
#   as textcnn tokenizes them (`textcnn tokenize`), then Debian's fasttext skipgram on them (300
#   dimensions, -minCount 1, -epoch SELF_PRETRAIN_EPOCHS (25), one thread: deterministic), read
#   with --embeddings. Only the documents the run trains on: never validation or test text.
#   SELF_PRETRAIN_CENTER=1 subtracts the vectors' mean from each first (after few epochs they
#   share one large common direction: mean cosine 0.94 after 10 epochs on SST-2's sentences).
#   Beside textcnn, NBSVM-bi (Wang & Manning 2012; ../shared/tools/nbsvm.py, or $NBSVM) is trained
#   on the same training documents and scored on the same validation and test documents, so both
#   columns come from one run (its BETA picked on the validation documents, see nbsvm_pick); it needs Debian's python3-sklearn (installed here when missing and
#   run as root; otherwise NBSVM is skipped with a note). NO_NBSVM=1 skips it.
# Protocols (../shared/data/README.md):
#   sst2            train on train_phrases.csv (67,349 phrases), pick the model by dev.csv, report test.csv.
#                   Non-default: --validations-per-epoch 4 (an epoch is 1,347 batches; dev accuracy
#                   moves by a point within one, so the model is picked from 4 checks per epoch;
#                   chosen on dev: seed 1 best dev 84.17 vs 83.72 with one check), 10 epochs and
#                   --patience 4 (dev accuracy peaks by epoch 4-9; a CPU budget, not tuned).
#   sst2-sentences  the same trained on the 6,920 sentences of train.csv
#   trec            train.csv with 10% held out (stratified, seeded) for early stopping; report test.csv.
#                   The held-out 10% is made as files by `textcnn split` (the same documents as
#                   `train --validation-split 0.1 --seed S` holds out), so NBSVM sees the same split.
#                   Non-default: --no-lowercase, as Kim's preprocessing keeps TREC's case (clean_str
#                   with TREC=True); validation mean of seeds 1-3 88.70 vs 88.40 lowercased.
#                   All 25 epochs, no early stopping, the best validation epoch kept (Kim's protocol):
#                   validation mean 89.38 against 88.71 with --patience 6 (and 89.19 with --min-count 2).
#                   Seeds 1-10 and the variants tried with 8-seed Monte Carlo cross-validation: README.
#   sms             stratified 80/20 split of all.csv with seed 1; report accuracy, spam precision and
#                   recall, and the ham false-positive rate (ham called spam / all ham). 10% of the
#                   80% (stratified, the run's seed) is the validation split: it picks the epoch and
#                   then the decision threshold on P(spam) (the one with the best validation accuracy;
#                   of equal ones the highest, as false alarms on ham are what the target bounds),
#                   which `eval --threshold` applies to the test split. The test split picks nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
textcnn=$build/textcnn
out=$build/bench/accuracy
mkdir -p "$out"
seeds=${SEEDS:-1 2 3}
threads=${THREADS:-2}
read -r -a train_options <<<"${TRAIN_OPTIONS:-}"
tag=${TAG:-}
validation_only=${VALIDATION_ONLY:-0}
nbsvm=${NBSVM:-$root/../shared/tools/nbsvm.py}
use_nbsvm=1
if [[ ${NO_NBSVM:-0} == 1 ]]; then
  use_nbsvm=0
elif ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-sklearn >/dev/null
  fi
  /usr/bin/python3 -c 'import sklearn' 2>/dev/null || { echo "note: no python3-sklearn, NBSVM skipped" >&2; use_nbsvm=0; }
fi
[[ -f $nbsvm ]] || { [[ $use_nbsvm == 1 ]] && echo "note: $nbsvm not found, NBSVM skipped" >&2; use_nbsvm=0; }
# NBSVM accuracy (%) of TRAIN.csv -> TEST.csv with interpolation BETA.
nbsvm_accuracy() { BETA=$3 /usr/bin/python3 "$nbsvm" "$1" "$2"; }
# NBSVM's BETA, chosen on validation like textcnn's options: 0.25 (Wang & Manning's
# interpolation, the tool's default) or 1.0 (the plain SVM on NB features; on TREC's six classes
# one-vs-rest, 0.25 reaches only about 66 %). Prints "beta accuracy"; ties keep 0.25.
nbsvm_pick() {
  local a b; a=$(nbsvm_accuracy "$1" "$2" 0.25); b=$(nbsvm_accuracy "$1" "$2" 1.0)
  awk -v a="$a" -v b="$b" 'BEGIN{ if (b > a) print "1.0", b; else print "0.25", a }'
}
tasks=("$@")
[[ ${#tasks[@]} -eq 0 ]] && tasks=(sst2 sst2-sentences trec sms)

json_field() { sed -E "s/.*\"$1\":([0-9.eE+-]+).*/\1/" <<<"$2"; }
# The first occurrence: an ensemble's result ("--ensemble K") names its members' dev accuracies after its own.
first_json_field() { grep -oE "\"$1\":[0-9.eE+-]+" <<<"$2" | head -n 1 | cut -d: -f2; }
# ham false-positive rate = confusion[ham][spam] / support(ham); ham is label 0 in sorted order.
ham_fpr() { sed -E 's/.*"confusion":\[\[([0-9]+),([0-9]+)\].*/\2 \1/' <<<"$1" | awk '{printf "%.6f", $1/($1+$2)}'; }
spam_metric() { sed -E "s/.*\"spam\":\{[^}]*\"$1\":([0-9.eE+-]+).*/\1/" <<<"$2"; }
# Threshold on P(spam) with the best accuracy on a labelled validation CSV (label first, no
# newlines inside fields): the midpoint between two neighbouring scores, ties to the highest.
pick_threshold() {
  paste -d' ' <(tail -n +2 "$2" | cut -d, -f1) \
    <("$textcnn" predict --model "$1" --prob --quiet --threads "$threads" "$2" | tail -n +2 | awk -F'\t' '{print $NF}') |
    best_threshold
}
# The same from `train --validation-predictions` (line, label, P(ham), P(spam)): an ensemble's
# out-of-bag probabilities with --member-validation own.
pick_threshold_from_predictions() { tail -n +2 "$1" | awk -F'\t' '{print $2, $NF}' | best_threshold; }
# "label P(spam)" lines -> the threshold.
best_threshold() {
    sort -g -k2 | awk '{lab[NR] = $1; p[NR] = $2; spam += ($1 == "spam")}
      END {
        correct = spam; best = -1  # threshold below every score: all called spam
        for (i = 0; i <= NR; ++i) {
          if (i > 0) correct += (lab[i] == "ham") ? 1 : -1
          if (i > 0 && i < NR && p[i] == p[i + 1]) continue
          t = ((i == 0 ? 0 : p[i]) + (i == NR ? 1 : p[i + 1])) / 2
          if (correct >= best) { best = correct; threshold = t }
        }
        printf "%.6f", threshold
      }'
}
stats() { awk '{s+=$1; q+=$1*$1; n++} END {m=s/n; v=(n>1)?(q-n*m*m)/(n-1):0; if (v<0) v=0; printf "%.2f%% ± %.2f (n=%d)", 100*m, 100*sqrt(v), n}'; }

run_task() {
  local task=$1 train dev=() test extra=()
  case $task in
    sst2) train=$data/sst2/train_phrases.csv; dev=(--dev "$data/sst2/dev.csv"); test=$data/sst2/test.csv
          extra=(--epochs "${EPOCHS:-10}" --patience 4 --validations-per-epoch 4) ;;
    sst2-sentences) train=$data/sst2/train.csv; dev=(--dev "$data/sst2/dev.csv"); test=$data/sst2/test.csv
          extra=(--epochs "${EPOCHS:-25}" --patience 6) ;;
    trec) test=$data/trec/test.csv  # training and validation files are made per seed below
          extra=(--epochs "${EPOCHS:-25}" --no-lowercase) ;;
    sms) "$textcnn" split --data "$data/sms_spam/all.csv" --test-share 0.2 --seed 1 \
           --train-out "$out/sms_train.csv" --test-out "$out/sms_test.csv"
         test=$out/sms_test.csv  # training and validation files are made per seed below
         extra=(--epochs "${EPOCHS:-15}" --patience 5) ;;
    *) echo "unknown task $task" >&2; exit 2 ;;
  esac
  local name=$task${tag:+.$tag}
  : >"$out/$name.acc"; : >"$out/$name.fpr"; : >"$out/$name.prec"; : >"$out/$name.rec"; : >"$out/$name.speed"
  : >"$out/$name.dev"; : >"$out/$name.nbsvm_dev"; : >"$out/$name.nbsvm_test"
  for seed in $seeds; do
    local model=$out/$name.seed$seed.model eval_options=()
    if [[ $task == trec ]]; then
      "$textcnn" split --data "$data/trec/train.csv" --test-share 0.1 --seed "$seed" \
        --train-out "$out/trec_fit.seed$seed.csv" --test-out "$out/trec_validation.seed$seed.csv" >/dev/null
      train=$out/trec_fit.seed$seed.csv; dev=(--dev "$out/trec_validation.seed$seed.csv")
    fi
    local member_split=()
    if [[ ${MEMBER_VALIDATION:-shared} == own ]]; then
      case $task in
        trec) member_split=(--train "$data/trec/train.csv") ;;
        sms) member_split=(--train "$out/sms_train.csv" --validation-predictions "$out/$name.seed$seed.oob.tsv") ;;
        *) echo "MEMBER_VALIDATION=own is for trec and sms (sst2's dev set is given)" >&2; exit 2 ;;
      esac
      member_split+=(--validation-split 0.1 --member-validation own)
    fi
    if [[ $task == sms ]]; then
      # The same documents as `train --validation-split 0.1 --seed $seed` holds out, as files.
      "$textcnn" split --data "$out/sms_train.csv" --test-share 0.1 --seed "$seed" \
        --train-out "$out/sms_fit.seed$seed.csv" --test-out "$out/sms_validation.seed$seed.csv" >/dev/null
      train=$out/sms_fit.seed$seed.csv; dev=(--dev "$out/sms_validation.seed$seed.csv")
    fi
    local pretrained=()
    if [[ ${SELF_PRETRAIN:-0} == 1 ]]; then
      # Named by the training documents and the settings: seeds that train on the same file
      # (SST-2's) share one set of vectors, made once.
      local epochs=${SELF_PRETRAIN_EPOCHS:-25} center=${SELF_PRETRAIN_CENTER:-0}
      local vectors; vectors=$out/$task.self.$(md5sum <"$train" | cut -c1-16).e$epochs.c$center
      if [[ ! -f $vectors.vec ]]; then
        local case_option=(); [[ $task == trec ]] && case_option=(--no-lowercase)
        "$textcnn" tokenize "${case_option[@]}" "$train" >"$vectors.tokens.txt"
        fasttext skipgram -input "$vectors.tokens.txt" -output "$vectors.tmp" -dim 300 \
          -minCount 1 -epoch "$epochs" -thread 1 -verbose 0 >/dev/null
        rm -f "$vectors.tmp.bin"  # 2.4 GB of subword buckets, not needed
        if [[ $center == 1 ]]; then
          awk 'NR == FNR { if (FNR > 1) for (i = 2; i <= NF; ++i) sum[i] += $i; n = FNR - 1; next }
               FNR == 1 { print; next }
               { line = $1; for (i = 2; i <= NF; ++i) line = line " " ($i - sum[i] / n); print line }' \
            "$vectors.tmp.vec" "$vectors.tmp.vec" >"$vectors.centered.vec"
          mv "$vectors.centered.vec" "$vectors.tmp.vec"
        fi
        mv "$vectors.tmp.vec" "$vectors.vec"  # complete, or absent
      fi
      pretrained=(--embeddings "$vectors.vec")
    fi
    local trained dev_acc nb_line=
    local data_options=(--train "$train" "${dev[@]}")
    [[ ${#member_split[@]} -gt 0 ]] && data_options=("${member_split[@]}")
    trained=$("$textcnn" train "${data_options[@]}" --model "$model" --seed "$seed" --threads "$threads" \
      --quiet --json --log-json "$out/$name.seed$seed.log.jsonl" "${extra[@]}" "${pretrained[@]}" "${train_options[@]}")
    dev_acc=$(first_json_field dev_accuracy "$trained")
    echo "$dev_acc" >>"$out/$name.dev"
    grep '"event":"epoch"' "$out/$name.seed$seed.log.jsonl" |
      awk -F'"items_per_second":' '{split($2,a,/[,}]/); print a[1]}' >>"$out/$name.speed"
    local dev_file=${dev[1]} beta=
    if [[ $use_nbsvm == 1 ]]; then
      local nb; read -r beta nb < <(nbsvm_pick "$train" "$dev_file")
      awk -v a="$nb" 'BEGIN{print a/100}' >>"$out/$name.nbsvm_dev"
      nb_line="; NBSVM validation $nb (BETA $beta)"
    fi
    if [[ $validation_only == 1 ]]; then
      echo "$task seed $seed: validation accuracy $(awk -v a="$dev_acc" 'BEGIN{printf "%.2f", 100*a}')$nb_line"
      continue
    fi
    local threshold=
    if [[ $task == sms ]]; then
      if [[ ${#member_split[@]} -gt 0 ]]; then
        threshold=$(pick_threshold_from_predictions "$out/$name.seed$seed.oob.tsv")
      else
        threshold=$(pick_threshold "$model" "$out/sms_validation.seed$seed.csv")
      fi
      eval_options=(--threshold "spam=$threshold")
    fi
    local result
    result=$("$textcnn" eval --model "$model" --data "$test" --json --threads "$threads" "${eval_options[@]}")
    echo "$result" >"$out/$name.seed$seed.eval.json"
    local acc; acc=$(json_field accuracy "$result")
    echo "$acc" >>"$out/$name.acc"
    local line="$task seed $seed: test accuracy $(awk -v a="$acc" 'BEGIN{printf "%.2f", 100*a}') (validation $(awk -v a="$dev_acc" 'BEGIN{printf "%.2f", 100*a}'))"
    if [[ $use_nbsvm == 1 ]]; then
      local nb_test; nb_test=$(nbsvm_accuracy "$train" "$test" "$beta")
      awk -v a="$nb_test" 'BEGIN{print a/100}' >>"$out/$name.nbsvm_test"
      line+="; NBSVM test $nb_test$nb_line"
    fi
    if [[ $task == sms ]]; then
      ham_fpr "$result" >>"$out/$name.fpr"; echo >>"$out/$name.fpr"
      spam_metric precision "$result" >>"$out/$name.prec"; spam_metric recall "$result" >>"$out/$name.rec"
      line+=", ham FPR $(ham_fpr "$result"), spam precision $(spam_metric precision "$result"), recall $(spam_metric recall "$result") (threshold $threshold from validation)"
    fi
    echo "$line"
  done
  local speed; speed=$(sort -n "$out/$name.speed" | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]}')
  echo "== $name: textcnn validation accuracy $(stats <"$out/$name.dev")${train_options[*]:+ (options: ${train_options[*]})}"
  [[ $use_nbsvm == 1 ]] && echo "== $name: NBSVM-bi validation accuracy $(stats <"$out/$name.nbsvm_dev")"
  [[ $validation_only == 1 ]] && { echo "== $name: training speed (median epoch) $speed sentences/s"; return; }
  echo "== $name: textcnn test accuracy $(stats <"$out/$name.acc"); training speed (median epoch) $speed sentences/s"
  [[ $use_nbsvm == 1 ]] && echo "== $name: NBSVM-bi test accuracy $(stats <"$out/$name.nbsvm_test")"
  if [[ $task == sms ]]; then
    echo "== sms: ham false-positive rate $(grep . "$out/$name.fpr" | stats), spam precision $(stats <"$out/$name.prec"), spam recall $(stats <"$out/$name.rec")"
  fi
  return 0
}

for task in "${tasks[@]}"; do run_task "$task"; done
