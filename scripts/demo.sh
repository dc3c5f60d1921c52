#!/usr/bin/env bash
# The main job, from a fresh machine: install, build, fetch the UCI "Sentiment Labelled
# Sentences" (npm's `sentiment` package fixtures), train a Kim CNN sentiment model on 80% of
# them, evaluate it on the held-out 20%, and score the project's own example reviews
# (data/examples/reviews.txt, one per line; the empty line gets its own output line too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
bash "$root/data/fetch_uci_sentiment.sh"
build=${TEXTCNN_BUILD_DIR:-$root/build}
data=$root/data/downloads/uci_sentiment
out=$build/demo
mkdir -p "$out"
textcnn=$build/textcnn

echo "== training (Kim CNN-rand, 10% of the training sentences held out for model selection)"
"$textcnn" train --train "$data/train.csv" --validation-split 0.1 --epochs 10 --seed 1 \
  --model "$out/sentiment.model"
echo "== model"
"$textcnn" summary --model "$out/sentiment.model"
echo "== evaluation on the held-out test sentences"
"$textcnn" eval --model "$out/sentiment.model" --data "$data/test.csv"
echo "== predictions for data/examples/reviews.txt (label, then the probability of each label)"
"$textcnn" predict --model "$out/sentiment.model" --prob "$root/data/examples/reviews.txt" |
  paste - <(echo text; cat "$root/data/examples/reviews.txt")
