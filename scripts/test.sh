#!/usr/bin/env bash
# Installs what textcnn needs, builds it and runs every unit test (CTest + Boost.Test).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build=${TEXTCNN_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j "$(nproc)"
