#!/usr/bin/env bash
# Configures and builds textcnn (Release) into build/ (or $TEXTCNN_BUILD_DIR); arguments are
# CMake options (-DTEXTCNN_PYTHON=ON), applied to an existing build directory too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
launcher=()
# ccache, where installed, makes rebuilds (and builds of several work trees) cheap; not required.
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif (($#)); then
  # Options for a build directory that exists (-DTEXTCNN_PYTHON=ON from test.sh): set them in its
  # cache; the rest of the cache stays as it was.
  cmake -S "$root" -B "$build" "$@"
fi
cmake --build "$build" -j "$(nproc)"
