#!/usr/bin/env bash
# Fetches the UCI "Sentiment Labelled Sentences" (Kotzias et al. 2015: 1,000 amazon, imdb
# and yelp review sentences each, labelled 0/1) from the test fixtures of npm's `sentiment`
# package, and writes them as label,text CSV under data/downloads/uci_sentiment/:
# all.csv (3,000 rows), train.csv and test.csv (a stratified 80/20 split, seed 1).
# Idempotent: does nothing when the files are there. Nothing fetched is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/data/downloads/uci_sentiment
[[ -f $out/train.csv && -f $out/test.csv ]] && exit 0
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent sentiment@5.0.2 >/dev/null && tar xzf sentiment-5.0.2.tgz)
node "$root/data/uci_sentiment_to_csv.js" "$work/package/test/fixtures" "$out"
echo "uci_sentiment: wrote $(($(wc -l <"$out/train.csv") - 1)) training and $(($(wc -l <"$out/test.csv") - 1)) test rows to $out" >&2
