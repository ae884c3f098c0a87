// Getting to a station however early the page opens: how each kind of failure is read (a
// server that answers is never "cannot reach"), the wait loop through a first scan and an
// absent server, the JSON fetch's error shapes, and the library watch under music.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, waitForStation, watchLibrary } from '../js/startup.js';
import { json } from '../js/session.js';
import { Backoff } from '../js/backoff.js';

const LIB = { known: 2000, analysed: 12, failed: 0, pending: 1988, tracks: 12, scanning: true, phase: 'analysing', rate: 4, etaSeconds: 497 };
const noJitter = () => new Backoff({ base: 1000, max: 8000, jitter: 0 });
const httpError = (status, body, retryAfter) => Object.assign(new Error(body?.error ?? `HTTP ${status}`), { status, code: body?.code, body, retryAfter });

test('no answer at all is "cannot reach", retried with a growing delay', () => {
  const b = noJitter();
  const err = Object.assign(new Error('no answer from the server'), { unreachable: true });
  const steps = [1, 2, 3, 4, 5].map(() => classify(err, b));
  assert.ok(steps.every((s) => s.event === 'unreachable'));
  assert.deepEqual(steps.map((s) => s.delayMs), [1000, 2000, 4000, 8000, 8000]);
  assert.equal(steps[0].message, 'Cannot reach Drift: no answer from the server. Trying again in 1 s.');
});

test('503 "preparing" is the server talking: its library, at the pace it asks for', () => {
  const b = noJitter();
  b.next(); b.next();
  const body = { error: 'Drift is preparing your library: 12 of 2000 files analysed', code: 'preparing', library: LIB };
  const step = classify(httpError(503, body, 1), b);
  assert.equal(step.event, 'preparing');
  assert.equal(step.library, LIB);
  assert.equal(step.delayMs, 1000);
  assert.equal(step.message, body.error);
  assert.doesNotMatch(step.message, /cannot reach/i);
  assert.equal(b.attempt, 0, 'an answer resets the no-answer backoff');
  assert.equal(classify(httpError(503, body, 0), b).delayMs, 500, 'never hammers');
  assert.equal(classify(httpError(503, body, 3600), b).delayMs, 5000, 'progress stays fresh');
  assert.equal(classify(httpError(503, body), b).delayMs, 1000, 'no header: once a second');
});

test('any other answer shows what the server says, never "cannot reach"', () => {
  const step = classify(httpError(503, { error: 'the store is locked', code: 'unavailable' }, 7), noJitter());
  assert.equal(step.event, 'unavailable');
  assert.equal(step.message, 'Drift says: the store is locked. Trying again in 7 s.');
  assert.equal(step.delayMs, 7000);
  const bare = classify(httpError(502, null), noJitter());
  assert.equal(bare.event, 'unavailable');
  assert.equal(bare.message, 'The server answered HTTP 502. Trying again in 1 s.');
  for (const s of [step, bare]) assert.doesNotMatch(s.message, /cannot reach/i);
});

test('503 "full" says the station is full and waits for a place at the server\'s pace, then less often', () => {
  const b = noJitter();
  const body = { error: 'The station is full: 50 sessions are playing. Try again in a minute.', code: 'full', playing: 50, retryAfter: 60 };
  const steps = [1, 2, 3, 4].map(() => classify(httpError(503, body, 60), b));
  assert.ok(steps.every((s) => s.event === 'unavailable' && s.library === null));
  assert.deepEqual(steps.map((s) => s.delayMs), [60000, 120000, 240000, 240000]);
  assert.equal(steps[0].message, 'The station is full: 50 sessions are playing. Drift tries again by itself in 60 s.');
  assert.equal(steps[2].message, 'The station is full: 50 sessions are playing. Drift tries again by itself in 4 min.');
  b.reset();
  const bare = classify(httpError(503, { error: 'full', code: 'full' }), b);
  assert.equal(bare.delayMs, 60000, 'no Retry-After: a minute');
  assert.match(bare.message, /^The station is full: every place is taken\./);
  assert.equal(classify(httpError(503, body, 0), noJitter()).delayMs, 1000, 'never hammers');
  const one = classify(httpError(503, { ...body, playing: 1 }, 60), noJitter());
  assert.match(one.message, /^The station is full: 1 session is playing\./);
  const spread = new Backoff({ base: 1000, max: 8000, jitter: 0.25, random: () => 0 });
  assert.equal(classify(httpError(503, body, 60), spread).delayMs, 45000, 'spread like any backoff');
});

