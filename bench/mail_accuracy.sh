#!/usr/bin/env bash
# Accuracy of textcnn-mail on the SpamAssassin corpus (data/fetch_spam_assassin.sh: a stratified
# 80/20 split, seed 1), at the default threshold.
#   bench/mail_accuracy.sh test        train on train/, classify test/, seeds 1 2 3 (SEEDS=...)
#   bench/mail_accuracy.sh validation  train on 80 % of train/, classify the other 20 % (per
#                                      corpus folder, hash-shuffled with seed 1): where settings
#                                      are chosen; the test part is not read
# Per seed: accuracy, ham false-positive rate, per-class precision/recall/F1 and the false
# positives by corpus folder (hard-ham-1 matters most); then the mean over seeds.
# Training settings: MAIL_TRAIN_OPTIONS (default below, chosen on validation). Runs under nice.
# SELF_PRETRAIN=1 starts the embeddings from vectors trained on the training messages' own text
# (as bench/text_accuracy.sh does for the short-text tasks): `textcnn-mail extract` of every
# training message on one line, the tokens textcnn reads (`textcnn tokenize`), Debian's
# fasttext skipgram on them (SELF_PRETRAIN_DIM dimensions, 64 as the options' --embedding-dim;
# -minCount 1, -epoch SELF_PRETRAIN_EPOCHS (25), one thread), read with --embeddings. Only the
# messages the runs train on.
# FASTTEXT=1 also trains fastText (Debian's fasttext; -wordNgrams 2 -epoch 25 -lr 0.5, -thread
# FASTTEXT_THREADS, default 1: on one thread its softmax training draws no random number, so
# one run stands for every seed; on more its asynchronous updates make every run differ and
# each seed is run) on the same messages, each whole raw message flattened to one line (issue
# 14's reference), once as received and once without the fields a
# mailbox or mail client writes after delivery (Status, X-Status, X-Keywords, X-UIDL,
# X-Mozilla-*...: a filter never sees them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
mode=${1:-test}
seeds=${SEEDS:-1 2 3}
threads=${THREADS:-2}
options=${MAIL_TRAIN_OPTIONS:---embedding-dim 64 --maps 64 --max-length 1000 --epochs 5 --word-ngrams 2}
program=$build/textcnn-mail
bash "$root/data/fetch_spam_assassin.sh"
corpus=$root/data/downloads/spam_assassin
out=$build/bench/mail_$mode
mkdir -p "$out"

case $mode in
test)
  train=$corpus/train
  eval=$corpus/test
  ;;
