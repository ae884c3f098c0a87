// Tests for append-queue.js against a fake SourceBuffer that refuses overlapping operations the
// way a real one does: order, one append at a time, exclusive jobs between appends, the quota
// path losing nothing, clear(), drained() and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppendQueue } from '../js/append-queue.js';
import { FakeSourceBuffer } from './fake-media.js';

const tick = () => new Promise((r) => setTimeout(r, 0));
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

// Item i: i + 1 bytes, all equal to i, so the log shows which item each operation carried.
const item = (i) => new Uint8Array(i + 1).fill(i);

function record(queue, type) {
  const seen = [];
  queue.addEventListener(type, (e) => seen.push(e.detail));
  return seen;
}

test('appends every item in order, one at a time, with an appended event each', async () => {
  const sb = new FakeSourceBuffer({ delay: () => Math.floor(Math.random() * 3) });
  const q = new AppendQueue(sb);
  const appended = record(q, 'appended');
  const errors = record(q, 'error');
  for (let i = 0; i < 30; i++) q.push(item(i), { n: i });
  q.push(item(30)); // no meta
  await q.drained();
  assert.deepEqual(sb.appended, Array.from({ length: 31 }, (_, i) => item(i)));
  assert.equal(sb.overlaps, 0);
  assert.deepEqual(errors, []);
  assert.deepEqual(appended, [
    ...Array.from({ length: 30 }, (_, i) => ({ meta: { n: i }, byteLength: i + 1 })),
    { meta: null, byteLength: 31 },
  ]);
  assert.equal(q.pending, 0);
  assert.equal(q.pendingBytes, 0);
});

test('pending and pendingBytes count what is not yet handed to the SourceBuffer', async () => {
  const sb = new FakeSourceBuffer({ delay: () => 5 });
  const q = new AppendQueue(sb);
  q.push(new Uint8Array(10));
  q.push(new Uint8Array(20));
  q.push(new Uint8Array(30));
  assert.equal(q.pending, 3);
  assert.equal(q.pendingBytes, 60);
  await tick(); // the first append has started
  assert.equal(sb.appended.length, 1);
  assert.equal(sb.updating, true);
  assert.equal(q.pending, 2);
  assert.equal(q.pendingBytes, 50);
  await q.drained();
  assert.equal(q.pending, 0);
  assert.equal(q.pendingBytes, 0);
});

test('exclusive() runs between appends and its update ends before the next append', async () => {
  const sb = new FakeSourceBuffer({ delay: () => 2 });
  const q = new AppendQueue(sb);
  q.push(item(0));
  q.push(item(1));
  q.push(item(2));
  let sawUpdating = null;
  const result = q.exclusive(() => {
    sawUpdating = sb.updating;
    sb.remove(0, 4);
    return 'done';
  });
  const afterExclusive = result.then((v) => ({ v, updating: sb.updating }));
  assert.deepEqual(await afterExclusive, { v: 'done', updating: false });
  assert.equal(sawUpdating, false);
  await q.drained();
  assert.deepEqual(sb.log, [['append', 0], ['remove', 0, 4], ['append', 1], ['append', 2]]);
  assert.equal(sb.overlaps, 0);
});

test('exclusive() can abort and set timestampOffset; async fns and errors are handled', async () => {
  const sb = new FakeSourceBuffer({ delay: () => 1 });
  const q = new AppendQueue(sb);
  q.push(item(0));
  await q.exclusive(async () => {
    await wait(3);
    sb.abort();
    sb.timestampOffset = 12.5;
  });
  await assert.rejects(q.exclusive(() => {
    throw new Error('boom');
  }), /boom/);
  q.push(item(1)); // appends go on after a job that threw
  await q.drained();
  assert.deepEqual(sb.log, [['append', 0], ['abort'], ['offset', 12.5], ['append', 1]]);
  assert.equal(sb.overlaps, 0);
});

test('exclusive jobs and appends interleave in request order and never overlap', async () => {
  const sb = new FakeSourceBuffer({ delay: () => Math.floor(Math.random() * 3) });
  const q = new AppendQueue(sb);
  const jobs = [];
  for (let i = 0; i < 20; i++) {
    q.push(item(i));
    if (i % 4 === 0) {
      jobs.push(q.exclusive(() => {
        assert.equal(sb.updating, false);
        sb.remove(i, i + 1);
      }));
    }
    if (i % 7 === 0) await tick();
  }
  await Promise.all(jobs);
  await q.drained();
  assert.equal(sb.overlaps, 0);
  assert.deepEqual(sb.appended, Array.from({ length: 20 }, (_, i) => item(i)));
  assert.deepEqual(sb.log.filter((e) => e[0] === 'remove').map((e) => e[1]), [0, 4, 8, 12, 16]);
});

test('QuotaExceededError: evict, then retry the same item; nothing is lost', async () => {
  const sb = new FakeSourceBuffer({ quota: 2, delay: () => 1 });
  let evictions = 0;
  const q = new AppendQueue(sb, {
    // Starts a remove without waiting for it: the queue must wait before the retry.
    evict: async () => {
      evictions += 1;
      sb.remove(0, 10);
      return true;
    },
  });
  const quota = record(q, 'quota');
  q.push(item(0), 'a');
  q.push(item(1), 'b');
  await q.drained();
  assert.equal(evictions, 2);
  assert.deepEqual(sb.log, [
    ['quota', 0], ['remove', 0, 10], ['quota', 0], ['remove', 0, 10], ['append', 0], ['append', 1],
  ]);
  assert.deepEqual(sb.appended, [item(0), item(1)]);
  assert.deepEqual(quota, [
    { freed: true, retryIn: 0, attempt: 1, meta: 'a', byteLength: 1 },
    { freed: true, retryIn: 0, attempt: 2, meta: 'a', byteLength: 1 },
  ]);
  assert.equal(sb.overlaps, 0);
});

