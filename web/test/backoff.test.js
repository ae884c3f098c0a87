// Tests for backoff.js: exact delays with a deterministic random source, the cap, the jitter
// bounds, and the attempt counting of the Backoff class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, Backoff } from '../js/backoff.js';

const middle = () => 0.5; // jitter factor exactly 1
const lowest = () => 0; // factor 1 − jitter
const highest = () => 1 - 2 ** -53; // just below 1 + jitter

test('doubles from base and caps at max (no jitter at random = 0.5)', () => {
  const got = [0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(n, { random: middle }));
  assert.deepEqual(got, [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
});

test('jitter spreads each delay by ± the fraction', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, { random: lowest })),
    [375, 750, 1500, 3000, 6000, 6000],
  );
  const high = [0, 4, 9].map((n) => backoffDelay(n, { random: highest }));
  // (1 + jitter × (1 − 2^-52)) rounds to exactly 1.25 in floating point.
  assert.ok(high[0] > 624.99 && high[0] <= 625, `${high[0]}`);
  assert.ok(high[1] > 9999.99 && high[1] <= 10000, `${high[1]}`);
  assert.equal(high[1], high[2]);
  assert.equal(backoffDelay(1, { random: () => 0.75 }), 1125); // 1000 × (1 + 0.25 × 0.5)
});

test('custom base, max and jitter', () => {
  const opts = { base: 100, max: 1000, jitter: 0.1, random: lowest };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts)),
    [90, 180, 360, 720, 900, 900],
  );
  const none = [0, 1, 2].map((n) => backoffDelay(n, { jitter: 0, random: highest }));
  assert.deepEqual(none, [500, 1000, 2000]);
});

test('never below 0, never above max × (1 + jitter), whatever random returns', () => {
  for (const value of [-5, -1, 0, 0.3, 0.999, 1, 7, NaN]) {
    for (const attempt of [0, 3, 10, 1000]) {
      const d = backoffDelay(attempt, { random: () => value });
      assert.ok(d >= 0 && d <= 10000, `random ${value} → ${d}`);
    }
  }
  assert.equal(backoffDelay(2, { random: () => 7 }), 2500); // clamped to + jitter
  assert.equal(backoffDelay(2, { random: () => -5 }), 1500); // clamped to − jitter
  assert.equal(backoffDelay(0, { jitter: 3, random: lowest }), 0); // −300 % floors at 0
  assert.equal(backoffDelay(1, { random: () => NaN }), 1000); // no usable draw: no jitter
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(i % 12);
    assert.ok(d >= 375 && d <= 10000, `Math.random gave ${d}`);
  }
});

test('odd attempts count as the nearest sensible one', () => {
  assert.equal(backoffDelay(-3, { random: middle }), 500);
  assert.equal(backoffDelay(NaN, { random: middle }), 500);
  assert.equal(backoffDelay(2.7, { random: middle }), 2000);
  assert.equal(backoffDelay(1e9, { random: middle }), 8000);
  assert.equal(backoffDelay(Infinity, { random: middle }), 500);
});

test('undefined options fall back to the defaults', () => {
  const opts = { base: undefined, max: undefined, jitter: undefined, random: middle };
  assert.equal(backoffDelay(3, opts), 4000);
  assert.equal(backoffDelay(3, { random: middle }), 4000);
});

test('Backoff: next() walks the schedule and counts attempts; reset() starts over', () => {
  const b = new Backoff({ base: 200, max: 1000, random: middle });
  assert.equal(b.attempt, 0);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [200, 400, 800, 1000, 1000]);
  assert.equal(b.attempt, 5);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.next(), 200);
  assert.equal(b.attempt, 1);
});

test('Backoff: draws one random number per delay, and works with no options', () => {
  const draws = [0, 0.5, 1 - 2 ** -53, 0.25];
  let calls = 0;
  const b = new Backoff({ random: () => draws[calls++] });
  assert.equal(b.next(), 375);
  assert.equal(b.next(), 1000);
  assert.ok(b.next() > 2499.99);
  assert.equal(b.next(), 4000 * 0.875);
  assert.equal(calls, 4);
  const plain = new Backoff();
  const d = plain.next();
  assert.ok(d >= 375 && d < 625, `${d}`);
});

test('Backoff keeps its own copy of the options', () => {
  const opts = { base: 100, random: middle };
  const b = new Backoff(opts);
  opts.base = 5000;
  assert.equal(b.next(), 100);
});
