#!/usr/bin/env bash
# The training report in a real browser (CTest: report_in_browser). Trains a tiny model whose
# labels are markup ("<script>", "a&b"), writes its report with `textcnn train --report` and
# again after the fact with `textcnn report --log --eval`, loads both pages in headless Chromium
# (render_in_browser.mjs) and requires: no console error or warning, no script in the page, all
# 8 charts present with a size and drawn shapes, the labels shown as text, a screenshot. A
# broken page must fail the same check, so the check itself is known to work.
#   browser_test.sh TEXTCNN WORK_DIR
set -euo pipefail
textcnn=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "browser test: node is missing (scripts/setup.sh installs nodejs)" >&2; exit 1; }
command -v "${CHROMIUM:-chromium}" >/dev/null || { echo "browser test: chromium is missing (scripts/setup.sh installs it)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# Two classes told apart by their words; a few documents of each share words of the other.
write_data() {  # FILE COUNT OFFSET
  echo "label,text" >"$1"
  local good=(bright warm lovely gentle clever) bad=(dull cold grim clumsy bleak) i
  for ((i = 0; i < $2; i++)); do
    local k=$(((i + $3) % 5)) j=$(((i * 3 + $3) % 5))
    if ((i % 2)); then
      echo "\"<script>\",the ${good[k]} and ${good[j]} day$( ((i % 7 == 0)) && echo " ${bad[k]}")" >>"$1"
    else
      echo "a&b,the ${bad[k]} and ${bad[j]} night$( ((i % 9 == 0)) && echo " ${good[j]}")" >>"$1"
    fi
  done
}
write_data train.csv 120 0
write_data dev.csv 40 2

"$textcnn" train --train train.csv --dev dev.csv --model model.bin --epochs 3 --validations-per-epoch 2 \
  --embedding-dim 16 --maps 8 --widths 2,3 --batch 10 --seed 3 --threads 1 --quiet \
  --log-json run.jsonl --report train.html >/dev/null
"$textcnn" eval --model model.bin --data dev.csv --json --threads 1 >eval.json
"$textcnn" report --log run.jsonl --eval eval.json -o after.html

check_page() {  # PAGE
  local facts
  facts=$(node "$here/render_in_browser.mjs" "$1" "${1%.html}.png") || { echo "$1: $facts" >&2; return 1; }
  node -e '
    const f = JSON.parse(process.argv[1]);
    const fail = (why) => { console.error(process.argv[2] + ": " + why + "\n" + process.argv[1]); process.exit(1); };
    if (f.charts.length !== 8) fail("expected 8 charts, found " + f.charts.length);
    if (f.scripts !== 0) fail("the page holds a script");
    for (const want of ["Loss", "Accuracy", "Learning rate", "Throughput", "Confusion matrix", "ROC"])
      if (!f.charts.some((c) => c.title.startsWith(want))) fail("no chart titled " + want);
  ' "$facts" "$1"
  grep -q '&lt;script&gt;' "$1" && grep -q 'a&amp;b' "$1" || { echo "$1: labels not shown escaped" >&2; return 1; }
  [[ -s ${1%.html}.png ]] || { echo "$1: no screenshot" >&2; return 1; }
  echo "$1: $(node -e 'const f = JSON.parse(process.argv[1]); console.log(f.charts.length + " charts, no console problems")' "$facts")"
}
check_page train.html
check_page after.html

# The check must be able to fail: a page with a script error and an empty chart.
printf '%s' '<!DOCTYPE html><html><head><title>broken</title></head><body><script>no_such_function()</script><svg class="chart" width="10" height="10"></svg></body></html>' >broken.html
if node "$here/render_in_browser.mjs" broken.html broken.png >broken.json; then
  echo "broken.html passed the browser check: the check does not work" >&2
  exit 1
fi
grep -q 'no_such_function' broken.json || { echo "the script error was not reported: $(cat broken.json)" >&2; exit 1; }
echo "browser test passed"
