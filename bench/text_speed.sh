#!/usr/bin/env bash
# Speed of the text path, 2 threads by default (THREADS=N to change). Run on a quiet machine.
#   1. training throughput with the Kim defaults on SST-2's 6,920 training sentences
#      (sentences/s and seconds per epoch, median over EPOCHS epochs);
#   2. `textcnn predict` on >= 100,000 lines (SST-2 test sentences repeated): documents/s, MB/s
#      and peak memory (GNU time's maximum resident set size);
#   3. library prediction: batch throughput and single-sentence latency (bench_predict);
#   4. OpenBLAS sgemm next to the convolution, measured in the same run (bench_conv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
threads=${THREADS:-2}
epochs=${EPOCHS:-3}
out=$build/bench/speed
mkdir -p "$out"
textcnn=$build/textcnn

echo "== $("$textcnn" --version)"
echo "== 1. training, Kim CNN-rand defaults, SST-2 train.csv (6,920 sentences), $threads threads, $epochs epochs"
"$textcnn" train --train "$data/sst2/train.csv" --model "$out/sst2_sentences.model" --epochs "$epochs" \
  --threads "$threads" --quiet --log-json "$out/train.log.jsonl" >/dev/null
grep '"event":"epoch"' "$out/train.log.jsonl" | awk -F'"items_per_second":' '{split($2,a,/[,}]/); print a[1]}' | sort -n |
  awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "training: %.0f sentences/s (median epoch), %.1f s per epoch of 6,920 sentences\n", m, 6920/m}'

echo "== 2. textcnn predict on >= 100,000 lines, $threads threads"
lines=$out/predict_input.txt
tail -n +2 "$data/sst2/test.csv" | sed -E 's/^[a-z]+,//; s/^"(.*)"$/\1/; s/""/"/g' >"$out/test_sentences.txt"
: >"$lines"
while [[ $(wc -l <"$lines") -lt 100000 ]]; do cat "$out/test_sentences.txt" >>"$lines"; done
echo "input: $(wc -l <"$lines") lines, $(du -m "$lines" | cut -f1) MB"
/usr/bin/time -v "$textcnn" predict --model "$out/sst2_sentences.model" --threads "$threads" "$lines" \
  >"$out/predictions.txt" 2>"$out/predict.time"
grep -E "^scored" "$out/predict.time"
grep -E "Maximum resident set size" "$out/predict.time" | awk '{printf "peak memory: %.0f MB\n", $6/1024}'
[[ $(wc -l <"$out/predictions.txt") -eq $(wc -l <"$lines") ]] || { echo "line count mismatch" >&2; exit 1; }

echo "== 3. library prediction"
"$build/bench_predict" --model "$out/sst2_sentences.model" --data "$out/test_sentences.txt" --threads "$threads" |
  grep -E "predict|documents"

echo "== 4. convolution and sgemm, same run"
"$build/bench_conv" --threads "$threads" --repeats 5
