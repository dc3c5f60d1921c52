#!/usr/bin/env bash
# The consumer test: installs the build (build/ or $TEXTCNN_BUILD_DIR) into a temporary prefix,
# then builds consumer.cpp against that installation four ways and runs each build:
#   CMake find_package(textcnn) -> textcnn::textcnn (the shared library), then the same with
#   -Dtextcnn_USE_STATIC_LIBS=ON (the static one); g++ with `pkg-config --cflags --libs textcnn`,
#   then with `pkg-config --static` against libtextcnn.a.
# Every program compiles with -Wall -Wextra -Wpedantic -Werror. Stops at the first failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${TEXTCNN_BUILD_DIR:-$root/build}
work=$(mktemp -d "${TMPDIR:-/tmp}/textcnn-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
source=$root/tests/consumer

step() { echo "consumer test: $*" >&2; }

step "installing $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
for kind in shared static; do
  step "CMake find_package, $kind library"
  static_flag=OFF
  [[ $kind == static ]] && static_flag=ON
  cmake -S "$source" -B "$work/cmake-$kind" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -Dtextcnn_USE_STATIC_LIBS=$static_flag >"$work/cmake-$kind.log"
  cmake --build "$work/cmake-$kind" >>"$work/cmake-$kind.log" || { cat "$work/cmake-$kind.log" >&2; exit 1; }
  ldd "$work/cmake-$kind/consumer" >"$work/ldd-cmake-$kind.txt"
  if [[ $kind == shared ]] && ! grep -q "$prefix/.*libtextcnn\.so" "$work/ldd-cmake-$kind.txt"; then
    echo "consumer test: the CMake shared build does not use the installed libtextcnn.so" >&2; exit 1
  fi
  if [[ $kind == static ]] && grep -q libtextcnn "$work/ldd-cmake-$kind.txt"; then
    echo "consumer test: the CMake static build still needs libtextcnn.so" >&2; exit 1
  fi
  "$work/cmake-$kind/consumer" "$work/run-cmake-$kind"
done

pc=$(find "$prefix" -name textcnn.pc -print -quit)
[[ -n $pc ]] || { echo "consumer test: no textcnn.pc under $prefix" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
libdir=$(realpath "$(pkg-config --variable=libdir textcnn)")
cxx=${CXX:-g++}
flags=(-std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror)

step "pkg-config --cflags --libs textcnn (shared): $(pkg-config --cflags --libs textcnn)"
# shellcheck disable=SC2046 # pkg-config's output is a list of words
"$cxx" "${flags[@]}" "$source/consumer.cpp" -o "$work/consumer-pc" $(pkg-config --cflags --libs textcnn) \
  -Wl,-rpath,"$libdir"
ldd "$work/consumer-pc" >"$work/ldd-pc.txt"
grep -q "$libdir/libtextcnn\.so" "$work/ldd-pc.txt" || { echo "consumer test: not linked to $libdir/libtextcnn.so" >&2; exit 1; }
"$work/consumer-pc" "$work/run-pc-shared"

# --static adds Libs.private and the Requires.private modules; -l:libtextcnn.a picks the archive
# where -ltextcnn would take the shared library.
static_libs=$(pkg-config --static --libs textcnn)
static_libs=${static_libs/-ltextcnn/-l:libtextcnn.a}
step "pkg-config --static --libs textcnn: $static_libs"
# shellcheck disable=SC2046,SC2086
"$cxx" "${flags[@]}" "$source/consumer.cpp" -o "$work/consumer-pc-static" $(pkg-config --cflags textcnn) $static_libs
ldd "$work/consumer-pc-static" >"$work/ldd-pc-static.txt"
if grep -q libtextcnn "$work/ldd-pc-static.txt"; then
  echo "consumer test: the static build still needs libtextcnn.so" >&2
  exit 1
fi
"$work/consumer-pc-static" "$work/run-pc-static"
step "passed (CMake shared and static, pkg-config shared and static)"
