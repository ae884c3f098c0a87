// Every kind of trouble, one path (issue 13, point 2): the page in Debian's Chromium
// (`?codec=mp3`, MediaSource) through a proxy (proxy.mjs) in front of one `drift serve`, under
// ten offline/online cycles in a minute (CDP network emulation and the proxy cutting and
// refusing connections), a tab hidden for two minutes (timers throttled, then the page frozen),
// an `online` event while a long backoff is pending, a `kill -9` of the server while the tab is
// hidden and again while it is frozen, and a proxy that stalls the body without closing it. After each: at most
// one stream connection open at the proxy, the appended frames one run with no gap or repeat,
// the page playing again, and the titles it shows those the server says are audible.
//
// Chromium is started here with a DevTools port and driven through `connectOverCDP` with
// `noDefaults`: Playwright's own pages turn on focus emulation, which keeps a page visible (and
// makes `Page.setWebLifecycleState` frozen a no-op), so a tab could never be hidden. Each page
// has a window and a proxy of its own (a minimised window is a hidden tab; one page's trouble
// never touches another's); the proxies front the same server, each page has its own session.
// The hidden tab (2 min) runs beside the active page's scenarios to keep the file short.
// Chromium neither throttles the timers of a hidden page that plays audio nor lets its audio
// run while frozen (it pauses the element): the timers of a hidden tab are throttled here by a
// shim in the page, and a frozen tab's buffer does not run out.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import {
  DriftServer, CHROMIUM_ARGS, until, sleep, startSampler, longestFreeze, appendGaps, clickPlay,
  waitPlaying,
} from './harness.mjs';
import { TroubleProxy } from './proxy.mjs';

let server;
let chrome; // { browser, context, cdp (browser-level), close() }

