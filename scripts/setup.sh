#!/usr/bin/env bash
# Installs every Debian package textcnn needs to build, test, benchmark and run its demos.
# Idempotent: safe to run again; apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libarmadillo-dev libopenblas-dev liblapack-dev
  libicu-dev libtbb-dev libboost-test-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev zlib1g-dev libxxhash-dev
  libpng-dev libjpeg-dev
  libgmime-3.0-dev libgumbo-dev openssl
  libbenchmark-dev
  pybind11-dev python3-dev python3-numpy python3-pytest python3-sklearn
  clang libclang-rt-14-dev
  dataset-fashion-mnist fasttext time
  valgrind  # bench/predict_speed.sh CALLGRIND=1: instruction counts
  chromium pngquant  # the training report: its browser test (tests/report/browser_test.sh), its README screenshot
)
# npm fetches the UCI sentiment sentences (npm's `sentiment` package); machines that already have
# Node.js from elsewhere keep it, since Debian's npm conflicts with other Node.js builds.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present" >&2
fi
