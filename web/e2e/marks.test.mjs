// Love and ban in Debian's Chromium against a real `drift serve`: the owner loves the track
// playing (the heart shows it and the counts are there), bans it (the page moves off it and
// the Banned panel lists it), then undoes the ban from that panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndChromium, until, clickPlay, waitPlaying } from './harness.mjs';

const env = serverAndChromium();

test('love, ban the playing track and undo the ban from the Banned panel', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${env.server.base}/`);
  await page.waitForFunction(() => window.drift && window.drift.boot && window.drift.owner);
  await clickPlay(page);
  await waitPlaying(page);
  const title = () => page.evaluate(() => document.getElementById('title').textContent);
  await until(async () => (await page.textContent('#counts')).includes('play'), 'the counts');
  const playing = await title();

  await page.click('#love');
  await until(async () => (await page.getAttribute('#love', 'aria-pressed')) === 'true', 'the heart');
  assert.match(await page.textContent('#counts'), /1 love\b/);

  await page.click('#ban');
  await until(() => page.isVisible('#bans-box'), 'the Banned panel');
  assert.ok((await page.textContent('#bans')).includes(playing), 'the banned track is listed');
  await until(async () => (await title()) !== playing, 'the page to move off the banned track');
  const bans = await (await fetch(`${env.server.base}/api/bans`)).json();
  assert.equal(bans.bans.length, 1);

  await page.click('#bans .unban');
  await until(async () => !(await page.isVisible('#bans-box')), 'the Banned panel to empty');
  const after = await (await fetch(`${env.server.base}/api/bans`)).json();
  assert.deepEqual(after.bans, []);
  await context.close();
});
