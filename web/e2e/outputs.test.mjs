// The Icecast output section in Debian's Chromium against a real `drift serve`: the owner adds
// an output to a stand-in server that refuses the password; the page shows it failed with the
// reason, clears the password field and never shows the password; a listener who is not the
// owner does not see the section.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { serverAndChromium, until } from './harness.mjs';

const env = serverAndChromium();
let refuser;

before(async () => {
  // Answers every source request as Icecast does a wrong password.
  refuser = createServer((s) => {
    s.once('data', () => s.end('HTTP/1.0 401 Authentication Required\r\n\r\n'));
    s.on('error', () => {});
  });
  await new Promise((r) => refuser.listen(0, '127.0.0.1', r));
});

after(() => refuser?.close());

test('the owner adds an Icecast output and sees why it failed; the password is never shown', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${env.server.base}/`);
  await page.waitForFunction(() => window.drift && window.drift.boot && window.drift.owner);
  await until(() => page.isVisible('#outputs-box'), 'the Icecast output section');
  await page.click('#outputs-box summary');
  const port = refuser.address().port;
  await page.fill('#output-address', `icecast://127.0.0.1:${port}/drift.mp3`);
  await page.fill('#output-password', 'hunter2-secret');
  await page.click('#output-form button[type=submit]');
  await until(async () => (await page.textContent('#outputs')).includes('failed'), 'the failed state');
  const text = await page.textContent('#outputs');
  assert.match(text, /refused the source password/);
  assert.match(text, new RegExp(`icecast://source@127.0.0.1:${port}/drift.mp3`));
  assert.equal(await page.inputValue('#output-password'), '');
  assert.equal(await page.getAttribute('#output-password', 'type'), 'password');
  assert.ok(!(await page.content()).includes('hunter2-secret'), 'the password is not in the page');

  // A listener who is not the owner does not see the section.
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  const other = await env.browser.newContext();
  const listener = await other.newPage();
  await listener.goto(`${env.server.base}/?session=${fp}`);
  await listener.waitForFunction(() => window.drift && window.drift.boot && window.drift.owner === false);
  await until(async () => !(await listener.isVisible('#outputs-box')), 'the section to stay hidden');

  // Removing it empties the list.
  await page.click('#outputs button');
  await until(async () => (await page.$$('#outputs li')).length === 0, 'the list to empty');
  await other.close();
  await context.close();
});
