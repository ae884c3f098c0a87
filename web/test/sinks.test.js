// Tests for the sinks against fake media objects: the MediaSource sink's backpressure (room
// only when the browser wants data and the buffer has space), ManagedMediaSource's streaming
// wishes and evictions, quota reports and the first play-head placement; the direct sink's
// loads, positions and losses. Neither calls into an owner: everything is an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MseSink } from '../js/mse-sink.js';
import { DirectSink } from '../js/direct-sink.js';
import { FakeAudio, FakeMediaSource, timeRanges, withObjectUrls } from './fake-media.js';

const tick = () => new Promise((r) => setTimeout(r, 0));
const OPTS = { keepSeconds: 30, trimEveryMs: 500, maxAheadSeconds: 20, maxPendingBytes: 1000, stallMs: 1500 };
const MP3 = { kind: 'mse', format: 'mp3', codec: 'mp3', mime: 'audio/mpeg' };

/** A sink on a fake element and MediaSource, opened; `events` collects what it reports. */
async function mseSink(managed = false) {
  return withObjectUrls(async () => {
    const audio = new FakeAudio();
    const win = managed ? { ManagedMediaSource: FakeMediaSource } : { MediaSource: FakeMediaSource };
    const sink = new MseSink(audio, { ...MP3, managed }, OPTS, win);
    const events = [];
    for (const type of ['appended', 'error', 'quota', 'evicted', 'streaming']) {
      sink.addEventListener(type, (e) => events.push([type, e.detail]));
    }
    sink.ms.open();
    await sink.ready;
    return { audio, sink, events, sb: sink.sb };
  });
}

/** Settles `promise` against a flag, to see whether it resolved yet. */
function track(promise) {
  const t = { done: false, failed: false };
  promise.then(() => { t.done = true; }, () => { t.failed = true; });
  return t;
}

test('MSE sink: room while under the lead and the pending limit, waits beyond, wakes on progress', async () => {
  const { audio, sink } = await mseSink();
  audio.ranges = [[0, 10]];
  assert.equal(sink.hasRoom(), true);
  audio.ranges = [[0, 25]]; // 25 s ahead of 0 > 20
  const waiting = track(sink.room());
  await tick();
  assert.equal(waiting.done, false, 'no read while the buffer is full');
  audio.currentTime = 6; // played on: 19 s ahead
  audio.dispatchEvent(new Event('timeupdate'));
  await tick();
  assert.equal(waiting.done, true);
  // Bytes queued but not appended count too, and an abort ends the wait.
  sink.queue.queuedBytes = 5000;
  const ac = new AbortController();
  const aborted = track(sink.room(ac.signal));
  ac.abort();
  await tick();
  assert.equal(aborted.failed, true);
  sink.close();
});

test('ManagedMediaSource: no room after endstreaming until startstreaming, each change reported once', async () => {
  const { audio, sink, events } = await mseSink(true);
  audio.ranges = [[0, 5]];
  sink.ms.dispatchEvent(new Event('startstreaming')); // already wanted: no change to report
  sink.ms.dispatchEvent(new Event('endstreaming'));
  const waiting = track(sink.room());
  await tick();
  assert.equal(waiting.done, false, 'reads wait while the browser wants no data');
  sink.ms.dispatchEvent(new Event('startstreaming'));
  await tick();
  assert.equal(waiting.done, true);
  assert.deepEqual(events.filter((e) => e[0] === 'streaming').map((e) => e[1].on), [false, true]);
  assert.equal(audio.disableRemotePlayback, true);
  sink.close();
});

