#!/usr/bin/env bash
# Training throughput, textcnn next to PyTorch (issue 13: textcnn >= 10x PyTorch's Kim CNN, i.e.
# >= 8,600 sentences/s median epoch on 2 threads): Kim CNN-rand defaults (300-d embeddings,
# widths 3,4,5 x 100 maps, Adadelta, batch 50) on SST-2's 6,920 training sentences, EPOCHS epochs
# (default 5) each of
#   1. textcnn train --threads 1, 2. textcnn train --threads $THREADS (default 2),
#   3. PyTorch (bench/torch_kim_cnn_speed.py, Debian python3-torch, installed here when missing)
#      with torch.set_num_threads($THREADS);
# prints each median epoch in sentences/s, the CPU seconds (user+sys) of each run, the load
# average around each run (the machine is shared: wall-clock figures from a loaded machine are
# low), and the ratio textcnn / PyTorch at $THREADS threads.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=${TEXTCNN_DATA:-$root/../shared/data}
threads=${THREADS:-2}
epochs=${EPOCHS:-5}
out=$build/bench/train_speed
mkdir -p "$out"
train=$data/sst2/train.csv

load() { cut -d' ' -f1 /proc/loadavg; }
median_epoch() {  # median items_per_second of a --log-json file's epoch events
  grep '"event":"epoch"' "$1" | sed -E 's/.*"items_per_second":([0-9.eE+-]+).*/\1/' | sort -g |
    awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch >/dev/null
  fi
  /usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "train_speed.sh: needs python3-torch (Debian)" >&2; exit 1; }
fi

echo "== $("$build/textcnn" --version | head -1); $(nproc) cores; $epochs epochs of $(($(wc -l <"$train") - 1)) sentences"
declare -A rate
runs=(1)
[[ $threads != 1 ]] && runs+=("$threads")
for t in "${runs[@]}"; do
  before=$(load)
  /usr/bin/time -f "%U %S" -o "$out/textcnn_$t.time" "$build/textcnn" train --train "$train" \
    --model "$out/sst2.model" --epochs "$epochs" --threads "$t" --quiet --log-json "$out/textcnn_$t.jsonl" >/dev/null
  rate[$t]=$(median_epoch "$out/textcnn_$t.jsonl")
  printf 'textcnn, %s thread(s): %.0f sentences/s (median epoch), %.1f CPU s for the run, load average %s -> %s\n' \
    "$t" "${rate[$t]}" "$(awk '{print $1 + $2}' "$out/textcnn_$t.time")" "$before" "$(load)"
done

before=$(load)
/usr/bin/time -f "%U %S" -o "$out/torch.time" /usr/bin/python3 "$root/bench/torch_kim_cnn_speed.py" --train "$train" \
  --threads "$threads" --epochs "$epochs" >"$out/torch.log"
torch_rate=$(sed -nE 's/^epoch [0-9]+: ([0-9.]+) sentences\/s.*/\1/p' "$out/torch.log" | sort -g |
  awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}')
printf 'PyTorch %s, %s thread(s): %.0f sentences/s (median epoch), %.1f CPU s for the run, load average %s -> %s\n' \
  "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" "$threads" "$torch_rate" \
  "$(awk '{print $1 + $2}' "$out/torch.time")" "$before" "$(load)"
awk -v a="${rate[$threads]}" -v b="$torch_rate" -v t="$threads" \
  'BEGIN {printf "ratio textcnn / PyTorch at %s threads: %.1fx (target >= 10x and >= 8,600 sentences/s)\n", t, a / b}'
