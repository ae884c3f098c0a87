// The page pointed at an Icecast mount fed by Drift (`?relay=URL`, as docs/SCALING.md sets up
// for relays), in Debian's Chromium: Drift pushes the station to Debian's icecast2 with
// `--icecast-out`; a front proxy serves both on one origin (as a site's reverse proxy does:
// icecast2 does not answer the CORS preflight that the `Icy-MetaData` header needs); the page
// plays the mount through MediaSource, shows the title Icecast's ICY blocks carry (the one the
// server says is playing), and when icecast2 is killed and started again it reconnects by
// itself and plays on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftServer, chromium, freePort, until, sleep, waitPlaying } from './harness.mjs';

const ICECAST = '/usr/bin/icecast2';
const PASSWORD = 'relaytest';
let icecast;
let server;
let browser;
let front;

/** Debian's icecast2 on 127.0.0.1 (dropping to nobody when run as root, which it requires). */
class Icecast {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'drift-icecast-'));
  }

  async start() {
    this.port = this.port ?? (await freePort());
    const root = statSync('/proc/self').uid === 0;
    const security = root
      ? '<security><chroot>0</chroot><changeowner><user>nobody</user><group>nogroup</group></changeowner></security>'
      : '<security><chroot>0</chroot></security>';
    const config = join(this.dir, 'icecast.xml');
    writeFileSync(config, `<icecast>
  <location>loopback</location><admin>drift@localhost</admin>
  <limits><clients>20</clients><sources>2</sources><burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size><source-timeout>10</source-timeout></limits>
  <authentication><source-password>${PASSWORD}</source-password><admin-user>admin</admin-user><admin-password>${PASSWORD}-admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${this.port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>${this.dir}</basedir><logdir>${this.dir}</logdir><webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>-</accesslog><errorlog>-</errorlog><loglevel>2</loglevel></logging>
  ${security}
</icecast>
`);
    const log = openSync(join(this.dir, 'stderr.log'), 'a');
    this.child = spawn(ICECAST, ['-c', config], { stdio: ['ignore', log, log] });
    this.exited = once(this.child, 'exit');
    await until(async () => {
      try {
        return (await fetch(`${this.base}/status-json.xsl`)).ok;
      } catch {
        return false;
      }
    }, 'icecast2 to answer', 15000);
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async kill() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One origin for the page: `/relay/…` goes to icecast2, everything else to Drift. */
function frontProxy() {
  const proxy = createServer((req, res) => {
    const relay = req.url.startsWith('/relay/');
    const upstream = request({
      host: '127.0.0.1',
      port: relay ? icecast.port : server.port,
      path: relay ? req.url.slice('/relay'.length) : req.url,
      method: req.method,
      headers: req.headers,
    }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

before(async () => {
  if (!existsSync(ICECAST)) return;
  icecast = new Icecast();
  await icecast.start();
  server = await new DriftServer({
    args: ['--icecast-out', `icecast://source:${PASSWORD}@127.0.0.1:${icecast.port}/drift.mp3`],
  }).start();
  front = await frontProxy();
  browser = await chromium();
});

after(async () => {
  await browser?.close();
  front?.closeAllConnections();
  front?.close();
  await server?.stop();
  server?.cleanup();
  await icecast?.kill();
  icecast?.cleanup();
});

const mount = () => `${icecast.base}/drift.mp3`;
const frontBase = () => `http://127.0.0.1:${front.address().port}`;

/** Whether the mount answers a listener (icecast2 takes no HEAD). */
async function mountUp() {
  const ac = new AbortController();
  try {
    return (await fetch(mount(), { signal: ac.signal })).ok;
  } catch {
    return false;
  } finally {
    ac.abort();
  }
}

/** The title the page shows and the one Drift says plays now are the same. */
async function titleFollows(page, what) {
  await until(async () => {
    const shown = await page.evaluate(() => document.getElementById('title').textContent);
    const s = await (await fetch(`${server.base}/api/sessions/default`)).json();
    return s.nowPlaying && shown === s.nowPlaying.title;
  }, what, 20000);
}

test('the page plays an Icecast mount of the station with its ICY titles, and rides out an Icecast restart', { skip: !existsSync(ICECAST) && 'no icecast2' }, async () => {
  // The output is streaming once the mount exists.
  await until(mountUp, 'the mount', 20000);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${frontBase()}/?relay=${encodeURIComponent('/relay/drift.mp3')}`);
  await page.waitForFunction(() => window.drift && window.drift.boot);
  await page.click('#play');
  await waitPlaying(page, 20000);
  const mode = await page.evaluate(() => window.drift.ctl.mode);
  assert.deepEqual([mode.kind, mode.codec], ['mse', 'mp3']);
  await titleFollows(page, 'the title from the mount');
  const sources = await page.evaluate(() => window.drift.ctl.cues.cues.map((c) => c.info.source));
  assert.ok(sources.length > 0 && sources.every((s) => s === 'icy'), `titles came from: ${sources}`);

  // icecast2 dies and comes back on the same port: Drift's output reconnects, the page too.
  const connBefore = await page.evaluate(() => window.drift.ctl.conn);
  await icecast.kill();
  await sleep(2000);
  await icecast.start();
  await until(() => page.evaluate((c) => window.drift.ctl.conn > c
    && window.drift.ctl.appendLog.some((e) => e.conn > c), connBefore), 'audio from the restarted mount', 60000);
  await waitPlaying(page, 30000);
  await titleFollows(page, 'the title after the restart');
  await context.close();
});
