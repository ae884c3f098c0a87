// How far behind the server's play point the page plays, per codec: a measuring tool, not a
// test. Starts `drift serve` on the e2e demo library (web/e2e/harness.mjs: target/debug/drift
// when built), opens a fresh page (a new session) in Debian's Chromium for Opus (the default)
// and for `?codec=mp3`, twice each, and prints the session's `position` minus the page's
// `ctl.position`, once a second for 8 s (the request's round trip in ms in brackets).
// Usage: node scripts/page-lag.mjs (after cargo build)
import { DriftServer, chromium, sleep, waitPlaying } from '../web/e2e/harness.mjs';

const server = await new DriftServer().start();
const chrome = await chromium();

async function lag(query) {
  const page = await (await chrome.newContext()).newPage();
  await page.goto(`${server.base}/${query}`);
  await page.waitForFunction(() => window.drift && window.drift.boot);
  await page.click('#play');
  await waitPlaying(page, 20000);
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  const out = [];
  for (let i = 0; i < 8; i++) {
    await sleep(1000);
    const t0 = Date.now();
    const s = await (await fetch(`${server.base}/api/sessions/${fp}`)).json();
    const rtt = Date.now() - t0;
    const pos = await page.evaluate(() => window.drift.ctl.position);
    out.push(`${(s.position - pos).toFixed(3)} (${rtt})`);
  }
  const codec = await page.evaluate(() => window.drift.ctl.mode.codec);
  console.log(`${codec.padEnd(4)} behind the play point, s: ${out.join(' ')}`);
  await page.close();
}

try {
  for (const q of ['', '?codec=mp3', '', '?codec=mp3']) await lag(q);
} finally {
  await chrome.close();
  await server.stop();
  server.cleanup();
}
