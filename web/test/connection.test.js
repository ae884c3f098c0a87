// Tests for connection.js with a fake fetch: the URL it asks for, how each answer is read
// (410, 404 on Drift and on a relay, a garbled position), and a stream that reads only when the
// sink has room, ends on a silent pipe, and closes exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, DRIFT, RELAY, streamUrl, retryDelay } from '../js/connection.js';

const BASE = 'http://drift.test/';
globalThis.location ??= { href: BASE };

/** A response body the test feeds chunk by chunk, counting reads and cancels. */
function body() {
  const b = { reads: 0, cancels: 0, queue: [], waiting: null };
  b.reader = {
    read() {
      b.reads += 1;
      if (b.queue.length) return Promise.resolve(b.queue.shift());
      return new Promise((r) => { b.waiting = r; });
    },
    cancel() { b.cancels += 1; return Promise.resolve(); },
  };
  b.feed = (item) => (b.waiting ? (b.waiting(item), (b.waiting = null)) : b.queue.push(item));
  return b;
}

function response(status, headers = {}, b = body()) {
  return { status, ok: status >= 200 && status < 300, body: { getReader: () => b.reader }, headers: new Headers(headers), b };
}

/** A fetch that answers from `answers` in turn and records each URL and option set. */
function fakeFetch(answers) {
  const calls = [];
  const fetch = async (url, opts) => {
    calls.push({ url, opts });
    const a = answers.shift();
    if (a instanceof Error) throw a;
    return a;
  };
  return { fetch, calls };
}

test('the URL carries from= only where the server keeps positions', () => {
  assert.equal(streamUrl('/stream/abc', 12.5, DRIFT, BASE), 'http://drift.test/stream/abc?from=12.500000');
  assert.equal(streamUrl('/stream/abc', null, DRIFT, BASE), 'http://drift.test/stream/abc');
  assert.equal(streamUrl('http://relay:8000/drift', 12.5, RELAY, BASE), 'http://relay:8000/drift');
});

test('a stream answer: its position, its ICY interval, and ICY asked for', async () => {
  const { fetch, calls } = fakeFetch([response(200, { 'x-drift-position': '61.0199', 'icy-metaint': '16000' })]);
  const c = new Connection({ fetch });
  const { stream } = await c.open('/stream/abc', 61.02, { icy: true });
  assert.equal(stream.start, 61.0199);
  assert.equal(stream.metaint, 16000);
  assert.equal(calls[0].opts.headers['Icy-MetaData'], '1');
  assert.equal(calls[0].opts.cache, 'no-store');
});

test('410: the position is gone, asked again from the play point; 404 is final on Drift only', async () => {
  const { fetch, calls } = fakeFetch([response(410), response(200, { 'x-drift-position': '90' })]);
  const { stream } = await new Connection({ fetch }).open('/stream/abc', 5);
  assert.equal(stream.start, 90);
  assert.deepEqual(calls.map((c) => c.url), ['http://drift.test/stream/abc?from=5.000000', 'http://drift.test/stream/abc']);
  const drift = await new Connection(fakeFetch([response(404)])).open('/stream/abc', null);
  assert.deepEqual(drift, { final: 'this session no longer exists' });
  const relay = await new Connection({ ...fakeFetch([response(404)]), policy: RELAY }).open('http://relay/m', null);
  assert.equal(relay.status, 404);
  assert.equal(relay.final, undefined, 'a relay mount missing while its source reconnects is an outage');
  const relayOk = await new Connection({ ...fakeFetch([response(200)]), policy: RELAY }).open('http://relay/m', null);
  assert.equal(relayOk.stream.start, null, 'a relay has no positions');
});

test('no answer and garbled positions are failures to retry, not streams', async () => {
  const none = await new Connection(fakeFetch([new TypeError('Failed to fetch')])).open('/s', null);
  assert.deepEqual(none, { failed: 'Failed to fetch' });
  const garbled = response(200, { 'x-drift-position': 'NaN' });
  const bad = await new Connection(fakeFetch([garbled])).open('/s', null);
  assert.equal(bad.failed, 'the server sent no usable position');
});

test('a stream reads only when there is room, and closes once when the reader stops', async () => {
  const r = response(200, { 'x-drift-position': '0' });
  const { stream } = await new Connection(fakeFetch([r])).open('/s', null);
  let open;
  let room = new Promise((res) => { open = res; });
  const got = [];
  const reading = (async () => {
    for await (const c of stream.chunks(() => room)) {
      got.push(c[0]);
      if (got.length === 2) break;
    }
  })();
  await new Promise((res) => setTimeout(res, 5));
  assert.equal(r.b.reads, 0, 'no read while the sink has no room');
  room = Promise.resolve();
  open();
  r.b.feed({ value: Uint8Array.of(1), done: false });
  r.b.feed({ value: Uint8Array.of(2), done: false });
  await reading;
  assert.deepEqual(got, [1, 2]);
  assert.equal(stream.closed, true);
  assert.equal(r.b.cancels, 1);
  stream.close();
  assert.equal(r.b.cancels, 1, 'closed exactly once');
});

test('a silent pipe and an ended stream are losses; a close from outside ends quietly', async () => {
  const silent = response(200, { 'x-drift-position': '0' });
  const a = (await new Connection({ ...fakeFetch([silent]), silentMs: 20 }).open('/s', null)).stream;
  await assert.rejects(async () => { for await (const _ of a.chunks()) { /* none come */ } }, /no data from the server/);
  assert.equal(a.closed, true, 'the silent connection is closed, not left open');
  const ended = response(200, { 'x-drift-position': '0' });
  const b = (await new Connection(fakeFetch([ended])).open('/s', null)).stream;
  ended.b.feed({ value: undefined, done: true });
  await assert.rejects(async () => { for await (const _ of b.chunks()) { /* none */ } }, /the stream ended/);
  const closed = response(200, { 'x-drift-position': '0' });
  const c = (await new Connection(fakeFetch([closed])).open('/s', null)).stream;
  const run = (async () => { for await (const _ of c.chunks()) { /* none */ } })();
  c.close();
  closed.b.feed({ value: undefined, done: true });
  await run; // no throw
});

test('retry waits: backoff, capped by a quarter of the buffer, and short once it is empty', () => {
  assert.equal(retryDelay(8000, 20), 5000);
  assert.equal(retryDelay(8000, 1), 500);
  assert.equal(retryDelay(1000, 20), 1000);
  assert.equal(retryDelay(8000, 0), 1000);
  assert.equal(retryDelay(600, 0), 600);
});

test('a read deadline that fires long after it was set (a frozen page) gives the pipe more time', async () => {
  const r = response(200, { 'x-drift-position': '0' });
  const s = (await new Connection({ ...fakeFetch([r]), silentMs: 20 }).open('/s', null)).stream;
  const realNow = Date.now;
  let skew = 0;
  Date.now = () => realNow() + skew;
  try {
    const next = s.chunks()[Symbol.asyncIterator]().next();
    await new Promise((res) => setTimeout(res, 1)); // the read and its deadline are set
    skew = 5000; // the page slept 5 s between setting the deadline and its firing
    await new Promise((res) => setTimeout(res, 30));
    r.b.feed({ value: Uint8Array.of(7), done: false });
    assert.deepEqual((await next).value, Uint8Array.of(7));
  } finally {
    Date.now = realNow;
    s.close();
  }
});