test('QuotaExceededError with nothing to evict: quota events and a delayed retry', async () => {
  const sb = new FakeSourceBuffer({ quota: 2 });
  const q = new AppendQueue(sb, { evict: async () => false, retryDelay: 20 });
  const quota = record(q, 'quota');
  const started = Date.now();
  q.push(item(0));
  q.push(item(1));
  await wait(5);
  assert.equal(q.pending, 2, 'the refused item still waits at the head');
  await q.drained();
  assert.ok(Date.now() - started >= 38, 'two retries waited 20 ms each');
  assert.deepEqual(quota.map((d) => [d.freed, d.retryIn, d.attempt]), [[false, 20, 1], [false, 20, 2]]);
  assert.deepEqual(sb.appended, [item(0), item(1)]);
});

test('an evict that keeps freeing too little gets the retry delay from the third try', async () => {
  const sb = new FakeSourceBuffer({ quota: 5 });
  const q = new AppendQueue(sb, { evict: async () => true, retryDelay: 5 });
  const quota = record(q, 'quota');
  q.push(item(0));
  await q.drained();
  assert.deepEqual(quota.map((d) => d.retryIn), [0, 0, 5, 5, 5]);
  assert.deepEqual(sb.appended, [item(0)]);
});

test('an evict that throws counts as freeing nothing', async () => {
  const sb = new FakeSourceBuffer({ quota: 1 });
  const q = new AppendQueue(sb, {
    evict: async () => {
      throw new Error('cannot');
    },
    retryDelay: 1,
  });
  const quota = record(q, 'quota');
  const errors = record(q, 'error');
  q.push(item(0));
  await q.drained();
  assert.deepEqual(quota.map((d) => d.freed), [false]);
  assert.deepEqual(errors, []);
  assert.deepEqual(sb.appended, [item(0)]);
});

test('evict may call exclusive() itself without deadlocking', async () => {
  const sb = new FakeSourceBuffer({ quota: 1, delay: () => 1 });
  const q = new AppendQueue(sb, {
    evict: async () => {
      await q.exclusive(() => sb.remove(0, 3));
      return true;
    },
  });
  q.push(item(0));
  await q.drained();
  assert.deepEqual(sb.log, [['quota', 0], ['remove', 0, 3], ['append', 0]]);
});

test('clear() during a quota wait drops the refused item too; later items append', async () => {
  const sb = new FakeSourceBuffer({ quota: 1 });
  const q = new AppendQueue(sb, { evict: async () => false, retryDelay: 20 });
  q.push(item(0));
  q.push(item(1));
  await wait(5); // item 0 was refused and waits for its retry
  q.clear();
  q.push(item(2));
  await q.drained();
  assert.deepEqual(sb.appended, [item(2)]);
});

test('clear() drops only items not yet appended', async () => {
  const sb = new FakeSourceBuffer({ delay: () => 3 });
  const q = new AppendQueue(sb);
  for (let i = 0; i < 5; i++) q.push(item(i));
  await tick(); // item 0 in flight
  q.clear();
  assert.equal(q.pending, 0);
  assert.equal(q.pendingBytes, 0);
  q.push(item(9));
  await q.drained();
  assert.deepEqual(sb.appended, [item(0), item(9)]);

  // Cleared from an 'appended' listener: what was queued behind is gone.
  const sb2 = new FakeSourceBuffer();
  const q2 = new AppendQueue(sb2);
  q2.addEventListener('appended', (e) => {
    if (e.detail.meta === 'first') q2.clear();
  });
  q2.push(item(0), 'first');
  q2.push(item(1));
  q2.push(item(2));
  await q2.drained();
  assert.deepEqual(sb2.appended, [item(0)]);
});

test('drained() waits for the queue, the append in flight and any other update', async () => {
  const sb = new FakeSourceBuffer({ delay: () => 5 });
  const q = new AppendQueue(sb);
  await q.drained(); // idle: at once

  q.push(item(0));
  q.push(item(1));
  await q.drained();
  assert.equal(sb.appended.length, 2);
  assert.equal(sb.updating, false);

  sb.remove(0, 1); // someone else's update
  assert.equal(sb.updating, true);
  await q.drained();
  assert.equal(sb.updating, false);
});

test('an error thrown by appendBuffer stops the queue with an error event', async () => {
  const err = new TypeError('detached buffer');
  const sb = new FakeSourceBuffer({ failWith: err });
  const q = new AppendQueue(sb);
  const errors = record(q, 'error');
  const appended = record(q, 'appended');
  q.push(item(0));
  q.push(item(1));
  await assert.rejects(q.drained(), TypeError);
  assert.deepEqual(errors, [err]);
  assert.equal(q.error, err);
  assert.deepEqual(appended, []);
  assert.equal(q.pending, 2, 'nothing was dropped');
  sb.failWith = null;
  q.push(item(2));
  await tick();
  assert.deepEqual(sb.appended, [], 'a stopped queue appends nothing more');
});

test('an error event during an append stops the queue after it', async () => {
  const sb = new FakeSourceBuffer({ errorEventOn: 1 });
  const q = new AppendQueue(sb);
  const errors = record(q, 'error');
  const appended = record(q, 'appended');
  for (let i = 0; i < 4; i++) q.push(item(i), i);
  await assert.rejects(q.drained(), /SourceBuffer error event/);
  assert.equal(errors.length, 1);
  assert.deepEqual(appended.map((d) => d.meta), [0]);
  assert.deepEqual(sb.appended, [item(0), item(1)]);
  assert.equal(q.pending, 2);
});
