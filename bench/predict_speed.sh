#!/usr/bin/env bash
# Scoring speed against fastText (issue 13), one run, same file, programs alternated:
#   - input: 100,000 lines of SST-2 sentences (dev, test and train sentences repeated), built
#     here from $TEXTCNN_DATA/sst2 (never stored in the repository);
#   - models: Kim CNN-rand defaults trained 5 epochs on SST-2 train.csv, its quantized copies
#     (textcnn quantize: the int8 tables in the file; --refine: the same with residual codes,
#     read for the texts whose label the int8 tables leave in doubt; --compact: int8
#     embeddings in the file, the tables made at load; --compact --refine: the same file, the
#     residual codes made at load too), and a fastText unigram model (fasttext supervised
#     -epoch 25 -lr 0.5);
#   - REPEATS (5) rounds of: textcnn predict --threads 1 (float), the same on the quantized,
#     refined, compact and compact refined models, fasttext predict; each prints CPU seconds (user + sys), peak
#     RSS (GNU time), sentences per CPU second and the load average (uptime) when it ran; then
#     medians and the ratios to fastText;
#   - the quantized, refined and compact refined models with 2 threads against 1 (wall-clock
#     seconds from a nanosecond clock: the ratio of the medians, and the median of each round's
#     ratio of a 1-thread run to the 2-thread run right after it, the machine's speed drifting
#     less between the two), and two 1-thread runs of the compact refined model at once: the
#     throughput two cores give work with nothing shared or serial, the ceiling of 2 threads;
#   - how many of the 100,000 labels change float -> each quantized form, and the SST-2 test labels;
#   - library single-sentence latency (bench_predict: quantized, refined and compact refined models);
#   - with CALLGRIND=1: instruction counts (valgrind --tool=callgrind) of one textcnn run of
#     each model and of fastText on the first 10,000 lines: a comparison the load of a shared
#     machine does not change (the float model's run takes minutes: its tables are built at load).
# Usage: bench/predict_speed.sh   (env: TEXTCNN_BUILD_DIR, TEXTCNN_DATA, REPEATS, CALLGRIND=1)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
repeats=${REPEATS:-5}
out=$build/bench/predict_speed
mkdir -p "$out"
textcnn=$build/textcnn
command -v fasttext >/dev/null || { echo "fasttext is not installed (apt-get install fasttext)" >&2; exit 1; }

# label,text CSV -> the text column, unquoted
sentences() { tail -n +2 "$1" | sed -E 's/^[a-z]+,//; s/^"(.*)"$/\1/; s/""/"/g'; }
lines=$out/lines.txt
sentences "$data/sst2/test.csv" >"$out/test_sentences.txt"
cat <(sentences "$data/sst2/dev.csv") "$out/test_sentences.txt" <(sentences "$data/sst2/train.csv") >"$out/all.txt"
: >"$lines"
while [[ $(wc -l <"$lines") -lt 100000 ]]; do cat "$out/all.txt" >>"$lines"; done
head -n 100000 "$lines" >"$lines.tmp" && mv "$lines.tmp" "$lines"
echo "== input: $(wc -l <"$lines") lines, $(du -b "$lines" | awk '{printf "%.1f MB", $1/1e6}') (SST-2 dev, test, train sentences repeated)"

echo "== models"
if [[ ! -f $out/kim.model ]]; then
  "$textcnn" train --train "$data/sst2/train.csv" --model "$out/kim.model" --epochs 5 --threads 2 --seed 1 --quiet >/dev/null
fi
"$textcnn" quantize --model "$out/kim.model" --out "$out/kim_q.model"
"$textcnn" quantize --refine --model "$out/kim.model" --out "$out/kim_r.model"
"$textcnn" quantize --compact --model "$out/kim.model" --out "$out/kim_c.model"
"$textcnn" quantize --compact --refine --model "$out/kim.model" --out "$out/kim_cr.model"
if [[ ! -f $out/ft.bin ]]; then
  tail -n +2 "$data/sst2/train.csv" | sed -E 's/^([a-z]+),"?/__label__\1 /; s/"$//; s/""/"/g' >"$out/ft_train.txt"
  fasttext supervised -input "$out/ft_train.txt" -output "$out/ft" -epoch 25 -lr 0.5 -thread 1 -verbose 0
fi
for f in kim.model kim_q.model kim_r.model kim_c.model kim_cr.model ft.bin; do
  printf "model file %-12s %6.1f MB\n" "$f" "$(du -b "$out/$f" | awk '{print $1/1e6}')"
