// End-to-end test support: a generated demo library (and a slow-to-analyse one for first-run
// tests), a real `drift serve` on a loopback port (killable with SIGKILL and restartable on the
// same port), Debian's Chromium through playwright-core, and small polling helpers. Artifacts
// (screenshots) go to target/e2e.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { before, after } from 'node:test';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const ARTIFACTS = join(ROOT, 'target', 'e2e');
mkdirSync(ARTIFACTS, { recursive: true });

/** The drift binary: $DRIFT_BIN, else the one `cargo test` built, else a release build. */
export function driftBin() {
  const candidates = [process.env.DRIFT_BIN, join(ROOT, 'target/debug/drift'), join(ROOT, 'target/release/drift')];
  const bin = candidates.find((p) => p && existsSync(p));
  if (!bin) throw new Error('no drift binary: run `cargo build` first (or set DRIFT_BIN)');
  return bin;
}

/** A small demo library, generated once and shared by every e2e test file. */
export function library() {
  const dir = join(ROOT, 'target', 'e2e-library');
  if (!existsSync(join(dir, '.done'))) {
    rmSync(dir, { recursive: true, force: true });
    execFileSync(driftBin(), ['demo-library', dir, '--tracks', '6', '--seed', '3'], { stdio: 'inherit' });
    execFileSync('touch', [join(dir, '.done')]);
  }
  return dir;
}

/**
 * A library whose first analysis takes several seconds even on a fast machine: `count`
 * music-like files of `minutes` each (two tones a fifth apart, pink noise, a pulse at a tempo),
 * made with Debian's ffmpeg once and reused. Analysis costs about the same per audio second
 * whatever the codec, so long MP3s at a low bitrate give a slow first track in little disk
 * (a 30-minute file is ~14 MB; as FLAC it would be ~150 MB).
 */
export function slowLibrary({ count = 3, minutes = 30 } = {}) {
  const dir = join(ROOT, 'target', 'e2e-firstrun-library');
  const spec = `mp3 64k v1 ${count}x${minutes}min`;
  const marker = join(dir, '.done');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== spec) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const seconds = Math.round(minutes * 60);
    for (let i = 0; i < count; i++) {
      const f = [196, 220, 247, 262, 294, 330, 349][i % 7];
      const bpm = 84 + 11 * i;
      const src = (expr) => ['-f', 'lavfi', '-i', `${expr}:sample_rate=44100:duration=${seconds}`];
      execFileSync('ffmpeg', [
        '-y', '-v', 'error',
        ...src(`sine=frequency=${f}`), ...src(`sine=frequency=${(f * 1.498).toFixed(1)}`),
        ...src(`anoisesrc=color=pink:amplitude=0.06:seed=${i + 1}`),
        '-filter_complex', `[0][1][2]amix=inputs=3,tremolo=f=${(bpm / 60).toFixed(3)}:d=0.6,aformat=channel_layouts=stereo`,
        '-metadata', `title=Long Drift ${i + 1}`, '-metadata', 'artist=First Run', '-metadata', 'album=Slow Library',
        '-c:a', 'libmp3lame', '-b:a', '64k', join(dir, `long-drift-${i + 1}.mp3`),
      ], { stdio: 'inherit' });
    }
    writeFileSync(marker, spec);
  }
  return dir;
}

export async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function until(fn, what, timeoutMs = 15000, everyMs = 100) {
  const started = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A `drift serve` process on 127.0.0.1:`port` with its own data dir. */
export class DriftServer {
  constructor({ port, dataDir, args = [], library: lib } = {}) {
    this.port = port;
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'drift-e2e-'));
    this.args = args;
    this.library = lib;
    this.output = ''; // what the server printed (stdout), for tests that read it
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the server and waits until its library is scanned and playable, or, with
   * `{ wait: 'url' }`, only until it prints its URL (the first moment a user could open it).
   */
  async start({ wait = 'ready' } = {}) {
    this.port = this.port ?? (await freePort());
    // Pages and tests create sessions faster than a person: no per-client limit unless asked.
    const limit = this.args.includes('--sessions-per-minute') ? [] : ['--sessions-per-minute', '0'];
    const args = ['serve', '--library', this.library ?? library(), '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`, ...limit, ...this.args];
    this.child = spawn(driftBin(), args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DRIFT_LOG: process.env.DRIFT_LOG ?? 'warn' } });
    this.exited = once(this.child, 'exit');
    // Always drained, so a chatty server never blocks on a full pipe.
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text) => {
      this.output = (this.output + text).slice(-20000);
      if (process.env.E2E_DEBUG) process.stdout.write(`[drift] ${text}`);
    });
    if (wait === 'url') {
      const url = `http://127.0.0.1:${this.port}`;
      await until(() => {
        if (this.child.exitCode !== null) throw new Error(`drift serve exited (${this.child.exitCode}): ${this.output}`);
        return this.output.includes(url);
      }, 'the server to print its URL', 30000, 10);
      return this;
    }
    await until(async () => {
      try {
        const r = await fetch(`${this.base}/health`);
        const h = await r.json();
        return h.tracks > 0 && h.scanComplete === true;
      } catch {
        return false;
      }
    }, 'the server to be ready', 60000, 100);
    return this;
  }

  /** `kill -9`: no shutdown code runs. */
  async kill() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }

  cleanup() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Debian's Chromium, driven by playwright-core (each launch gets a fresh profile). */
