// Figures for docs/PERFORMANCE.md, not a test: time from click to the first audible frame
// (median of 10), time from a kill -9'd server being back to the page playing again, and time
// from a skip click to the next track being heard — in Debian's Chromium on loopback.
// Run: `npm run bench` (uses target/release/drift when present, else the debug build).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DriftServer, chromium, until, sleep, waitPlaying, ROOT } from '../e2e/harness.mjs';

if (!process.env.DRIFT_BIN && existsSync(join(ROOT, 'target/release/drift'))) {
  process.env.DRIFT_BIN = join(ROOT, 'target/release/drift');
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${Math.round(median(xs))} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))}, n=${xs.length})`;

const server = await new DriftServer().start();
const browser = await chromium();

async function page(url) {
  const context = await browser.newContext();
  const p = await context.newPage();
  await p.goto(url);
  await p.waitForFunction(() => window.drift && window.drift.boot);
  return { context, page: p };
}

/** Click → the element's time first moves (the first frame is being heard). */
async function clickToAudio(url) {
  const { context, page: p } = await page(url);
  await p.evaluate(() => {
    const a = document.getElementById('audio');
    window.__moved = null;
    let first = null;
    const check = () => {
      if (first === null) first = a.currentTime;
      else if (a.currentTime > first && window.__moved === null) window.__moved = performance.now();
      if (window.__moved === null) requestAnimationFrame(check);
    };
    document.getElementById('play').addEventListener('click', () => { window.__clicked = performance.now(); requestAnimationFrame(check); });
  });
  await p.click('#play');
  const ms = await until(() => p.evaluate(() => window.__moved && window.__moved - window.__clicked), 'audio', 10000, 10);
  await context.close();
  return ms;
}

const owner = await page(`${server.base}/`);
const fp = await owner.page.evaluate(() => window.drift.boot.fingerprint);
const clicks = [];
for (let i = 0; i < 10; i++) clicks.push(await clickToAudio(`${server.base}/?session=${fp}`));
console.log(`click → first audible frame: ${fmt(clicks)}`);

await owner.page.click('#play');
await waitPlaying(owner.page);
await until(() => owner.page.evaluate(() => window.drift.ctl.bufferedAhead > 10), 'a lead', 20000);
const skips = [];
for (let i = 0; i < 5; i++) {
  await sleep(3000);
  const ms = await owner.page.evaluate(async () => {
    const title = document.getElementById('title').textContent;
    const heard = new Promise((resolve) => {
      const on = (e) => {
        if (e.detail.title !== title) {
          window.drift.ctl.removeEventListener('metadata', on);
          resolve(performance.now());
        }
      };
      window.drift.ctl.addEventListener('metadata', on);
    });
    const t0 = performance.now();
    document.getElementById('skip').click();
    return (await heard) - t0;
  });
  skips.push(ms);
}
console.log(`skip click → next track heard: ${fmt(skips)}`);

const backs = [];
for (let i = 0; i < 3; i++) {
  await sleep(4000);
  await server.kill();
  await sleep(5000);
  await server.start();
  const up = Date.now();
  await until(() => owner.page.evaluate(() => window.drift.ctl.state === 'playing' && !window.drift.ctl.recovering), 'playing again', 30000, 10);
  backs.push(Date.now() - up);
}
console.log(`server back up (after kill -9, 5 s down) → page playing from the new server: ${fmt(backs)}`);

await browser.close();
await server.stop();
server.cleanup();
