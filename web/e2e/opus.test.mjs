// The page's Opus path (Opus in fragmented MP4 through MediaSource) in Debian's Chromium and
// Firefox ESR against a real `drift serve`: both take it by default and play; through a kill -9
// and a restart 5 s later the audio never stands still, the appended packets are one run with
// no gap or repeat, and the titles still follow the audio; a skip is heard within 1.5 s (the
// page splices its Opus buffer); `?codec=mp3` keeps MP3.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  DriftServer, chromium, firefox, FIREFOX, until, sleep, startSampler, longestFreeze, appendGaps,
  waitPlaying,
} from './harness.mjs';

let server;
let chrome;
let fx;

before(async () => {
  server = await new DriftServer().start();
  chrome = await chromium();
  if (existsSync(FIREFOX)) fx = await firefox();
});

after(async () => {
  await chrome?.close();
  await fx?.close();
  await server?.stop();
  server?.cleanup();
});

/** A page of `browser` (Playwright's or Puppeteer's) playing `query` with a sampler running. */
async function playing(page, query = '') {
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.base}/${query}`);
  await page.waitForFunction(() => window.drift && window.drift.boot);
  await page.click('#play');
  await waitPlaying(page, 20000);
  await startSampler(page);
  return page;
}

/** The page plays Opus through a kill -9 of the server and a restart 5 s later. */
async function survivesKill9(page, label) {
  const mode = await page.evaluate(() => window.drift.ctl.mode);
  assert.deepEqual([mode.codec, mode.mime], ['opus', 'audio/mp4; codecs="opus"'], `${label}: the Opus path`);
  await until(() => page.evaluate(() => window.drift.ctl.bufferedAhead > 10), `${label}: a full lead`, 20000);
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  await sleep(3000); // past the first checkpoints: the restart re-renders mid-stream
  const [at, connBefore] = await page.evaluate(() => [performance.now(), window.drift.ctl.conn]);
  await server.kill();
  await sleep(5000);
  await server.start();
  await until(() => page.evaluate(() => window.drift.ctl.state === 'playing' && !window.drift.ctl.recovering), `${label}: back to playing`, 30000);
  await until(() => page.evaluate((c) => window.drift.ctl.appendLog.some((e) => e.conn > c), connBefore), `${label}: audio from a new connection`, 15000);
  await until(() => page.evaluate(() => window.drift.ctl.bufferedAhead > 8), `${label}: the lead refilled`, 30000);
  const freeze = await longestFreeze(page, at);
  assert.ok(freeze < 1000, `${label}: audio time stood still for ${Math.round(freeze)} ms`);
  assert.deepEqual(await appendGaps(page), [], `${label}: appended packets have a gap or a repeat`);
  assert.equal(await page.evaluate(() => window.drift.boot.fingerprint), fp, `${label}: same session`);
  // The title shown is the one the server says is audible now.
  await until(async () => {
    const [shown, pos] = await page.evaluate(() => [document.getElementById('title').textContent, window.drift.ctl.position]);
    const s = await (await fetch(`${server.base}/api/sessions/${fp}`)).json();
    return s.nowPlaying && shown === s.nowPlaying.title && Math.abs(s.position - pos) < 20;
  }, `${label}: the title follows the audio`, 20000);
}

test('Chromium plays Opus by default, through a kill -9 and restart; ?codec=mp3 keeps MP3', async () => {
  const context = await chrome.newContext();
  const page = await playing(await context.newPage());
  await survivesKill9(page, 'chromium');
  // Skip: the next track is announced (where the spliced audio has it) within 1.5 s.
  await page.evaluate(() => {
    window.__meta = [];
    window.drift.ctl.addEventListener('metadata', (e) => window.__meta.push([performance.now(), e.detail.title]));
  });
  const before = await page.evaluate(() => document.getElementById('title').textContent);
  const clicked = await page.evaluate(() => { document.getElementById('skip').click(); return performance.now(); });
  const heard = await until(() => page.evaluate(([t, title]) => window.__meta.find((m) => m[0] > t && m[1] !== title), [clicked, before]), 'the next track', 5000, 20);
  console.log(`opus skip: next track announced ${Math.round(heard[0] - clicked)} ms after the click`);
  assert.ok(heard[0] - clicked <= 1500, `the skip was heard ${Math.round(heard[0] - clicked)} ms after the click`);
  await waitPlaying(page);
  const mp3 = await playing(await context.newPage(), '?codec=mp3');
  assert.equal(await mp3.evaluate(() => window.drift.ctl.mode.codec), 'mp3');
  await context.close();
});

test('Firefox plays Opus by default, through a kill -9 and restart', { skip: !existsSync(FIREFOX) && 'no firefox-esr' }, async () => {
  const page = await playing(await fx.browser.newPage());
  await survivesKill9(page, 'firefox');
  await page.close();
});