test('429 "rate_limited" waits exactly until the server takes a new session again', () => {
  const body = { error: 'Too many new sessions from this address: try again in 12 s.', code: 'rate_limited', retryAfter: 12 };
  const step = classify(httpError(429, body, 12), noJitter());
  assert.equal(step.event, 'unavailable');
  assert.equal(step.delayMs, 12000);
  assert.equal(step.message, 'Too many new sessions from this address: trying again in 12 s.');
  assert.doesNotMatch(step.message, /cannot reach/i);
  assert.equal(classify(httpError(429, body), noJitter()).delayMs, 10000, 'no header: 10 s');
});

test('waitForStation: through no answer and a first scan to the station, with no reload', async () => {
  const answers = [
    Object.assign(new Error('no answer'), { unreachable: true }),
    Object.assign(new Error('no answer'), { unreachable: true }),
    httpError(503, { error: 'preparing', code: 'preparing', library: { ...LIB, analysed: 0, tracks: 0 } }, 1),
    httpError(503, { error: 'preparing', code: 'preparing', library: LIB }, 1),
    { fingerprint: 'abc' },
  ];
  const seen = [];
  const slept = [];
  const boot = await waitForStation({
    resolve: async () => {
      const a = answers.shift();
      if (a instanceof Error) throw a;
      return a;
    },
    onWait: (step) => seen.push(step.event),
    sleep: async (ms) => { slept.push(ms); },
    backoff: noJitter(),
  });
  assert.deepEqual(boot, { fingerprint: 'abc' });
  assert.deepEqual(seen, ['unreachable', 'unreachable', 'preparing', 'preparing']);
  assert.deepEqual(slept, [1000, 2000, 1000, 1000]);
});

/** A fetch stand-in: `Response`s or `null` for "no answer". */
const fakeFetch = (answer) => async () => {
  if (answer === null) throw new TypeError('Failed to fetch');
  return answer;
};

test('json(): a failed fetch is unreachable; an HTTP error keeps status, code, body and Retry-After', async () => {
  await assert.rejects(json('/x', {}, fakeFetch(null)), (e) => e.unreachable === true && e.status === undefined);
  const body = { error: 'Drift is preparing your library: 12 of 2000 files analysed', code: 'preparing', library: LIB };
  const r = new Response(JSON.stringify(body), { status: 503, headers: { 'retry-after': '1', 'content-type': 'application/json' } });
  await assert.rejects(json('/x', {}, fakeFetch(r)), (e) => {
    assert.equal(e.status, 503);
    assert.equal(e.code, 'preparing');
    assert.equal(e.retryAfter, 1);
    assert.deepEqual(e.body.library, LIB);
    assert.equal(e.message, body.error);
    assert.ok(!e.unreachable);
    return true;
  });
  const html = new Response('<h1>Bad gateway</h1>', { status: 502 });
  await assert.rejects(json('/x', {}, fakeFetch(html)), (e) => e.status === 502 && e.message === 'HTTP 502' && e.body === null);
  assert.deepEqual(await json('/x', {}, fakeFetch(new Response('{"a":1}'))), { a: 1 });
});

test('watchLibrary: reports while scanning, then null once, then stops', async () => {
  const statuses = [{ ...LIB, analysed: 300 }, { ...LIB, analysed: 340 }, { ...LIB, scanning: false, phase: 'idle', pending: 0 }];
  const seen = [];
  let calls = 0;
  await watchLibrary({
    getStatus: async () => { calls++; return statuses.shift(); },
    onStatus: (s) => seen.push(s ? s.analysed : null),
    sleep: async () => {},
  });
  assert.deepEqual(seen, [300, 340, null]);
  assert.equal(calls, 3);
});

test('watchLibrary: a server without /api/library ends it quietly; a blip is retried', async () => {
  const seen = [];
  await watchLibrary({ getStatus: async () => null, onStatus: (s) => seen.push(s), sleep: async () => {} });
  assert.deepEqual(seen, [null]);
  const answers = [new Error('blip'), { ...LIB, scanning: false }];
  const seen2 = [];
  const waits = [];
  await watchLibrary({
    getStatus: async () => { const a = answers.shift(); if (a instanceof Error) throw a; return a; },
    onStatus: (s) => seen2.push(s),
    sleep: async (ms) => { waits.push(ms); },
    everyMs: 1000,
  });
  assert.deepEqual(seen2, [null]);
  assert.deepEqual(waits, [2000]);
});

test('watchLibrary: stops when told to', async () => {
  let stop = false;
  const seen = [];
  await watchLibrary({
    getStatus: async () => LIB,
    onStatus: (s) => { seen.push(s); stop = true; },
    sleep: async () => {},
    stopped: () => stop,
  });
  assert.equal(seen.length, 1);
});
