#!/usr/bin/env bash
# Fault tests: creates faults around the programs of a build and checks that each ends in a
# clear error and exit code with no lost, truncated or temporary file.
#   scripts/fault_tests.sh [BUILD_DIR]        (default build/; needs textcnn built there)
# Faults: disk full during a model save and a checkpoint save (a small tmpfs when this user
# may mount one, else `ulimit -f`, which makes write() fail with EFBIG the same way); SIGKILL
# at random moments of training and saving; a read-only target directory (read-only tmpfs, or
# chmod when not root); SIGINT, SIGTERM and a second SIGINT during training; the model file
# replaced while predict runs; `ulimit -v` too small. Prints one line per test; exit 1 if any
# test fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TEXTCNN_BUILD_DIR:-$root/build}}
T=$build/textcnn
[[ -x $T ]] || { echo "fault tests: $T not built" >&2; exit 1; }
work=$(mktemp -d /tmp/textcnn-faults.XXXXXX)
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
pass() { echo "fault: PASS  $1"; }
fail() { echo "fault: FAIL  $1" >&2; failures=$((failures + 1)); }
export OPENBLAS_NUM_THREADS=1

# Training data written here: two classes of short made-up sentences.
data=$work/train.csv
{
  echo "label,text"
  for i in $(seq 1 60); do
    echo "calm,the quiet river moved past stone number $i under a pale lantern"
    echo "storm,wind broke branch $i and thunder shook every shutter in the lane"
  done
} >"$data"
train_args=(train --train "$data" --batch 10 --embedding-dim 16 --maps 8 --threads 1 --quiet)
"$T" "${train_args[@]}" --epochs 2 --model "$work/base.model" >/dev/null 2>&1 || { echo "fault tests: cannot train" >&2; exit 1; }
model_bytes=$(stat -c %s "$work/base.model")

