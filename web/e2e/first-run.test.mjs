// The first run as a user sees it, in Debian's Chromium against a real `drift serve`: the page
// opened the moment the server prints its URL, on a fresh data dir whose library takes several
// seconds to analyse, with Play pressed at once. The page must show the library's progress
// (never "Cannot reach Drift", never a "Ready" pill with nothing to play) and start the audio
// by itself once tracks exist, without a reload. And a page whose server does not answer at
// load keeps retrying and plays by itself once it does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DriftServer, chromium, slowLibrary, until, sleep, waitPlaying, ARTIFACTS } from './harness.mjs';

let browser;
const servers = [];

before(async () => {
  slowLibrary(); // generated before any clock starts
  browser = await chromium();
});

after(async () => {
  await browser?.close();
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
});

/**
 * Records what the listener sees every 50 ms from the first script on: the pill, the library
 * panel, the error box, and whether any visible text says "Cannot reach".
 */
function recordWhatIsShown() {
  window.__shown = [];
  const sample = () => {
    const $ = (id) => document.getElementById(id);
    if (!$('status-text')) return;
    const lib = $('library');
    window.__shown.push({
      at: performance.now(),
      pill: $('status-text').textContent,
      state: $('status').dataset.state,
      library: lib && !lib.hidden ? $('library-text').textContent : null,
      detail: lib && !lib.hidden ? $('library-detail').textContent : null,
      line: $('library-line') && !$('library-line').hidden ? $('library-line').textContent : null,
      cannotReach: /cannot reach/i.test(document.body.innerText),
      time: $('audio').currentTime,
    });
  };
  document.addEventListener('DOMContentLoaded', sample);
  setInterval(sample, 50);
}

async function openPage(url) {
  const context = await browser.newContext();
  await context.addInitScript(recordWhatIsShown);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  if (process.env.E2E_DEBUG) page.on('console', (m) => console.log(`[page] ${m.text()}`));
  return { context, page };
}

const ANALYSED = /^Preparing your library — [\d,]+ of [\d,]+ analysed$/;

test('first run: opened at the first moment, Play at once: progress meanwhile, then music by itself', async () => {
  const server = new DriftServer({ library: slowLibrary(), args: ['--scan-threads', '1'] });
  servers.push(server);
  const started = Date.now();
  await server.start({ wait: 'url' });
  const { context, page } = await openPage(server.base);
  await page.goto(`${server.base}/`);
  await page.click('#play');
  const clicked = Date.now();
  await page.evaluate(() => { window.__sameDocument = true; }); // a reload would lose it
  // The progress, with real numbers, while nothing can play yet.
  await until(() => page.evaluate((re) => new RegExp(re).test(document.getElementById('library-text').textContent)
    && !document.getElementById('library').hidden, ANALYSED.source), 'the progress text', 30000, 50);
  // The first file analysed makes the first track, so the count is most often still 0 here.
  await page.screenshot({ path: join(ARTIFACTS, 'chromium-first-run-preparing.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, 'chromium-first-run-phone.png') });
  await page.setViewportSize({ width: 1280, height: 720 });
  // No second click, no reload: the audio starts by itself.
  await until(() => page.evaluate(() => window.drift.ctl.active), 'the player to start by itself', 120000, 100);
  await waitPlaying(page, 30000);
  const heardAfter = Date.now() - clicked;
  const shown = await page.evaluate(() => window.__shown);
  assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was never reloaded');
  const preparing = shown.filter((s) => s.library !== null);
  console.log(`first run: Play clicked ${clicked - started} ms after the server started, music ${heardAfter} ms after the click; ` +
    `${preparing.length} samples of progress, e.g. "${preparing.at(-1)?.library}" / "${preparing.at(-1)?.detail}"`);
  assert.ok(preparing.some((s) => ANALYSED.test(s.library)), 'the progress text was shown');
  assert.ok(preparing.every((s) => s.state === 'preparing' && s.pill.startsWith('Preparing')),
    `the pill said ${JSON.stringify([...new Set(preparing.map((s) => s.pill))])} while preparing`);
  assert.ok(preparing.some((s) => s.pill === 'Preparing — plays when ready'), 'the pill says Play is on');
  assert.ok(shown.every((s) => s.pill !== 'Ready'), 'Play was pressed before anything could play: the pill never says Ready');
  const unreachable = shown.filter((s) => s.cannotReach);
  assert.equal(unreachable.length, 0, `"Cannot reach" was shown for a server that answers: ${JSON.stringify(unreachable[0])}`);
  assert.ok(await page.evaluate(() => document.getElementById('library').hidden), 'the progress panel is gone once music plays');
  assert.notEqual(await page.evaluate(() => document.getElementById('title').textContent), 'Press play to tune in');
  // While analysis goes on under the music, the small line; gone when the scan is done.
  const health = async () => (await fetch(`${server.base}/health`)).json();
  if (!(await health()).scanComplete) {
    await until(() => page.evaluate(() => !document.getElementById('library-line').hidden), 'the library line', 10000).catch(() => {});
    const line = await page.evaluate(() => (document.getElementById('library-line').hidden ? null : document.getElementById('library-line').textContent));
    if (line) {
      assert.match(line, /^Library: [\d,]+ of [\d,]+ analysed$/);
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-first-run-growing.png') });
    }
    console.log(`first run: under the music the page says ${JSON.stringify(line)}`);
    await until(async () => (await health()).scanComplete, 'the scan to end', 180000, 500);
  }
  await until(() => page.evaluate(() => document.getElementById('library-line').hidden), 'the library line to go', 10000);
  await waitPlaying(page, 10000);
  await context.close();
});

test('a server that does not answer at load: the page retries by itself and plays once it answers', async () => {
  const server = new DriftServer();
  servers.push(server);
  await server.start();
  const { context, page } = await openPage(server.base);
  // The page itself loads; every call to the server fails as if nothing listened...
  await context.route(/\/(api|stream|events)\//, (route) => route.abort('connectionrefused'));
  await page.goto(`${server.base}/`);
  await page.evaluate(() => { window.__sameDocument = true; }); // a reload would lose it
  await until(() => page.evaluate(() => window.drift.ctl.state === 'unreachable'), 'the page to notice', 10000);
  assert.match(await page.textContent('#error-text'), /^Cannot reach Drift: no answer from the server/);
  assert.notEqual(await page.textContent('#status-text'), 'Ready');
  await page.click('#play');
  await page.screenshot({ path: join(ARTIFACTS, 'chromium-unreachable.png') });
  // ...then really nothing listens for a while (kill -9), and the server comes back.
  await server.kill();
  await context.unroute(/\/(api|stream|events)\//);
  await sleep(3000);
  assert.equal(await page.evaluate(() => window.drift.boot), null, 'no station while the server is away');
  await server.start();
  await until(() => page.evaluate(() => window.drift.ctl.active), 'the page to start by itself', 20000);
  await waitPlaying(page, 20000);
  assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was never reloaded');
  assert.ok(await page.evaluate(() => document.getElementById('error').hidden), 'the error is gone');
  assert.equal(await page.textContent('#status-text'), 'Playing');
  await context.close();
});
