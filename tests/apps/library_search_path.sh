#!/usr/bin/env bash
# The programs of the build tree load their libraries from the system's search path, never from
# the current directory. CMake's build RPATH of an installed target ended in an empty entry
# (".../openblas-pthread:"), which ld.so reads as the current directory: build/textcnn run from a
# folder holding a file named libxxhash.so.0 loaded it. Here every library a program needs (but
# glibc's own) gets a look-alike in a scratch folder that leaves a marker file when loaded, and
# the program runs from that folder.
#   library_search_path.sh COMPILER PROGRAM...
set -euo pipefail
compiler=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/planted.c" <<C
#include <stdio.h>
__attribute__((constructor)) static void planted(void) {
    FILE* f = fopen("$dir/loaded", "a");
    if (f) fclose(f);
}
C
status=0
for program in "$@"; do
  libraries=$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  [[ -n $libraries ]] || { echo "FAIL: no NEEDED entries read from $program"; exit 1; }
  planted=0
  for library in $libraries; do
    case $library in libc.so.* | libm.so.* | ld-linux*) continue ;; esac
    "$compiler" -x c -shared -fPIC -o "$dir/$library" "$dir/planted.c" -Wl,-soname,"$library"
    planted=$((planted + 1))
  done
  rm -f "$dir/loaded"
  if ! (cd "$dir" && "$program" --version >/dev/null 2>"$dir/stderr"); then
    echo "FAIL: $program --version failed when run beside look-alike libraries:"; cat "$dir/stderr"; status=1
  elif [[ -e $dir/loaded ]]; then
    echo "FAIL: $program loaded a library from the current directory"; status=1
  else
    echo "ok: $program ($planted look-alike libraries in its current directory, none loaded)"
  fi
  rm -f "$dir"/lib*.so*
done
exit $status
