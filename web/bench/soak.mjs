// A long listen, for docs/PERFORMANCE.md, not a test: the page plays in Debian's Chromium for
// N minutes and every minute this prints the page's JS heap (after a garbage collection), what
// the SourceBuffer holds, the newest frame appended and the server's RSS, so a leak shows as a
// column that keeps growing.
// Run: `npm run soak -- --minutes 60` (target/release/drift when present, else the debug build;
// `--codec mp3` for the MP3 path, Opus otherwise where Chromium takes it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DriftServer, chromium, sleep, waitPlaying, ROOT } from '../e2e/harness.mjs';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '60' }, codec: { type: 'string', default: 'auto' } },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, not ${values.minutes}`);
if (!process.env.DRIFT_BIN && existsSync(join(ROOT, 'target/release/drift'))) {
  process.env.DRIFT_BIN = join(ROOT, 'target/release/drift');
}

/** The server's resident memory in MiB, from /proc. */
function serverRss(server) {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

const server = await new DriftServer().start();
const browser = await chromium();
const context = await browser.newContext();
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(`${server.base}/?codec=${values.codec}`);
await page.waitForFunction(() => window.drift && window.drift.boot);
await page.click('#play');
await waitPlaying(page, 20000);
const codec = await page.evaluate(() => window.drift.ctl.mode.codec);
console.log(`soak: ${minutes} min of ${codec} in Chromium against ${server.base}`);
console.log('minute  state      heap MiB  buffered (s)          newest frame     server RSS MiB');
for (let m = 0; m <= minutes; m++) {
  if (m > 0) await sleep(60_000);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize / 2 ** 20;
  const s = await page.evaluate(() => {
    const a = document.getElementById('audio');
    const b = a.buffered;
    return {
      state: window.drift.ctl.state,
      from: b.length ? b.start(0) : 0,
      to: b.length ? b.end(b.length - 1) : 0,
      ranges: b.length,
      frames: window.drift.ctl.history.nextIndex ?? 0,
    };
  });
  console.log(`${String(m).padStart(6)}  ${s.state.padEnd(9)}  ${heap.toFixed(1).padStart(8)}  `
    + `${s.from.toFixed(0).padStart(6)}–${s.to.toFixed(0).padEnd(6)} (${s.ranges})  `
    + `${String(s.frames).padStart(15)}  ${serverRss(server).toFixed(1).padStart(14)}`);
}
await browser.close();
await server.stop();
server.cleanup();