validation)
  # 20 % of every corpus folder of train/, shuffled by shuf with a seeded random source (GNU
  # coreutils' recipe: AES-CTR of zeros keyed by the seed): no test file involved.
  train=$out/split/train
  eval=$out/split/val
  rm -rf "$out/split"
  for label in ham spam; do
    mkdir -p "$train/$label" "$eval/$label"
    for folder in $(ls "$corpus/train/$label" | cut -d. -f1 | sort -u); do
      mapfile -t files < <(printf '%s\n' "$corpus/train/$label/$folder".* | sort |
        shuf --random-source=<(openssl enc -aes-256-ctr -pass pass:1 -nosalt </dev/zero 2>/dev/null))
      held=$(((${#files[@]} + 2) / 5))
      ln -s "${files[@]:0:held}" "$eval/$label/"
      ln -s "${files[@]:held}" "$train/$label/"
    done
  done
  ;;
*)
  echo "usage: $0 test|validation" >&2
  exit 2
  ;;
esac
if [[ ${SELF_PRETRAIN:-0} == 1 ]]; then
  find -L "$train" -type f | sort | while read -r message; do
    { "$program" extract <"$message" 2>/dev/null || true; } | tr '\r\n' '  '
    echo
  done >"$out/self_text.txt"
  "$build/textcnn" tokenize --input-format plain "$out/self_text.txt" >"$out/self_tokens.txt"
  nice fasttext skipgram -input "$out/self_tokens.txt" -output "$out/self_vectors" -dim "${SELF_PRETRAIN_DIM:-64}" \
    -minCount 1 -epoch "${SELF_PRETRAIN_EPOCHS:-25}" -thread 1 -verbose 0 >/dev/null
  rm -f "$out/self_vectors.bin"
  options+=" --embeddings $out/self_vectors.vec"
fi
echo "== $("$program" --version)"
echo "== train: $(find -L "$train" -type f | wc -l) messages, evaluate: $(find -L "$eval" -type f | wc -l) messages"
echo "== options: $options"

for seed in $seeds; do
  model=$out/seed$seed.model
  # shellcheck disable=SC2086
  nice "$program" train --maildir "$train" --model "$model" $options --seed "$seed" --threads "$threads" --quiet \
    >"$out/seed$seed.train.txt"
  nice "$program" classify --model "$model" --maildir "$eval" --threads "$threads" --quiet >"$out/seed$seed.tsv"
  echo "-- seed $seed: $(cat "$out/seed$seed.train.txt")"
  # The true label is the folder (ham/spam), the corpus folder the file name's first part.
  awk -F'\t' -v seed="$seed" '
    { n = split($1, p, "/"); truth = p[n - 1]; split(p[n], f, "."); folder = f[1]
      pred = $2 == "YES" ? "spam" : "ham"; total++; if ($2 == "UNKNOWN") unknown++
      count[truth]++; predicted[pred]++; if (truth == pred) { right++; hit[truth]++ }
      if (truth == "ham" && pred == "spam") { fp++; fp_folder[folder]++ }
      folder_total[folder]++ }
    END {
      printf "accuracy %.2f%% (%d/%d)  ham FPR %.2f%% (%d/%d)  unknown %d\n", 100 * right / total, right, total,
             100 * fp / count["ham"], fp, count["ham"], unknown + 0
      for (c in count) {
        precision = predicted[c] ? hit[c] / predicted[c] : 0; recall = hit[c] / count[c]
        f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        printf "  %-4s precision %.4f  recall %.4f  F1 %.4f  (%d messages)\n", c, precision, recall, f1, count[c]
      }
      printf "  false positives by corpus folder:"
      for (name in folder_total) if (name ~ /ham/) printf " %s %d/%d", name, fp_folder[name] + 0, folder_total[name]
      printf "\n"
      printf "SUMMARY %.6f %.6f\n", right / total, fp / count["ham"] > "/dev/stderr"
    }' "$out/seed$seed.tsv" 2>>"$out/summary.txt"
done
tail -n "$(echo "$seeds" | wc -w)" "$out/summary.txt" |
  awk '{a += $2; f += $3; n++} END {printf "== mean over %d seeds: accuracy %.2f%%, ham FPR %.2f%%\n", n, 100 * a / n, 100 * f / n}'

[[ ${FASTTEXT:-0} == 1 ]] || exit 0
command -v fasttext >/dev/null || { echo "FASTTEXT=1 needs fasttext (apt-get install fasttext)" >&2; exit 1; }
# DIR/{ham,spam}/* -> "__label__ham <the message's bytes, whitespace runs as one space>" lines;
# with "strip", header fields named in the pattern (and their continuation lines) are left out.
flatten() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, re, sys
root, strip = sys.argv[1], sys.argv[2] == "strip"
state = re.compile(r"^(x-spam[^:]*|x-mozilla-[^:]*|x-eudora[^:]*|x-evolution[^:]*|status|x-status|x-keywords"
                   r"|keywords|x-uid|x-uidl|x-sluidl|content-length|lines):", re.I)
for label in ("ham", "spam"):
    for name in sorted(os.listdir(os.path.join(root, label))):
        raw = open(os.path.join(root, label, name), "rb").read().decode("latin-1")
        if strip:
            head, sep, body = raw.partition("\n\n")
            kept, skip = [], False
            for line in head.split("\n"):
                if line[:1] not in (" ", "\t"):
                    skip = bool(state.match(line))
                if not skip:
                    kept.append(line)
            raw = "\n".join(kept) + sep + body
        print("__label__" + label, " ".join(raw.split()))
PY
}
: >"$out/fasttext.summary.txt"
ft_threads=${FASTTEXT_THREADS:-1}
ft_seeds=$seeds
[[ $ft_threads == 1 ]] && ft_seeds=${seeds%% *}
for variant in raw strip; do
  flatten "$train" "$variant" >"$out/fasttext.$variant.train.txt"
  flatten "$eval" "$variant" >"$out/fasttext.$variant.eval.txt"
  for seed in $ft_seeds; do
    nice fasttext supervised -input "$out/fasttext.$variant.train.txt" -output "$out/fasttext.$variant" \
      -wordNgrams 2 -epoch 25 -lr 0.5 -thread "$ft_threads" -seed "$seed" -verbose 0
    fasttext predict "$out/fasttext.$variant.bin" "$out/fasttext.$variant.eval.txt" |
      paste -d' ' <(cut -d' ' -f1 "$out/fasttext.$variant.eval.txt") - |
      awk -v v="$variant" -v seed="$seed" '
        { n++; if ($1 == $2) right++; if ($1 == "__label__ham") { ham++; if ($2 == "__label__spam") fp++ } }
        END { printf "-- fastText (%s) seed %s: accuracy %.2f%% (%d/%d)  ham FPR %.2f%% (%d/%d)\n",
                     v, seed, 100 * right / n, right, n, 100 * fp / ham, fp, ham
              printf "%s %.6f %.6f\n", v, right / n, fp / ham > "/dev/stderr" }' 2>>"$out/fasttext.summary.txt"
  done
done
awk '{a[$1] += $2; f[$1] += $3; n[$1]++}
  END {for (v in n) printf "== fastText (%s), mean over %d runs: accuracy %.2f%%, ham FPR %.2f%%\n", v, n[v], 100 * a[v] / n[v], 100 * f[v] / n[v]}' \
  "$out/fasttext.summary.txt"
