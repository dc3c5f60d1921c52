// Converts the amazon/imdb/yelp JSON fixtures of npm's `sentiment` package into label,text
// CSV (RFC 4180 quoting), with a stratified 80/20 split drawn from a fixed seed.
// Usage: node uci_sentiment_to_csv.js FIXTURE_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const [fixtures, out] = process.argv.slice(2);
const labels = ['negative', 'positive'];
const rows = [];
for (const source of ['amazon', 'imdb', 'yelp']) {
  const items = JSON.parse(fs.readFileSync(path.join(fixtures, `${source}.json`), 'utf8'));
  for (const item of items) {
    const text = String(item.text).replace(/\s+/g, ' ').trim();
    if (text.length > 0 && (item.class === 0 || item.class === 1)) rows.push({label: labels[item.class], text});
  }
}

// Deterministic shuffle (mulberry32, seed 1) so the split never changes between machines.
let state = 1;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

const csv = (list) => 'label,text\n' + list.map((r) => `${r.label},"${r.text.replace(/"/g, '""')}"`).join('\n') + '\n';
const train = [];
const test = [];
for (const label of labels) {
  const group = shuffle(rows.filter((r) => r.label === label));
  const cut = Math.round(group.length * 0.8);
  train.push(...group.slice(0, cut));
  test.push(...group.slice(cut));
}
fs.writeFileSync(path.join(out, 'all.csv'), csv(rows));
fs.writeFileSync(path.join(out, 'train.csv'), csv(shuffle(train)));
fs.writeFileSync(path.join(out, 'test.csv'), csv(test));
