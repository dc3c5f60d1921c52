// Loads an HTML page in headless Chromium and reports, as one JSON line on stdout, what a
// reader would see: console messages and page errors, the charts (<svg class="chart">) with
// their rendered size and number of drawn shapes, and a full-page screenshot (PNG).
// Talks the DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4, messages
// ended by a NUL byte), so it needs nothing but Node.js and Chromium.
//
//   node render_in_browser.mjs PAGE.html SCREENSHOT.png [CHROMIUM]
// Exit code 0 when the page loaded, nothing was logged as an error or warning, and every chart
// has a non-zero size and drawn shapes; 1 otherwise (the JSON line says why); 2 on misuse.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [page, screenshot, chromium = process.env.CHROMIUM || 'chromium'] = process.argv.slice(2);
if (!page || !screenshot) {
  console.error('usage: node render_in_browser.mjs PAGE.html SCREENSHOT.png [CHROMIUM]');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'textcnn-report-browser-'));
const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--hide-scrollbars', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let browserLog = '';
browser.stderr.on('data', (d) => { browserLog += d; });

const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, pending = new Map(), listeners = [], buffer = Buffer.alloc(0);
fromBrowser.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
    const message = JSON.parse(buffer.subarray(0, end).toString('utf8'));
    buffer = buffer.subarray(end + 1);
    if (message.id && pending.has(message.id)) {
      const { ok, fail } = pending.get(message.id);
      pending.delete(message.id);
      message.error ? fail(new Error(JSON.stringify(message.error))) : ok(message.result);
    } else {
      for (const listen of listeners) listen(message);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
  return new Promise((ok, fail) => pending.set(id, { ok, fail }));
}
const eventOnce = (method) => new Promise((ok) => listeners.push((m) => { if (m.method === method) ok(m.params); }));

const problems = [];
listeners.push((m) => {
  if (m.method === 'Runtime.exceptionThrown') problems.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
  if (m.method === 'Runtime.consoleAPICalled' && ['error', 'warning', 'assert'].includes(m.params.type))
    problems.push(`console.${m.params.type}: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
  if (m.method === 'Log.entryAdded' && ['error', 'warning'].includes(m.params.entry.level))
    problems.push(`${m.params.entry.source} ${m.params.entry.level}: ${m.params.entry.text}`);
});

const timer = setTimeout(() => finish({ error: 'timed out after 60 s' }), 60000);
let finished = false;
async function finish(result) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  // The profile can go once the browser has exited (it writes there until then).
  const exited = new Promise((ok) => (browser.exitCode !== null ? ok() : browser.once('exit', ok)));
  browser.kill();
  await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 3 }); } catch { /* a temporary directory */ }
  const ok = !result.error && problems.length === 0 && result.charts?.length > 0 &&
    result.charts.every((c) => c.width > 0 && c.height > 0 && c.shapes > 0);
  console.log(JSON.stringify({ ok, problems, ...result }));
  process.exit(ok ? 0 : 1);
}

try {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  for (const domain of ['Page', 'Runtime', 'Log']) await send(`${domain}.enable`, {}, sessionId);
  await send('Emulation.setDeviceMetricsOverride', { width: 1200, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
  const loaded = eventOnce('Page.loadEventFired');
  const navigation = await send('Page.navigate', { url: pathToFileURL(resolve(page)).href }, sessionId);
  if (navigation.errorText) throw new Error(`navigation: ${navigation.errorText}`);
  await loaded;
  const { result } = await send('Runtime.evaluate', {
    returnByValue: true,
    expression: `JSON.stringify({
      title: document.title,
      charts: [...document.querySelectorAll('svg.chart')].map((svg) => {
        const box = svg.getBoundingClientRect();
        return { title: svg.querySelector('title')?.textContent ?? '', width: box.width, height: box.height,
                 shapes: svg.querySelectorAll('polyline, rect.cell, rect.bar, circle').length };
      }),
      scripts: document.scripts.length,
    })`,
  }, sessionId);
  const facts = JSON.parse(result.value);
  const { data } = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId);
  writeFileSync(screenshot, Buffer.from(data, 'base64'));
  // Console messages arrive asynchronously: give late ones a moment.
  await new Promise((ok) => setTimeout(ok, 200));
  await finish(facts);
} catch (error) {
  await finish({ error: String(error), browser: browserLog.slice(-2000) });
}
