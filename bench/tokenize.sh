#!/usr/bin/env bash
# Tokenization throughput (issue 3): SST-2 phrases and SMS text repeated to >= 50 MB, tokenized
# on 1 and 2 threads, beside the time to scan and to CSV-read the same bytes.
# Run on an otherwise idle machine: the "CPU s" column shows the work done, "wall s" what
# contention made of it.
#   bench/tokenize.sh [build-dir] [extra bench_tokenize options]
set -euo pipefail
build=${1:-build}
shift || true
cmake --build "$build" --target bench_tokenize -j2 >/dev/null
"$build/bench_tokenize" --mb 50 --repeats 3 "$@"
