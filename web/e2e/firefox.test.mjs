// The same page in Debian's Firefox ESR (driven by puppeteer-core over WebDriver BiDi), which
// takes MP3 only inside fragmented MP4: with `?codec=mp3` (else it takes Opus, see
// opus.test.mjs) it must play through `/stream/{fp}.mp4`, survive a
// kill -9 and restart, soft-restart on refresh, and on a first run start by itself once the
// library has its first tracks. A PulseAudio null sink gives it a sound
// device (without one Firefox reports a media error while it plays).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DriftServer, firefox, FIREFOX, until, sleep, startSampler, longestFreeze, appendGaps, waitPlaying, slowLibrary, ARTIFACTS,
} from './harness.mjs';
import { compareWithServer } from './audio-check.mjs';

let server;
let fx;
let browser;

before(async () => {
  server = await new DriftServer().start();
  fx = await firefox();
  browser = fx.browser;
});

after(async () => {
  await fx?.close();
  await server?.stop();
  server?.cleanup();
});

async function playing() {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // MP3 in fMP4 (the Opus path has its own test, opus.test.mjs).
  await page.goto(`${server.base}/?codec=mp3`);
  await page.waitForFunction(() => window.drift && window.drift.boot);
  await page.click('#play');
  await waitPlaying(page, 20000);
  assert.equal(await page.evaluate(() => window.drift.ctl.mode.format), 'mp4', 'Firefox should take the fMP4 path');
  await startSampler(page);
  await until(() => page.evaluate(() => window.drift.ctl.bufferedAhead > 10), 'a full lead', 20000);
  return page;
}

async function assertSeamless(page, fp, fromMs, label, connBefore) {
  await until(() => page.evaluate(() => window.drift.ctl.state === 'playing' && !window.drift.ctl.recovering), `${label}: back to playing`, 30000);
  // Audio from a connection opened after the outage began.
  await until(() => page.evaluate((c) => window.drift.ctl.appendLog.some((e) => e.conn > c), connBefore), `${label}: audio from a new connection`, 15000);
  const freeze = await longestFreeze(page, fromMs);
  assert.ok(freeze < 1000, `${label}: audio time stood still for ${Math.round(freeze)} ms`);
  assert.deepEqual(await appendGaps(page), [], `${label}: appended fragments have a gap or a repeat`);
  assert.equal(await page.evaluate(() => window.drift.boot.fingerprint), fp);
  const log = await page.evaluate(() => window.drift.ctl.appendLog);
  const resumed = log.find((e) => e.conn > connBefore).first;
  await until(() => page.evaluate((n) => window.drift.ctl.history.nextIndex > n, resumed + 121), `${label}: 3 s past the reconnection`, 15000);
  const cmp = await compareWithServer(page, server.base, fp, resumed - 80, resumed + 120, resumed);
  console.log(`firefox ${label}: ${cmp.identical}/${cmp.frames} frames identical, SNR ${cmp.snr.toFixed(1)} dB, best lag ${cmp.lag.lag}`);
  assert.deepEqual(cmp.differing.filter((i) => i >= resumed), [], `${label}: frames after the reconnection differ from the server's`);
  // A re-rendered span (after a restart) went through a fresh encoder: codec noise, but aligned.
  assert.equal(cmp.lag.lag, 0, `${label}: the audio around the reconnection is shifted by ${cmp.lag.lag} samples`);
  assert.ok(cmp.snr > 12, `${label}: decoded audio differs from the server's (SNR ${cmp.snr.toFixed(1)} dB)`);
}

test('firefox (a): plays through the fMP4 path', { skip: !existsSync(FIREFOX) && 'no firefox-esr' }, async () => {
  const page = await playing();
  await until(() => page.evaluate(() => document.getElementById('title').textContent !== 'Press play to tune in'), 'a title');
  await page.screenshot({ path: join(ARTIFACTS, 'firefox-playing.png') });
  await page.close();
});

test('firefox (b): kill -9 and restart: no gap, no repeat', { skip: !existsSync(FIREFOX) && 'no firefox-esr' }, async () => {
  const page = await playing();
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  await sleep(6000); // past the first checkpoints: the restart re-renders mid-stream
  const [at, connBefore] = await page.evaluate(() => [performance.now(), window.drift.ctl.conn]);
  await server.kill();
  await sleep(5000);
  await server.start();
  await assertSeamless(page, fp, at, 'kill -9', connBefore);
  await page.close();
});

test('firefox (d): refresh soft-restarts in place', { skip: !existsSync(FIREFOX) && 'no firefox-esr' }, async () => {
  const page = await playing();
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  const [at, connBefore] = await page.evaluate(() => [performance.now(), window.drift.ctl.conn]);
  await page.click('#refresh');
  await until(() => page.evaluate(() => new Set(window.drift.ctl.appendLog.map((e) => e.conn)).size > 1), 'a new connection', 10000);
  await assertSeamless(page, fp, at, 'refresh', connBefore);
  await page.close();
});

test('firefox (e): first run: Play pressed while the library is prepared starts the audio by itself', { skip: !existsSync(FIREFOX) && 'no firefox-esr' }, async () => {
  const first = new DriftServer({ library: slowLibrary(), args: ['--scan-threads', '1'] });
  try {
    await first.start({ wait: 'url' });
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${first.base}/`);
    await page.click('#play');
    await page.evaluate(() => { window.__sameDocument = true; });
    await until(() => page.evaluate(() => !document.getElementById('library').hidden
      && /^Preparing your library — [\d,]+ of [\d,]+ analysed$/.test(document.getElementById('library-text').textContent)), 'the progress text', 30000, 50);
    assert.equal(await page.evaluate(() => document.getElementById('status-text').textContent), 'Preparing — plays when ready');
    await page.screenshot({ path: join(ARTIFACTS, 'firefox-first-run-preparing.png') });
    await until(() => page.evaluate(() => window.drift.ctl.active), 'the player to start by itself', 120000, 100);
    await waitPlaying(page, 30000);
    assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was never reloaded');
    assert.ok(!(await page.evaluate(() => /cannot reach/i.test(document.body.innerText))));
    await page.close();
  } finally {
    await first.stop();
    first.cleanup();
  }
});