test('ManagedMediaSource: audio evicted ahead of the play head is reported, played audio and own cuts are not', async () => {
  const { audio, sink, sb, events } = await mseSink(true);
  audio.currentTime = 50;
  const change = (ranges) => {
    const e = new Event('bufferedchange');
    e.removedRanges = timeRanges(ranges);
    sb.dispatchEvent(e);
  };
  change([[0, 40]]); // played audio: nothing to refetch
  assert.deepEqual(events.filter((e) => e[0] === 'evicted'), []);
  change([[45, 70]]); // overlaps the play head: refetch from the play head
  assert.deepEqual(events.filter((e) => e[0] === 'evicted').map((e) => e[1]), [{ from: 50, to: 70 }]);
  audio.ranges = [[30, 90]];
  const cut = sink.cutFrom(60);
  await tick();
  change([[60, 90]]); // our own splice
  await cut;
  assert.equal(events.filter((e) => e[0] === 'evicted').length, 1);
  sink.close();
});

test('MSE sink: the first frames move the play head to them and start the element; quota is reported', async () => {
  const { audio, sink, sb, events } = await mseSink();
  audio.ranges = [[120.5, 125]];
  sink.push(new Uint8Array(10), { conn: 1, first: 4614, last: 4700, pos: 120.5 });
  await sink.queue.drained();
  assert.equal(audio.currentTime, 120.5);
  assert.equal(audio.plays, 1);
  assert.deepEqual(events.filter((e) => e[0] === 'appended').map((e) => e[1].first), [4614]);
  sb.quota = 1; // the next append hits the quota; played audio is evicted and it is retried
  audio.currentTime = 124;
  sink.push(new Uint8Array(5), { conn: 1, first: 4701, last: 4701, pos: 123 });
  await sink.queue.drained();
  assert.equal(events.filter((e) => e[0] === 'quota').length, 1);
  assert.equal(events.filter((e) => e[0] === 'appended').length, 2, 'nothing lost');
  sink.close();
});

test('direct sink: loads carry their position, the element\'s failures are losses, close detaches', async () => {
  const audio = new FakeAudio();
  const sink = new DirectSink(audio);
  const lost = [];
  sink.addEventListener('lost', (e) => lost.push(e.detail.reason));
  await sink.load('/stream/abc?from=61.000000', 60.995);
  audio.currentTime = 2;
  assert.equal(sink.position, 62.995);
  assert.equal(audio.src, '/stream/abc?from=61.000000');
  audio.dispatchEvent(new Event('ended'));
  audio.dispatchEvent(new Event('error'));
  assert.deepEqual(lost, ['the stream ended', 'the player lost the stream']);
  audio.playResult = () => Promise.reject(new Error('NotSupportedError'));
  await assert.rejects(sink.load('/stream/abc?from=70', 70));
  sink.close();
  audio.dispatchEvent(new Event('error')); // detached, and no source: not a loss
  assert.equal(lost.length, 2);
});

test('MSE sink: a media error that closes the MediaSource makes the sink dead and is reported once as an error', async () => {
  const { audio, sink, events } = await mseSink(true);
  audio.dispatchEvent(new Event('error')); // an element error with the source still open: not dead
  assert.equal(sink.dead, false);
  assert.deepEqual(events.filter((e) => e[0] === 'error'), []);
  sink.ms.readyState = 'closed';
  audio.error = { code: 4, message: 'Failed to push buffer' };
  audio.dispatchEvent(new Event('error'));
  assert.equal(sink.dead, true);
  assert.match(events.find((e) => e[0] === 'error')[1].message, /Failed to push buffer/);
  sink.close();
  audio.dispatchEvent(new Event('error'));
  assert.equal(events.filter((e) => e[0] === 'error').length, 1);
});

test('MSE sink: an append that fails stops its queue for good, so the sink is dead', async () => {
  const { sink, sb, events } = await mseSink();
  sb.failWith = new DOMException('bad data', 'InvalidStateError');
  sink.push(new Uint8Array(3), { conn: 1, first: 0, last: 0, pos: 0 });
  await assert.rejects(sink.queue.drained());
  assert.equal(sink.dead, true);
  assert.equal(events.filter((e) => e[0] === 'error').length, 1);
  sink.close();
});