export async function chromium() {
  const { chromium: pw } = await import('playwright-core');
  return pw.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

export const FIREFOX = '/usr/bin/firefox-esr';

/**
 * Debian's Firefox ESR through puppeteer-core, with a PulseAudio null sink of its own (without
 * a sound card Firefox reports a media sink error while it plays). `close()` ends both.
 */
export async function firefox() {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'drift-pulse-'));
  execFileSync('chmod', ['700', runtimeDir]);
  const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir };
  const r = spawnSync('pulseaudio', ['-D', '--exit-idle-time=-1', '--disallow-exit', '-n',
    '--load=module-null-sink sink_name=null', '--load=module-native-protocol-unix'], { env, stdio: 'ignore' });
  if (r.status !== 0) console.warn('pulseaudio did not start: Firefox may report a media sink error');
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    env,
    extraPrefsFirefox: { 'media.autoplay.default': 0, 'media.autoplay.blocking_policy': 0 },
  });
  return {
    browser,
    async close() {
      await browser.close();
      spawnSync('pulseaudio', ['--kill'], { env });
    },
  };
}

/**
 * For a test file whose tests share one `drift serve` on the demo library and one Chromium:
 * starts both before the file's first test and stops them after its last. The returned
 * object holds them (`env.server`, `env.browser`) once started.
 */
export function serverAndChromium() {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await new DriftServer().start();
    env.browser = await chromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    env.server?.cleanup();
  });
  return env;
}

/**
 * Records, inside the page, (wall ms, currentTime, state) every 100 ms, so a test can prove
 * that playback never stopped advancing across an outage.
 */
export async function startSampler(page) {
  await page.evaluate(() => {
    window.__samples = [];
    setInterval(() => {
      const a = document.getElementById('audio');
      window.__samples.push([performance.now(), a.currentTime, window.drift.ctl.state]);
    }, 100);
  });
}

/** The longest span (ms) in which currentTime did not advance, between `fromMs` and now. */
export async function longestFreeze(page, fromMs) {
  return page.evaluate((from) => {
    let worst = 0;
    let since = null;
    let lastT = null;
    for (const [ms, t] of window.__samples) {
      if (ms < from) continue;
      if (lastT === null || t > lastT + 1e-6) since = ms;
      else worst = Math.max(worst, ms - since);
      lastT = t;
    }
    return worst;
  }, fromMs);
}

/** The page's append log must be one contiguous run of frame indices: no gap, no repeat. */
export async function appendGaps(page) {
  return page.evaluate(() => {
    const log = window.drift.ctl.appendLog;
    const problems = [];
    for (let i = 1; i < log.length; i++) {
      if (log[i].first !== log[i - 1].last + 1) problems.push({ at: i, prev: log[i - 1], next: log[i] });
    }
    return problems;
  });
}

export async function clickPlay(page) {
  await page.click('#play');
  return page.evaluate(() => performance.now());
}

/** Waits until the page says `playing` and audio time moves. */
export async function waitPlaying(page, timeoutMs = 15000) {
  const t0 = await page.evaluate(() => document.getElementById('audio').currentTime);
  await until(() => page.evaluate((t) => {
    const a = document.getElementById('audio');
    return window.drift.ctl.state === 'playing' && a.currentTime > t + 0.2;
  }, t0), 'playing', timeoutMs);
}
