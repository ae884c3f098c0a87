// The journey and album UI in Debian's Chromium against a real `drift serve`: "Drift to…" a
// searched track shows "On the way to X — n tracks left" with the planned path ending on X,
// Cancel ends it (the server agrees); an album found by search plays from the next track.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serverAndChromium, until, ARTIFACTS } from './harness.mjs';

const env = serverAndChromium();

const json = async (url) => (await fetch(url)).json();

test('drift to a track, see the way there, cancel; play an album', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${env.server.base}/`);
  await page.waitForFunction(() => window.drift && window.drift.boot && window.drift.owner === true);
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  const state = () => json(`${env.server.base}/api/sessions/${fp}`);

  // A destination that is neither playing nor next.
  const { tracks } = await json(`${env.server.base}/api/tracks?limit=50`);
  const s = await state();
  const dest = tracks.find((t) => t.id !== s.nowPlaying?.id && t.id !== s.next?.id);
  await page.fill('#journey-minutes', '3');
  await page.fill('#journey-search', dest.title);
  await page.click(`[data-destination="${dest.id}"]`);
  await until(() => page.evaluate(() => !document.getElementById('journey-status').hidden), 'the journey shown');
  const text = await page.textContent('#journey-text');
  assert.match(text, new RegExp(`^On the way to ${dest.title}.* — \\d+ tracks? left$`));
  const path = await page.$$eval('#journey-path li', (lis) => lis.map((li) => li.textContent));
  assert.ok(path.length >= 1, 'a planned path is listed');
  assert.ok(path.at(-1).startsWith(dest.title), `the path ends on the destination: ${path}`);
  const planned = (await state()).plan;
  assert.equal(planned.kind, 'journey');
  assert.equal(planned.destination.id, dest.id);
  await page.screenshot({ path: join(ARTIFACTS, 'journey.png'), fullPage: true });

  await page.click('#journey-cancel');
  await until(() => page.evaluate(() => document.getElementById('journey-status').hidden), 'the journey gone');
  assert.equal((await state()).plan, null);

  // An album, found by its title.
  const { albums } = await json(`${env.server.base}/api/albums`);
  const album = albums[0];
  await page.fill('#album-search', album.title);
  await page.click(`[data-album="${album.id}"]`);
  await until(() => page.evaluate(() => document.getElementById('journey-text').textContent.startsWith('Playing the album')), 'the album shown');
  const after = await state();
  assert.equal(after.plan.kind, 'album');
  assert.equal(after.next.album, album.title);
  await context.close();
});
