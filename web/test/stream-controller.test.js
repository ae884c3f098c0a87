// Tests for stream-controller.js with its real parts (connection, demuxer, MediaSource sink,
// state machine) on a fake fetch and fake media objects: frames land in order across a lost
// connection, the reconnection asks for the frame after the newest held, an `online` event
// retries at once instead of waiting out the backoff, and stop leaves no connection open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamController } from '../js/stream-controller.js';
import { MP3_GRID } from '../js/frame-history.js';
import { concatBytes } from '../js/bytes.js';
import { FakeAudio, FakeMediaSource, withObjectUrls } from './fake-media.js';
import { frame192 } from './stream-build.js';

const until = async (fn, what, ms = 2000) => {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

class Mse extends FakeMediaSource {
  static isTypeSupported(mime) { return mime === 'audio/mpeg'; }
}

/** A response whose body the test feeds; `open` counts bodies not yet cancelled or ended. */
function server() {
  const s = { calls: [], open: 0, bodies: [], down: false };
  s.fetch = async (url, { signal }) => {
    s.calls.push({ url: String(url), at: Date.now() });
    if (s.down) throw new TypeError('Failed to fetch');
    const from = new URL(url).searchParams.get('from');
    const startIdx = from === null ? 0 : MP3_GRID.indexOf(Number(from));
    const body = { queue: [], waiting: null, done: false };
    const end = () => { if (!body.done) { body.done = true; s.open -= 1; } };
    body.push = (item) => (body.waiting ? (body.waiting(item), (body.waiting = null)) : body.queue.push(item));
    body.frames = (first, n) => body.push({ value: concatBytes(Array.from({ length: n }, (_, i) => frame192(first + i))), done: false });
    body.close = () => body.push({ value: undefined, done: true });
    signal.addEventListener('abort', () => { end(); body.push({ value: undefined, done: true }); });
    const reader = {
      read: () => (body.queue.length ? Promise.resolve(body.queue.shift()) : new Promise((r) => { body.waiting = r; }))
        .then((item) => { if (item.done) end(); return item; }),
      cancel: async () => end(),
    };
    s.open += 1;
    s.bodies.push(body);
    const headers = new Headers({ 'x-drift-position': String(MP3_GRID.posOf(startIdx)) });
    return { status: 200, ok: true, headers, body: { getReader: () => reader } };
  };
  return s;
}

async function playing(opts = {}) {
  const srv = server();
  const saved = { fetch: globalThis.fetch, MediaSource: globalThis.MediaSource, location: globalThis.location };
  Object.assign(globalThis, { fetch: srv.fetch, MediaSource: Mse, location: { href: 'http://drift.test/' } });
  const audio = new FakeAudio();
  const ctl = new StreamController(audio, { backoff: { base: 5, max: 10, jitter: 0 }, ...opts });
  await withObjectUrls(async () => ctl.start({ streamUrl: '/stream/abc', probe: async () => ({ instanceId: 'one' }), instanceId: 'one' }));
  ctl.sink.ms.open();
  const restore = () => { ctl.stop(); Object.assign(globalThis, saved); };
  return { srv, ctl, audio, restore };
}

const frames = (ctl) => ctl.appendLog.map((e) => [e.first, e.last]);

test('a lost connection resumes from the frame after the newest held: no gap, no repeat, one connection', async () => {
  const { srv, ctl, restore } = await playing();
  try {
    await until(() => srv.bodies.length === 1, 'the first request');
    srv.bodies[0].frames(0, 10);
    await until(() => ctl.history.nextIndex === 10, 'frames 0–9');
    srv.bodies[0].close(); // the server went away mid-stream
    await until(() => srv.calls.length === 2 && srv.bodies.length === 2, 'a reconnection');
    // Just inside frame 10: the server starts there, whatever its rounding.
    assert.equal(MP3_GRID.indexOf(Number(new URL(srv.calls[1].url).searchParams.get('from'))), 10);
    srv.bodies[1].frames(10, 5);
    await until(() => ctl.appendLog.at(-1)?.last === 14, 'frames 10–14 appended');
    assert.deepEqual(frames(ctl), [[0, 9], [10, 14]], 'each connection one run, the second right after the first');
    assert.equal(srv.open, 1, 'one connection open');
    assert.equal(ctl.recovering, false);
    ctl.stop();
    assert.equal(srv.open, 0, 'stop leaves no connection open');
  } finally {
    restore();
  }
});

test('offline drops the connection at once; online retries at once instead of waiting out the backoff', async () => {
  const target = new EventTarget();
  const saved = { add: globalThis.addEventListener, remove: globalThis.removeEventListener };
  globalThis.addEventListener = target.addEventListener.bind(target);
  globalThis.removeEventListener = target.removeEventListener.bind(target);
  const { srv, ctl, restore } = await playing({ backoff: { base: 60000, max: 60000, jitter: 0 } });
  try {
    await until(() => srv.bodies.length === 1, 'the first request');
    srv.bodies[0].frames(0, 10);
    await until(() => ctl.history.nextIndex === 10, 'frames 0–9');
    srv.down = true;
    target.dispatchEvent(new Event('offline'));
    assert.equal(ctl.state, 'reconnecting');
    await until(() => srv.open === 0, 'the dead connection closed');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(srv.calls.length, 1, 'no attempt before the (long) backoff');
    srv.down = false;
    const onlineAt = Date.now();
    target.dispatchEvent(new Event('online'));
    await until(() => srv.calls.length === 2 && srv.bodies.length === 2, 'an attempt on `online`', 1000);
    assert.ok(srv.calls[1].at - onlineAt < 100);
    srv.bodies[1].frames(10, 3);
    await until(() => ctl.appendLog.at(-1)?.last === 12, 'frames 10–12 appended');
    assert.deepEqual(frames(ctl).flat(), [0, 9, 10, 12]);
    assert.equal(srv.open, 1);
  } finally {
    restore();
    Object.assign(globalThis, { addEventListener: saved.add, removeEventListener: saved.remove });
  }
});

test('trouble during an attempt that then connects: the dropped connection is not taken for success', async () => {
  const target = new EventTarget();
  const saved = { add: globalThis.addEventListener, remove: globalThis.removeEventListener };
  globalThis.addEventListener = target.addEventListener.bind(target);
  globalThis.removeEventListener = target.removeEventListener.bind(target);
  const { srv, ctl, restore } = await playing();
  try {
    await until(() => srv.bodies.length === 1, 'the first request');
    srv.bodies[0].frames(0, 10);
    await until(() => ctl.history.nextIndex === 10, 'frames 0–9');
    // The next answer waits until released, so the network can go away while it is on its way.
    const inner = srv.fetch;
    let release;
    const held = new Promise((r) => { release = r; });
    srv.fetch = async (...a) => { srv.fetch = inner; await held; return inner(...a); };
    globalThis.fetch = (...a) => srv.fetch(...a);
    srv.bodies[0].close();
    await until(() => ctl.retry?.running, 'an attempt on its way');
    target.dispatchEvent(new Event('offline'));
    release();
    await until(() => srv.bodies.length === 3 && srv.open === 1, 'a further attempt that connects');
    assert.equal(ctl.recovering, false);
    srv.bodies[2].frames(10, 3);
    await until(() => ctl.appendLog.at(-1)?.last === 12, 'frames 10–12 appended');
    assert.deepEqual(frames(ctl).flat(), [0, 9, 10, 12]);
  } finally {
    restore();
    Object.assign(globalThis, { addEventListener: saved.add, removeEventListener: saved.remove });
  }
});