done
"$textcnn" summary --model "$out/kim_q.model" | grep -E "^Prediction"
"$textcnn" summary --model "$out/kim_r.model" | grep -E "^Prediction"
"$textcnn" summary --model "$out/kim_c.model" | grep -E "^Prediction"
"$textcnn" summary --model "$out/kim_cr.model" | grep -E "^Prediction"
awk -v f="$(du -b "$out/kim.model" | cut -f1)" -v c="$(du -b "$out/kim_c.model" | cut -f1)" \
  'BEGIN {printf "compact / float model file: %.3f\n", c / f}'

# One timed run: NAME OUTPUT COMMAND...; appends "name cpu_s rss_mib wall_s round" to
# $out/times.txt. Wall seconds from the clock in nanoseconds around the run (GNU time's %e has
# 10 ms steps: 4 % of a 2-thread run here).
timed() {
  local name=$1 output=$2
  shift 2
  local started ended
  started=$(date +%s%N)
  /usr/bin/time -f "%U %S %M" -o "$out/time.tmp" "$@" >"$output" 2>/dev/null
  ended=$(date +%s%N)
  read -r user sys rss <"$out/time.tmp"
  local load
  load=$(uptime | sed -E 's/.*load average: //')
  awk -v n="$name" -v u="$user" -v s="$sys" -v r="$rss" -v w="$(((ended - started) / 1000))" -v l="$load" -v k="$round" 'BEGIN {
    w /= 1e6
    printf "%-26s cpu %5.2f s  peak %6.1f MiB  wall %6.3f s  %8.0f sentences/cpu-s  (load %s)\n", n, u + s, r / 1024, w, 100000 / (u + s), l
    printf "%s %f %f %f %d\n", n, u + s, r / 1024, w, k >> "'"$out/times.txt"'" }'
}
: >"$out/times.txt"
echo "== $repeats rounds, alternating (one thread each; each 2-thread run right after its 1-thread run)"
for ((round = 1; round <= repeats; ++round)); do
  timed "textcnn-float" "$out/float.txt" "$textcnn" predict --model "$out/kim.model" --threads 1 --quiet "$lines"
  timed "textcnn-quantized" "$out/quantized.txt" "$textcnn" predict --model "$out/kim_q.model" --threads 1 --quiet "$lines"
  timed "textcnn-quantized-2t" "$out/quantized2.txt" "$textcnn" predict --model "$out/kim_q.model" --threads 2 --quiet "$lines"
  timed "textcnn-refined" "$out/refined.txt" "$textcnn" predict --model "$out/kim_r.model" --threads 1 --quiet "$lines"
  timed "textcnn-refined-2t" "$out/refined2.txt" "$textcnn" predict --model "$out/kim_r.model" --threads 2 --quiet "$lines"
  timed "textcnn-compact" "$out/compact.txt" "$textcnn" predict --model "$out/kim_c.model" --threads 1 --quiet "$lines"
  timed "textcnn-compact-refined" "$out/compact_refined.txt" "$textcnn" predict --model "$out/kim_cr.model" --threads 1 --quiet "$lines"
  timed "textcnn-compact-refined-2t" "$out/compact_refined2.txt" "$textcnn" predict --model "$out/kim_cr.model" --threads 2 --quiet "$lines"
  timed "fasttext" "$out/fasttext.txt" fasttext predict "$out/ft.bin" "$lines"
  # The machine's own ceiling for two threads: two independent 1-thread runs at once (nothing
  # shared, nothing serial between them); wall seconds until both end.
  started=$(date +%s%N)
  "$textcnn" predict --model "$out/kim_cr.model" --threads 1 --quiet "$lines" >/dev/null &
  "$textcnn" predict --model "$out/kim_cr.model" --threads 1 --quiet "$lines" >/dev/null
  wait
  awk -v w="$((($(date +%s%N) - started) / 1000))" -v k="$round" 'BEGIN {printf "textcnn-compact-refined-pair 0 0 %f %d\n", w / 1e6, k}' >>"$out/times.txt"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
col() { awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$out/times.txt" | median; }
echo "== medians of $repeats"
for n in textcnn-float textcnn-quantized textcnn-refined textcnn-compact textcnn-compact-refined fasttext; do
  awk -v n="$n" -v c="$(col "$n" 2)" -v m="$(col "$n" 3)" 'BEGIN {printf "%-23s cpu %.2f s, %.0f sentences/cpu-s, peak %.1f MiB\n", n, c, 100000 / c, m}'
done
awk -v q="$(col textcnn-quantized 2)" -v f="$(col fasttext 2)" -v x="$(col textcnn-float 2)" \
  -v c="$(col textcnn-compact 2)" -v r="$(col textcnn-refined 2)" -v cr="$(col textcnn-compact-refined 2)" 'BEGIN {
  printf "ratio to fastText, sentences per cpu-s: quantized %.2fx, refined %.2fx, compact %.2fx, compact refined %.2fx, float textcnn %.2fx\n", f / q, f / r, f / c, f / cr, f / x }'