/** Debian's Chromium with a DevTools port, attached to by Playwright without its defaults. */
async function chromiumOverCdp() {
  const profile = mkdtempSync(join(tmpdir(), 'drift-trouble-chromium-'));
  const child = spawn('/usr/bin/chromium', [...CHROMIUM_ARGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr.setEncoding('utf8');
  const endpoint = await new Promise((resolve, reject) => {
    child.stderr.on('data', (t) => {
      said = (said + t).slice(-4000);
      const m = said.match(/DevTools listening on (ws:\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${said}`)));
  });
  child.stderr.resume();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  const context = browser.contexts()[0];
  const cdp = await browser.newBrowserCDPSession();
  return {
    browser, context, cdp,
    async close() {
      await browser.close().catch(() => {});
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

before(async () => {
  server = await new DriftServer().start();
  chrome = await chromiumOverCdp();
});

after(async () => {
  await server?.stop();
  server?.cleanup();
  await chrome?.close();
});

let opening = Promise.resolve(); // one window opens at a time: each caller gets its own page

/**
 * A page in a window of its own, loaded through a proxy of its own, playing MP3 with a full
 * lead. It records its metadata events and its fetches (for the `online` timing).
 */
async function playingPage(label) {
  const proxy = await new TroubleProxy(server.port).listen();
  const page = await (opening = opening.then(async () => {
    const opened = chrome.context.waitForEvent('page');
    await chrome.cdp.send('Target.createTarget', { url: 'about:blank', newWindow: true });
    const made = await opened;
    await made.waitForLoadState();
    return made;
  }));
  page.on('pageerror', (e) => console.error(`${label}: page error:`, e.message));
  if (process.env.E2E_DEBUG) page.on('console', (m) => console.log(`[${label}] ${m.text()}`));
  await page.addInitScript(() => {
    // Chromium does not throttle the timers of a hidden page that plays audio; the issue's
    // backgrounded tab has them at once a second or less. While `__throttle` is on, every
    // timer of the page waits at least 1 s.
    const [later, cancel] = [window.setTimeout.bind(window), window.clearTimeout.bind(window)];
    const slow = (ms) => (window.__throttle ? Math.max(1000, ms ?? 0) : ms);
    window.setTimeout = (fn, ms, ...args) => later(fn, slow(ms), ...args);
    const loops = new Map();
    let nextLoop = 1e6;
    window.setInterval = (fn, ms, ...args) => {
      const id = nextLoop++;
      const run = () => {
        loops.set(id, later(run, slow(ms)));
        fn(...args);
      };
      loops.set(id, later(run, slow(ms)));
      return id;
    };
    window.clearInterval = (id) => {
      cancel(loops.get(id));
      loops.delete(id);
    };
    window.__fetches = [];
    const plain = window.fetch;
    window.fetch = function (input, init) {
      window.__fetches.push([performance.now(), String(input?.url ?? input)]);
      return plain.call(this, input, init);
    };
  });
  await page.goto(`${proxy.base}/?codec=mp3`);
  await page.waitForFunction(() => window.drift && window.drift.boot);
  await page.evaluate(() => {
    window.__meta = [];
    window.__states = [];
    const ctl = window.drift.ctl;
    for (const e of ['online', 'offline']) addEventListener(e, () => window.__states.push([Math.round(performance.now()), e, '']));
    ctl.addEventListener('metadata', (e) => window.__meta.push([performance.now(), ctl.position, e.detail.title]));
    ctl.addEventListener('state', (e) => window.__states.push([Math.round(performance.now()), `${e.detail.from}→${e.detail.state}`, e.detail.reason ?? '']));
  });
  const cdp = await chrome.context.newCDPSession(page);
  await cdp.send('Network.enable');
  const { windowId } = await cdp.send('Browser.getWindowForTarget');
  await clickPlay(page);
  await waitPlaying(page, 20000);
  await startSampler(page);
  await until(() => page.evaluate(() => window.drift.ctl.bufferedAhead > 10), `${label}: a full lead`, 20000);
  const fp = await page.evaluate(() => window.drift.boot.fingerprint);
  return { page, proxy, cdp, windowId, fp, label };
}

/** CDP network emulation of this page only: the page hears `offline` / `online`. */
const offline = (p, on) => p.cdp.send('Network.emulateNetworkConditions', {
  offline: on, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
});

/** Hides the tab (its window minimised), its timers throttled to once a second or less. */
async function hide(p) {
  await p.cdp.send('Browser.setWindowBounds', { windowId: p.windowId, bounds: { windowState: 'minimized' } });
  await until(() => p.page.evaluate(() => document.visibilityState === 'hidden'), `${p.label}: hidden`, 5000);
  await p.page.evaluate(() => { window.__throttle = true; });
}

/** Thaws and shows the tab again, its timers at full speed. */
async function show(p) {
  await p.cdp.send('Page.setWebLifecycleState', { state: 'active' });
  await p.page.evaluate(() => { window.__throttle = false; });
  await p.cdp.send('Browser.setWindowBounds', { windowId: p.windowId, bounds: { windowState: 'normal' } });
  await until(() => p.page.evaluate(() => document.visibilityState === 'visible'), `${p.label}: visible`, 5000);
}

const state = (p) => p.page.evaluate(() => {
  const c = window.drift.ctl;
  return { state: c.state, recovering: c.recovering, conn: c.conn, ahead: c.bufferedAhead, position: c.position };
});

/** The server's track starts for a session: [{ start, title }], oldest first. */
async function serverTracks(fp) {
  const s = await (await fetch(`${server.base}/api/sessions/${fp}`)).json();
  const starts = (s.history ?? []).map((t) => ({ start: t.position, title: t.title }));
  for (const t of [s.nowPlaying, s.next]) {
    if (t && typeof t.start === 'number' && !starts.some((x) => Math.abs(x.start - t.start) < 0.5)) starts.push({ start: t.start, title: t.title });
  }
  return starts.sort((a, b) => a.start - b.start);
}

const trackAt = (tracks, pos) => tracks.filter((t) => t.start <= pos).at(-1)?.title;

/**
 * Titles follow the audio: the title shown is the one the server says is audible at the
 * page's position, and every title the page announced since `sinceMs` (page clock) was
 * audible where the page was when it announced it (within 1.5 s: the watchdog's tick).
 */
async function assertTitles(p, sinceMs) {
  await until(async () => {
    const [shown, pos] = await p.page.evaluate(() => [document.getElementById('title').textContent, window.drift.ctl.position]);
    const want = trackAt(await serverTracks(p.fp), pos);
    return want !== undefined && shown.includes(want);
  }, `${p.label}: the title shown is the one the server says is audible`, 15000, 250).catch(async (e) => {
    const [shown, pos] = await p.page.evaluate(() => [document.getElementById('title').textContent, window.drift.ctl.position]);
    throw new Error(`${e.message}: shown "${shown}" at ${pos.toFixed(1)} s; server: ${JSON.stringify(await serverTracks(p.fp))}`);
  });
  const tracks = await serverTracks(p.fp);
  const meta = await p.page.evaluate((t) => window.__meta.filter((m) => m[0] >= t), sinceMs);
  for (const [, pos, title] of meta) {
    const ok = [pos, pos - 1.5, pos + 1.5].some((x) => trackAt(tracks, x) === title);
    assert.ok(ok, `${p.label}: announced "${title}" at ${pos.toFixed(1)} s, where the server has "${trackAt(tracks, pos)}"`);
  }
  return meta.length;
}

/**
 * After trouble: the page is playing again (not recovering), its proxy holds at most one
 * stream connection over the next second, the appended frames are one unbroken run, and the
 * titles follow the audio. Prints how long the audio stood still and the connections used.
 */
async function assertSettled(p, sinceMs, totalBefore) {
  await until(async () => {
    const s = await state(p);
    return s.state === 'playing' && !s.recovering;
  }, `${p.label}: back to playing`, 30000).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(await state(p))}; states ${JSON.stringify(await p.page.evaluate(() => window.__states.slice(-12)))}`);
  });
  await waitPlaying(p.page, 15000);
  let most = 0;
  for (let i = 0; i < 10; i++) {
    most = Math.max(most, p.proxy.openStreams);
    await sleep(100);
  }
  assert.ok(most <= 1, `${p.label}: ${most} stream connections open at the proxy once settled`);
  assert.deepEqual(await appendGaps(p.page), [], `${p.label}: appended frames have a gap or a repeat`);
  const announced = await assertTitles(p, sinceMs);
  const freeze = await longestFreeze(p.page, sinceMs);
  console.log(`${p.label}: settled; ${p.proxy.totalStreams - totalBefore} stream connections since the trouble began, at most ${p.proxy.peakStreams} open at once ever; audio stood still for at most ${Math.round(freeze)} ms; ${announced} titles announced`);
}

/** How long the tab of scenario 2 stays hidden (the 2 minutes; shorter to debug). */
const HIDDEN_MS = Number(process.env.TROUBLE_HIDDEN_MS ?? 120000);

const pageNow = (p) => p.page.evaluate(() => performance.now());

describe('trouble', { concurrency: true }, () => {
  test('2. a tab hidden for 2 minutes (1 min throttled, 1 min frozen), then shown, plays on on one connection', async () => {
    const p = await playingPage('hidden tab');
    const [since, before] = [await pageNow(p), p.proxy.totalStreams];
    const [t0, c0] = await p.page.evaluate(() => [document.getElementById('audio').currentTime, window.drift.ctl.conn]);
    const hiddenAt = await pageNow(p);
    await hide(p);
    await sleep(HIDDEN_MS / 2);
    const ticks = await p.page.evaluate((t) => window.__samples.filter((x) => x[0] > t).length, hiddenAt);
    console.log(`hidden tab: the page's 100 ms sampler ran ${ticks} times in ${HIDDEN_MS / 2000} s hidden`);
    // Hidden, not frozen: the audio went on, with timers throttled, on the one connection.
    const [t1] = await p.page.evaluate(() => [document.getElementById('audio').currentTime]);
    assert.ok(t1 - t0 > (HIDDEN_MS / 2000) * 0.8, `hidden tab: the audio advanced ${(t1 - t0).toFixed(1)} s in ${HIDDEN_MS / 2000} s`);
    assert.ok(p.proxy.openStreams <= 1, `hidden tab: ${p.proxy.openStreams} stream connections open while hidden`);
    await p.cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await sleep(HIDDEN_MS / 2);
    const kept = p.proxy.openStreams === 1 && p.proxy.totalStreams === before;
    await show(p);
    const after = await state(p);
    console.log(`hidden tab: shown with ${after.ahead.toFixed(1)} s buffered; connection ${c0} before, ${after.conn} after; states ${JSON.stringify(await p.page.evaluate(() => window.__states.slice(-8)))}`);
    await assertSettled(p, since, before);
    // Chromium pauses the audio of a frozen page: its buffer did not run out, and the server
    // kept the connection (the proxy never closed it), so there was nothing to reconnect for.
    if (!(after.ahead > 1 && kept)) console.log('hidden tab: the buffer ran out or the connection was closed while frozen: a reconnection was due');
    if (after.ahead > 1 && kept) {
      assert.equal(p.proxy.totalStreams, before, `hidden tab: shown with ${after.ahead.toFixed(1)} s buffered and its connection open, the page opened ${p.proxy.totalStreams - before} new stream connections; states ${JSON.stringify(await p.page.evaluate(() => window.__states.slice(-8)))}`);
    }
    await p.page.close();
    await p.proxy.close();
  });

  describe('an active tab', { concurrency: 1 }, () => {
    let p;
    before(async () => { p = await playingPage('active tab'); });
    after(async () => { await p?.page.close(); await p?.proxy.close(); });

    test('1. ten offline/online cycles of 1–3 s within a minute (CDP offline, proxy cut and refusal, both)', async () => {
      const [since, before] = [await pageNow(p), p.proxy.totalStreams];
      const started = Date.now();
      const offFor = [1, 2, 3, 1, 2, 3, 1, 2, 3, 2];
      for (let i = 0; i < offFor.length; i++) {
        const how = ['cdp', 'proxy', 'both'][i % 3];
        if (how !== 'proxy') await offline(p, true);
        if (how !== 'cdp') {
          p.proxy.refuse(true);
          p.proxy.cutAll();
        }
        await sleep(offFor[i] * 1000);
        if (how !== 'proxy') await offline(p, false);
        p.proxy.refuse(false);
        await sleep(3000);
      }
      assert.ok(Date.now() - started < 60000, 'the ten cycles took more than a minute');
      assert.ok(p.proxy.totalStreams - before >= 5, `only ${p.proxy.totalStreams - before} new stream connections: the cycles did not reach the page`);
      await assertSettled(p, since, before);
    });

    test('3. an online event reconnects at once, not when the pending backoff ends', async () => {
      await until(() => p.page.evaluate(() => window.drift.ctl.bufferedAhead > 12), 'active tab: a full lead', 20000);
      const [since, before] = [await pageNow(p), p.proxy.totalStreams];
      const offAt = await pageNow(p);
      await offline(p, true);
      // Attempts are the page's bootstrap probes; wait for one that came ≥ 1.8 s after the one
      // before, so the wait now pending is a long one, and go online just after it failed.
      const probes = () => p.page.evaluate((t) => window.__fetches.filter((f) => f[0] > t && f[1].includes('/stream/bootstrap')).map((f) => f[0]), offAt);
      let gap;
      let onlineAt;
      try {
        gap = await until(async () => {
          const a = await probes();
          const g = a.length >= 2 ? a.at(-1) - a.at(-2) : 0;
          return g >= 1800 && (await pageNow(p)) - a.at(-1) > 200 ? g : false;
        }, 'active tab: a long backoff pending', 20000, 50).catch(async (e) => {
          throw new Error(`${e.message}: probes at ${JSON.stringify((await probes()).map(Math.round))}, offline at ${Math.round(offAt)}; states ${JSON.stringify(await p.page.evaluate(() => window.__states.slice(-10)))}`);
        });
      } finally {
        onlineAt = Date.now();
        await offline(p, false);
      }
      const conn = await until(() => p.proxy.log.find((e) => e.stream && e.at >= onlineAt), 'active tab: a new stream connection', 15000, 10);
      const took = conn.at - onlineAt;
      console.log(`online: the new stream connection reached the proxy ${took} ms after going online; the last backoff was ${Math.round(gap)} ms (${(await probes()).length} probes while offline)`);
      const story = await p.page.evaluate((t) => [...window.__fetches.filter((f) => f[0] > t).map((f) => [Math.round(f[0] - t), f[1].slice(0, 60)]), ...window.__states.filter((x) => x[0] > t - 8000).map((x) => [Math.round(x[0] - t), x[1], x[2]])].sort((a, b) => a[0] - b[0]), offAt);
      assert.ok(took < gap / 2, `the page reconnected ${took} ms after the online event, with ${Math.round(gap)} ms backoffs: it waited the backoff out; what the page did since going offline (ms): ${JSON.stringify(story)}`);
      assert.ok(conn.url.includes('from='), `the reconnection did not resume with ?from=: ${conn.url}`);
      await assertSettled(p, since, before);
    });

    test('5. a stalled body (open but silent) is noticed, dropped at the proxy, and resumed with ?from=', async () => {
      await until(() => p.page.evaluate(() => window.drift.ctl.bufferedAhead > 8), 'active tab: a lead', 20000);
      const [since, before] = [await pageNow(p), p.proxy.totalStreams];
      await until(() => p.proxy.openStreams === 1, 'active tab: one stream connection before the stall', 15000);
      const stalledAt = Date.now();
      p.proxy.stall(true);
      await until(() => p.proxy.stalledOpen === 0, 'active tab: the page to drop the stalled connection', 30000, 50);
      const dropped = Date.now() - stalledAt;
      const left = (await state(p)).ahead;
      const next = await until(() => p.proxy.log.find((e) => e.stream && e.at >= stalledAt), 'active tab: a new stream connection', 15000, 50);
      console.log(`stall: the page dropped the stalled connection after ${dropped} ms with ${left.toFixed(1)} s still buffered, and asked for ${next.url}`);
      // Its watchdog noticed the silent pipe, not the listener hearing the buffer run dry.
      assert.ok(left > 1, `the page dropped the stalled connection only when its buffer ran dry (${left.toFixed(1)} s left)`);
      assert.ok(next.url.includes('from='), `the reconnection did not resume with ?from=: ${next.url}`);
      await assertSettled(p, since, before);
    });
  });
});

test('4. kill -9 of the server while the tab is hidden (throttled), and again while it is frozen; then shown', async () => {
  const p = await playingPage('killed while hidden');
  const [since, before] = [await pageNow(p), p.proxy.totalStreams];
  // Hidden, timers throttled: the page finds the restarted server by itself, still hidden.
  let connBefore = (await state(p)).conn;
  await hide(p);
  await server.kill();
  await sleep(5000);
  await server.start();
  await until(() => p.page.evaluate((c) => window.drift.ctl.appendLog.some((e) => e.conn > c), connBefore), 'killed while hidden: audio from a new connection while hidden', 30000);
  assert.equal(await p.page.evaluate(() => document.visibilityState), 'hidden');
  await assertSettled(p, since, before);
  // Frozen: nothing runs in the page while the server dies and comes back; shown again, it
  // finds its connection dead and resumes where its buffer ends.
  p.label = 'killed while frozen';
  const [since2, before2] = [await pageNow(p), p.proxy.totalStreams];
  connBefore = (await state(p)).conn;
  await p.cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  await server.kill();
  await sleep(5000);
  await server.start();
  await sleep(3000);
  await show(p);
  await until(() => p.page.evaluate((c) => window.drift.ctl.appendLog.some((e) => e.conn > c), connBefore), 'killed while frozen: audio from a new connection', 30000);
  await assertSettled(p, since2, before2);
  await p.page.close();
  await p.proxy.close();
});
