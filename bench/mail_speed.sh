#!/usr/bin/env bash
# Speed of textcnn-mail with a model from bench/mail_accuracy.sh test (seed 1; MODEL=... for
# another), 2 threads by default (THREADS=N):
#   1. classify --maildir over the test part of the SpamAssassin split: messages/s and MB/s
#      (best of RUNS=3 runs);
#   2. one message through `classify < message > out` including process start and model load:
#      median and 90th percentile wall time over 50 test messages, and the median CPU time
#      (user + system; on a busy machine the wall time is mostly waiting for a core).
# Prints the load average too: the figures mean little on a busy machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
threads=${THREADS:-2}
runs=${RUNS:-3}
model=${MODEL:-$build/bench/mail_test/seed1.model}
program=$build/textcnn-mail
test=$root/data/downloads/spam_assassin/test
[[ -f $model ]] || { echo "no model $model: run bench/mail_accuracy.sh test first" >&2; exit 1; }
echo "== $("$program" --version)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. classify --maildir $test ($(find "$test" -type f | wc -l) messages, $(du -sm "$test" | cut -f1) MB on disk), $threads threads"
for _ in $(seq "$runs"); do
  "$program" classify --model "$model" --maildir "$test" --threads "$threads" 2>&1 >/dev/null
done | sort -t: -k2 -n | awk -F': ' '{line = $0} END {print "best: " line}'
echo "== 2. one message, process start included (50 runs)"
mapfile -t messages < <(find "$test" -type f | sort | head -50)
for m in "${messages[@]}"; do
  /usr/bin/time -f "%e %U %S" -o "$build/bench/mail_latency.time" "$program" classify --model "$model" <"$m" >/dev/null || true
  tail -n 1 "$build/bench/mail_latency.time"
done | awk '{print $1 * 1000, ($2 + $3) * 1000}' >"$build/bench/mail_latency.txt"
sort -n -k1 "$build/bench/mail_latency.txt" | awk '{a[NR] = $1} END {printf "latency (wall): median %.0f ms, p90 %.0f ms\n", a[int((NR + 1) / 2)], a[int(NR * 0.9)]}'
sort -n -k2 "$build/bench/mail_latency.txt" | awk '{a[NR] = $2} END {printf "CPU time (user + system): median %.0f ms\n", a[int((NR + 1) / 2)]}'
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