# Per round: the 1-thread run's wall time over the 2-thread run's right after it.
round_ratios() {
  awk -v a="textcnn-$1" -v b="textcnn-$1-2t" '$1 == a {one[$5] = $4} $1 == b {two[$5] = $4}
    END {for (k in one) if (k in two) print one[k] / two[k]}' "$out/times.txt"
}
for n in quantized refined compact-refined; do
  awk -v n="$n" -v one="$(col "textcnn-$n" 4)" -v two="$(col "textcnn-$n-2t" 4)" -v r="$(round_ratios "$n" | median)" \
    -v all="$(round_ratios "$n" | sort -n | awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $1}')" 'BEGIN {
    printf "%s, wall seconds: 1 thread %.3f, 2 threads %.3f: %.2fx; per round %.2fx (median; %s)\n", n, one, two, one / two, r, all }'
done
awk -v one="$(col textcnn-compact-refined 4)" -v pair="$(col textcnn-compact-refined-pair 4)" 'BEGIN {
  printf "compact-refined, two 1-thread runs at once (the machine'"'"'s ceiling for 2 threads): %.3f s for both, %.2fx the throughput of one\n", pair, 2 * one / pair }'

echo "== labels"
for n in quantized refined compact compact_refined; do
  changed=$(paste "$out/float.txt" "$out/$n.txt" | awk -F'\t' '$1 != $2' | wc -l)
  echo "float -> $n: $changed of 100000 labels change ($(awk -v c="$changed" 'BEGIN {printf "%.3f", c / 1000}') %)"
done
for n in quantized refined compact_refined; do
  cmp -s "$out/$n.txt" "$out/${n}2.txt" && echo "$n, 1 and 2 threads: identical output" ||
    echo "$n, 1 and 2 threads: OUTPUTS DIFFER"
done
"$textcnn" predict --model "$out/kim.model" --prob --quiet "$out/test_sentences.txt" >"$out/test_float.txt"
for n in quantized:kim_q refined:kim_r compact:kim_c compact_refined:kim_cr; do
  "$textcnn" predict --model "$out/${n#*:}.model" --prob --quiet "$out/test_sentences.txt" >"$out/test_${n%%:*}.txt"
  echo "SST-2 test ($(wc -l <"$out/test_sentences.txt") sentences): $(paste "$out/test_float.txt" "$out/test_${n%%:*}.txt" |
    awk -F'\t' '$1 != $4' | wc -l) labels differ float vs ${n%%:*}"
  paste "$out/test_float.txt" "$out/test_${n%%:*}.txt" | awk -F'\t' -v n="${n%%:*}" '$1 != $4 {
    printf "  float %s (%s %s) -> %s %s (%s %s)\n", $1, $2, $3, n, $4, $5, $6 }'
done
for m in kim.model kim_q.model kim_r.model kim_c.model kim_cr.model; do
  "$textcnn" eval --model "$out/$m" --data "$data/sst2/test.csv" 2>/dev/null | grep -E "^ *accuracy" | sed "s/^ */$m: /" || true
done

echo "== library, quantized, refined and compact refined models (bench_predict)"
if [[ -x $build/bench_predict ]]; then
  for m in kim_q kim_r kim_cr; do
    "$build/bench_predict" --model "$out/$m.model" --data "$out/test_sentences.txt" --threads 1 | grep -E "predict" | sed "s/^/$m: /"
  done
else
  echo "(build the bench_predict target for the latency line)"
fi

if [[ ${CALLGRIND:-0} == 1 ]]; then
  echo "== instructions (callgrind), first 10,000 lines"
  head -n 10000 "$lines" >"$out/lines10k.txt"
  for run in "textcnn-float:$textcnn predict --model $out/kim.model --threads 1 --quiet $out/lines10k.txt" \
             "textcnn-quantized:$textcnn predict --model $out/kim_q.model --threads 1 --quiet $out/lines10k.txt" \
             "textcnn-refined:$textcnn predict --model $out/kim_r.model --threads 1 --quiet $out/lines10k.txt" \
             "fasttext:fasttext predict $out/ft.bin $out/lines10k.txt"; do
    name=${run%%:*}
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$name" ${run#*:} >/dev/null 2>"$out/callgrind.$name.log"
    printf "%-18s %'15d instructions\n" "$name" "$(grep -E '^summary:' "$out/callgrind.$name" | awk '{print $2}')"
  done
fi
