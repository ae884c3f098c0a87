// WebKitGTK (Safari's engine on Linux) for the end-to-end tests: Debian's WebKitWebDriver under
// Xvfb, driving MiniBrowser, spoken to with a small W3C WebDriver client (JSON over HTTP with
// node's fetch, no npm package). MiniBrowser has no headless mode, hence the virtual display;
// it refuses a script-started `play()`, while a WebDriver element click counts as a gesture.
// No sound server is started: WebKit's GStreamer then plays to a sink that follows the system
// clock, so audio time advances as on a real device. (Through a PulseAudio null sink, as Firefox
// uses, audio time stood still ~1.3 s after the first frame of every start, which put the page
// 1.6-1.8 s behind the server's play point and made every skip land ~2 s late.)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { freePort, until } from './harness.mjs';

export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Why WebKit tests cannot run here (a string for `test(..., { skip })`), or false. */
export function webkitMissing() {
  for (const p of [WEBKIT_DRIVER, MINIBROWSER, '/usr/bin/xvfb-run']) if (!existsSync(p)) return `no ${p}`;
  return false;
}

/** One WebDriver session: a MiniBrowser window whose page the test drives. */
export class WebKitPage {
  constructor(base, sessionId, stop) {
    this.base = base; // the driver's URL
    this.session = `${base}/session/${sessionId}`;
    this.stop = stop;
  }

  /** A WebDriver command; throws with the driver's error and message when it fails. */
  async cmd(method, path, body) {
    const r = await fetch(`${this.session}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await r.json();
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  }

  /** Navigates and waits for the document to load. */
  goto(url) {
    return this.cmd('POST', '/url', { url });
  }

  /**
   * Runs `fn` (a function, or the source of an expression) in the page with JSON `args` and
   * returns its JSON result; a promise it returns is awaited (the driver's script timeout).
   */
  evaluate(fn, ...args) {
    const script = typeof fn === 'function'
      ? `return (${fn}).apply(null, arguments);`
      : `return (${fn});`;
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** A real click (a user gesture) on the first element matching `selector`. */
  async click(selector) {
    const found = await this.cmd('POST', '/element', { using: 'css selector', value: selector });
    const id = Object.values(found)[0];
    await this.cmd('POST', `/element/${id}/click`, {});
  }

  /** Ends the session and the driver, browser and display with it. */
  async close() {
    try {
      await this.cmd('DELETE', '');
    } catch {
      // The browser is already gone: the process group goes below anyway.
    }
    await this.stop();
  }
}

/**
 * Starts WebKitWebDriver under `xvfb-run -a` on a free loopback port (in a process group of its
 * own, so `close()` ends the driver, the X server and MiniBrowser together) and opens a session.
 */
export async function webkit() {
  const port = await freePort();
  const child = spawn('xvfb-run', ['-a', WEBKIT_DRIVER, `--port=${port}`, '--host=local'], {
    detached: true,
    stdio: ['ignore', 'ignore', process.env.E2E_DEBUG ? 'inherit' : 'ignore'],
    // No PulseAudio: not another helper's daemon, nor one autospawned for the user.
    env: { ...process.env, PULSE_SERVER: 'unix:/nonexistent/drift-no-sound-server' },
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exited;
    clearTimeout(t);
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${child.exitCode})`);
      try {
        return (await (await fetch(`${base}/status`)).json()).value?.ready;
      } catch {
        return false;
      }
    }, 'WebKitWebDriver to listen', 20000, 100);
    const r = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          },
        },
      }),
    });
    const json = await r.json();
    if (!r.ok) throw new Error(`no WebKit session: ${json.value?.error}: ${json.value?.message}`);
    return new WebKitPage(base, json.value.sessionId, stop);
  } catch (e) {
    await stop();
    throw e;
  }
}