# wait_for_epoch LOG PID: until training wrote its first epoch to --log-json LOG (the signal
# handlers are in place by then); false if the program ended first or after 120 s.
wait_for_epoch() {
  for _ in $(seq 1 1200); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
loadable() { "$T" summary --model "$1" >/dev/null 2>&1; }
no_temporaries() { ! compgen -G "$1/*.tmp.*" >/dev/null; }
can_mount=0  # FAULT_NO_MOUNT=1 tests the fallbacks (ulimit -f; chmod) where mounting works
if [[ -z ${FAULT_NO_MOUNT:-} && $(id -u) -eq 0 ]] && mkdir -p "$work/probe" && mount -t tmpfs -o size=64k tmpfs "$work/probe" 2>/dev/null; then
  umount "$work/probe"
  can_mount=1
fi

# --- Disk full ---------------------------------------------------------------------------
# A directory where writes fail once `room` more bytes are written: a tmpfs filled up to
# leave that room, or (no mount) a plain directory and `ulimit -f` in the child.
full_dir=$work/full
mkdir -p "$full_dir"
# run_full ROOM CMD...: becomes CMD (exec; call it in a subshell: $(...) or &) with about ROOM
# bytes of room for its files.
run_full() {
  local room=$1
  shift
  if ((!can_mount)); then
    trap '' XFSZ
    ulimit -f $(((room + 1023) / 1024))
  fi
  exec "$@"
}
if ((can_mount)); then
  size_kb=$(((model_bytes * 2 + 65536) / 1024))
  mount -t tmpfs -o size=${size_kb}k tmpfs "$full_dir" && mounts+=("$full_dir")
  method="tmpfs of ${size_kb} KiB"
else
  method="ulimit -f"
fi
cp "$work/base.model" "$full_dir/m.model"
if ((can_mount)); then
  # Fill what is left but a few KiB: the new model (same size) cannot fit.
  dd if=/dev/zero of="$full_dir/filler" bs=1k count=$((size_kb)) 2>/dev/null
  rm -f "$full_dir/filler"
  free_kb=$(df -k --output=avail "$full_dir" | tail -1)
  dd if=/dev/zero of="$full_dir/filler" bs=1k count=$((free_kb - 4)) 2>/dev/null
fi
out=$(run_full 4096 "$T" "${train_args[@]}" --epochs 2 --seed 2 --model "$full_dir/m.model" 2>&1)
code=$?
if [[ $code -eq 1 ]] && [[ $out == *"$full_dir/m.model"* ]] && [[ $out == *"No space left on device"* || $out == *"File too large"* ]] &&
   cmp -s "$work/base.model" "$full_dir/m.model" && no_temporaries "$full_dir"; then
  pass "disk full during model save ($method): exit 1, '$(echo "$out" | tail -1)', previous model intact, no temporary"
else
  fail "disk full during model save ($method): exit $code, output: $out"
fi
# The checkpoint written on Ctrl-C, into the full directory.
run_full 4096 "$T" "${train_args[@]}" --epochs 100000 --model "$work/ck.model" --checkpoint "$full_dir/c.ckpt" \
  --log-json "$work/ck.log" >"$work/ck.out" 2>&1 &
pid=$!
wait_for_epoch "$work/ck.log" $pid
kill -INT $pid
wait $pid
code=$?
out=$(cat "$work/ck.out")
if [[ $code -eq 1 ]] && [[ $out == *"$full_dir/c.ckpt"* ]] && [[ ! -e $full_dir/c.ckpt ]] && no_temporaries "$full_dir"; then
  pass "disk full during checkpoint save ($method): exit 1, '$(echo "$out" | tail -1)', no checkpoint, no temporary"
else
  fail "disk full during checkpoint save ($method): exit $code, output: $out"
fi
rm -f "$full_dir/filler"

# --- SIGKILL at random moments of a training run and its save ----------------------------
kill_dir=$work/kill
mkdir -p "$kill_dir"
cp "$work/base.model" "$kill_dir/m.model"
# How long one run takes, to spread the kills over it (the save is its last part).
start=$(date +%s%N)
"$T" "${train_args[@]}" --epochs 2 --model "$work/timing.model" >/dev/null 2>&1
run_ms=$((($(date +%s%N) - start) / 1000000))
kills=${FAULT_KILLS:-20}
bad=0
leftovers=0
for i in $(seq 1 "$kills"); do
  "$T" "${train_args[@]}" --epochs 2 --seed "$i" --model "$kill_dir/m.model" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v ms="$run_ms" -v r="$RANDOM" 'BEGIN { printf "%.3f", ms * (0.5 + r / 32767.0 * 0.6) / 1000 }')"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  loadable "$kill_dir/m.model" || bad=$((bad + 1))
  if ! no_temporaries "$kill_dir"; then
    leftovers=$((leftovers + 1))
    rm -f "$kill_dir"/*.tmp.*
  fi
done
if ((bad == 0)); then
  pass "SIGKILL at $kills random moments (50-110% of a ${run_ms} ms run): model loadable after every kill; $leftovers kills left a <model>.tmp.<pid> (killed inside the write)"
else
  fail "SIGKILL: model not loadable after $bad of $kills kills"
fi

# --- Read-only and missing target directory ----------------------------------------------
ro_dir=$work/ro
mkdir -p "$ro_dir"
ro_method=""
if ((can_mount)); then
  mount -t tmpfs -o size=1m,ro tmpfs "$ro_dir" && mounts+=("$ro_dir") && ro_method="read-only tmpfs"
elif [[ $(id -u) -ne 0 ]]; then
  chmod 555 "$ro_dir" && ro_method="chmod 555"
fi
if [[ -n $ro_method ]]; then
  out=$("$T" "${train_args[@]}" --epochs 2 --model "$ro_dir/m.model" 2>&1)
  code=$?
  if [[ $code -eq 1 && $out == *"$ro_dir/m.model"* ]] && [[ -z $(ls -A "$ro_dir") ]]; then
    pass "read-only directory ($ro_method): exit 1 before training, '$(echo "$out" | tail -1)'"
  else
    fail "read-only directory ($ro_method): exit $code, output: $out"
  fi
else
  echo "fault: SKIP  read-only directory: root without mount (permissions do not bind root)"
fi
out=$("$T" "${train_args[@]}" --epochs 2 --model "$work/no/such/dir/m.model" 2>&1)
code=$?
if [[ $code -eq 1 && $out == *"$work/no/such/dir/m.model"* ]]; then
  pass "missing directory: exit 1, '$(echo "$out" | tail -1)'"
else
  fail "missing directory: exit $code, output: $out"
fi

# --- SIGINT, SIGTERM, a second SIGINT during training ------------------------------------
signal_test() {  # signal_test NAME EXPECTED_CODE SIGNAL...
  local name=$1 expected=$2
  shift 2
  local dir=$work/sig_$name
  mkdir -p "$dir"
  "$T" "${train_args[@]}" --epochs 100000 --model "$dir/m.model" --log-json "$dir/log" >"$dir/out" 2>&1 &
  local pid=$!
  wait_for_epoch "$dir/log" $pid
  for s in "$@"; do kill -s "$s" $pid; done
  wait $pid
  local code=$?
  # The checkpoint and the model so far are both written and load; the resumed run finishes,
  # and removes the checkpoint it no longer needs.
  if [[ $code -eq $expected ]] && loadable "$dir/m.model.ckpt" && loadable "$dir/m.model" && no_temporaries "$dir" &&
     "$T" "${train_args[@]}" --epochs 50 --model "$dir/m.model" --resume "$dir/m.model.ckpt" \
       >/dev/null 2>&1 && loadable "$dir/m.model" && [[ ! -e $dir/m.model.ckpt ]]; then
    pass "$name during training: exit $code, model so far and checkpoint written, resumed, checkpoint removed, '$(tail -1 "$dir/out")'"
  else
    fail "$name during training: exit $code (expected $expected), output: $(cat "$dir/out")"
  fi
}
signal_test SIGINT 130 INT
signal_test SIGTERM 143 TERM
signal_test "second SIGINT" 130 INT INT

# --- Model file replaced while predict runs ----------------------------------------------
rep=$work/replace
mkdir -p "$rep"
"$T" "${train_args[@]}" --epochs 2 --seed 9 --model "$rep/other.model" >/dev/null 2>&1
cp "$work/base.model" "$rep/m.model"
for i in $(seq 1 400); do echo "the lantern and the thunder $i"; done >"$rep/input.txt"
(
  for i in $(seq 1 200); do
    cp "$rep/other.model" "$rep/next" && mv "$rep/next" "$rep/m.model"  # atomic replacement
    cp "$work/base.model" "$rep/m.model"                                # in-place rewrite
  done
) &
replacer=$!
crashes=0
errors=0
runs=0
while kill -0 $replacer 2>/dev/null; do
  "$T" predict --threads 1 --model "$rep/m.model" "$rep/input.txt" >"$rep/out" 2>"$rep/err"
  code=$?
  runs=$((runs + 1))
  if [[ $code -eq 1 ]]; then
    errors=$((errors + 1))
    [[ -z ${refusal:-} ]] && refusal=$(tail -1 "$rep/err")
  elif [[ $code -ne 0 ]]; then crashes=$((crashes + 1)); fi
  [[ $code -eq 0 && $(wc -l <"$rep/out") -lt 400 ]] && crashes=$((crashes + 1))
done
wait $replacer
if ((crashes == 0)); then
  pass "model replaced during predict: $runs runs, $((runs - errors)) complete, $errors refused with exit 1 (a model caught mid-rewrite: '${refusal:-}'), none crashed"
else
  fail "model replaced during predict: $crashes of $runs runs crashed or gave partial output"
fi

# --- Too little memory -------------------------------------------------------------------
# Address space for the program and its libraries but not for the big model asked for.
# The network asked for needs about 3 GB (768 MB of convolution weights, as much again for
# their gradients and twice for Adadelta's accumulators); 1 GB of address space is enough to
# start, load the data and build the vocabulary. The need is checked against the limit before
# the network is built (least_training_bytes, nn/trainer.h).
out=$( (ulimit -v 1000000; exec "$T" train --train "$data" --batch 10 --threads 1 --quiet --epochs 2 --embedding-dim 4000 --maps 4000 \
  --model "$work/big.model") 2>&1)
code=$?
if [[ $code -eq 1 && $out == *"training needs at least"*"left under the address-space limit (ulimit -v)"* ]] &&
   [[ ! -e $work/big.model ]]; then
  pass "ulimit -v 1000000 (1 GB) for a 3 GB network: exit 1, '$(echo "$out" | tail -1)'"
else
  fail "ulimit -v: exit $code, output: $out"
fi

# Fifty long texts, each within what training holds for one text (55,896 tokens for the
# default network) but together, in one batch, up to 14.4 GB by the forward pass's estimate (7.2
# GB measured): under a 4 GB limit refused before training, naming the longest texts and the
# maximum length that fits (the network itself fits in the 4 GB).
awk 'BEGIN { print "label,text"; for (i = 0; i < 50; i++) { printf "%s,", (i % 2 ? "storm" : "calm");
  for (j = 0; j < 30000; j++) printf "w%d ", (i + j) % 97; print "" } }' >"$work/long_texts.csv"
out=$( (ulimit -v 4000000; exec "$T" train --train "$work/long_texts.csv" --threads 1 --quiet --epochs 1 \
  --model "$work/long.model") 2>&1)
code=$?
if [[ $code -eq 1 && $out == *"longest training texts"*"in one batch"*"(ulimit -v)"*"a maximum length of"* ]] &&
   [[ ! -e $work/long.model ]]; then
  pass "50 texts of 30,000 tokens under ulimit -v 4000000: exit 1, '$(echo "$out" | tail -1 | cut -c1-200)'"
else
  fail "50 long texts: exit $code, output: $(echo "$out" | cut -c1-400)"
fi

# The same texts as dev data: validation batches pack their texts too (they ran out of memory
# mid-epoch, the message blaming a training batch).
out=$( (ulimit -v 4000000; exec "$T" train --train "$data" --dev "$work/long_texts.csv" --threads 1 --quiet --epochs 1 \
  --model "$work/long.model") 2>&1)
code=$?
if [[ $code -eq 1 && $out == *"long_texts.csv: the 50 validation texts of one batch"*"(ulimit -v)"*"a maximum length of"* ]] &&
   [[ ! -e $work/long.model ]]; then
  pass "the same 50 texts as dev data: exit 1, '$(echo "$out" | tail -1 | cut -c1-200)'"
else
  fail "50 long dev texts: exit $code, output: $(echo "$out" | cut -c1-400)"
fi

# The same for imagecnn: four blank 28x28 images (IDX written here) and an architecture whose
# dense layer of 300,000 units holds 235 million weights (2.8 GB with RMSprop's gradients and
# accumulators).
I=$build/imagecnn
if [[ -x $I ]]; then
  printf '\x00\x00\x08\x03\x00\x00\x00\x04\x00\x00\x00\x1c\x00\x00\x00\x1c' >"$work/images.idx"
  head -c 3136 /dev/zero >>"$work/images.idx"
  printf '\x00\x00\x08\x01\x00\x00\x00\x04\x00\x01\x00\x01' >"$work/labels.idx"
  cat >"$work/wide.json" <<'JSON'
{"name": "wide", "layers": [{"type": "flatten"}, {"type": "dense", "units": 300000}, {"type": "dense", "units": "classes"}]}
JSON
  out=$( (ulimit -v 1000000; exec "$I" train --images "$work/images.idx" --labels "$work/labels.idx" \
    --arch-file "$work/wide.json" --class-names a,b --threads 1 --quiet --epochs 1 --model "$work/wide.model") 2>&1)
  code=$?
  if [[ $code -eq 1 && $out == *"training needs at least"*"(ulimit -v)"*"fewer filters or units"* ]] &&
     [[ ! -e $work/wide.model ]]; then
    pass "imagecnn, ulimit -v 1000000 for a 2.8 GB network: exit 1, '$(echo "$out" | tail -1)'"
  else
    fail "imagecnn ulimit -v: exit $code, output: $out"
  fi
fi

if ((failures)); then
  echo "fault tests: $failures failed" >&2
  exit 1
fi
echo "fault tests: all passed"
