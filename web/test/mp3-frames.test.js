// Tests for mp3-frames.js: header fields for every MPEG version, and a splitter that yields the
// same whole frames at the same exact positions however the stream is split, skipping garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFrameHeader, FrameSplitter, concatFrames } from '../js/mp3-frames.js';
import { concatBytes } from '../js/bytes.js';
import { header192, frame, frame192 } from './stream-build.js';

const SECS = 1152 / 44100;

const concat = (list) => (list.length ? concatBytes(list) : new Uint8Array(0));

function runSplitter(startPos, chunks, flush = false) {
  const s = new FrameSplitter(startPos);
  const frames = [];
  for (const c of chunks) frames.push(...s.push(c));
  if (flush) frames.push(...s.flush());
  return { frames, position: s.position, splitter: s };
}

// What the splitter must return for `frames` starting at `startPos` (same float operations).
function expected(startPos, frames) {
  return frames.map((bytes, i) => ({ pos: startPos + (i * 1152) / 44100, duration: SECS, bytes }));
}

test('parseFrameHeader: MPEG-1 Layer III 192 kbps 44.1 kHz stereo, with and without padding', () => {
  const base = { sampleRate: 44100, samples: 1152, bitrate: 192, channels: 2, version: 1 };
  assert.deepEqual(parseFrameHeader(Uint8Array.from(header192(false)), 0), { length: 626, ...base });
  assert.deepEqual(parseFrameHeader(Uint8Array.from(header192(true)), 0), { length: 627, ...base });
});

test('parseFrameHeader: other rates, versions, modes and an offset', () => {
  // MPEG-1, 320 kbps (14), 48 kHz (1), mono (mode 3), CRC present (protection bit 0).
  assert.deepEqual(parseFrameHeader(Uint8Array.from([0xff, 0xfa, 0xe4, 0xc0]), 0), {
    length: 960, sampleRate: 48000, samples: 1152, bitrate: 320, channels: 1, version: 1,
  });
  // MPEG-1, 128 kbps (9), 32 kHz (2), padded, joint stereo: 144 × 128000 / 32000 + 1.
  assert.deepEqual(parseFrameHeader(Uint8Array.from([0xff, 0xfb, 0x9a, 0x40]), 0), {
    length: 577, sampleRate: 32000, samples: 1152, bitrate: 128, channels: 2, version: 1,
  });
  // MPEG-2, 64 kbps (8), 22.05 kHz: 72 × 64000 / 22050 = 208.97 → 208.
  assert.deepEqual(parseFrameHeader(Uint8Array.from([0xff, 0xf3, 0x80, 0x00]), 0), {
    length: 208, sampleRate: 22050, samples: 576, bitrate: 64, channels: 2, version: 2,
  });
  // MPEG-2.5, 8 kbps (1), 8 kHz (index 2 → 32000 / 4), mono: 72 × 8000 / 8000 = 72.
  assert.deepEqual(parseFrameHeader(Uint8Array.from([0xff, 0xe3, 0x18, 0xc0]), 0), {
    length: 72, sampleRate: 8000, samples: 576, bitrate: 8, channels: 1, version: 2.5,
  });
  const bytes = Uint8Array.from([1, 2, 3, ...header192(true)]);
  assert.equal(parseFrameHeader(bytes, 3).length, 627);
  assert.equal(parseFrameHeader(bytes, 2), null);
});

test('parseFrameHeader rejects invalid and non-Layer-III headers', () => {
  const bad = {
    'no sync (first byte)': [0xfe, 0xfb, 0xb0, 0x00],
    'no sync (second byte)': [0xff, 0xdb, 0xb0, 0x00],
    'reserved version': [0xff, 0xeb, 0xb0, 0x00],
    'reserved layer': [0xff, 0xf9, 0xb0, 0x00],
    'layer I': [0xff, 0xff, 0xb0, 0x00],
    'layer II': [0xff, 0xfd, 0xb0, 0x00],
    'free-format bitrate 0': [0xff, 0xfb, 0x00, 0x00],
    'bitrate index 15': [0xff, 0xfb, 0xf0, 0x00],
    'sample-rate index 3': [0xff, 0xfb, 0xbc, 0x00],
    'reserved emphasis': [0xff, 0xfb, 0xb0, 0x02],
  };
  for (const [why, bytes] of Object.entries(bad)) {
    assert.equal(parseFrameHeader(Uint8Array.from(bytes), 0), null, why);
  }
  assert.equal(parseFrameHeader(Uint8Array.from([0xff, 0xfb, 0xb0]), 0), null, 'too short');
  assert.equal(parseFrameHeader(Uint8Array.from(header192(false)), 1), null, 'past the end');
});

const FRAMES = Array.from({ length: 10 }, (_, i) => frame192(i));
const STREAM = concat(FRAMES);

test('the test frames are what they claim to be', () => {
  assert.deepEqual(FRAMES.map((f) => f.length).slice(0, 3), [626, 627, 626]);
  assert.equal(STREAM.length, 5 * 626 + 5 * 627);
  for (let i = 0; i + 1 < STREAM.length; i++) {
    const sync = STREAM[i] === 0xff && (STREAM[i + 1] & 0xe0) === 0xe0;
    assert.equal(sync, FRAMES.some((_, k) => concat(FRAMES.slice(0, k)).length === i));
  }
});

test('one chunk: every frame whole, at exact positions', () => {
  const { frames, position } = runSplitter(12.5, [STREAM]);
  assert.deepEqual(frames, expected(12.5, FRAMES));
  assert.equal(position, 12.5 + (10 * 1152) / 44100);
});

test('split into two chunks at every byte boundary gives the same frames', () => {
  const want = expected(3, FRAMES);
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const { frames, position } = runSplitter(3, [STREAM.subarray(0, cut), STREAM.subarray(cut)]);
    assert.deepEqual(frames, want, `cut at ${cut}`);
    assert.equal(position, 3 + (10 * 1152) / 44100);
  }
});

test('1-byte chunks give the same frames', () => {
  const chunks = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
  assert.deepEqual(runSplitter(0, chunks).frames, expected(0, FRAMES));
});

test('a partial frame waits for the rest; the first one also for the next header', () => {
  const s = new FrameSplitter(0);
  assert.deepEqual(s.push(STREAM.subarray(0, 629)), []); // 626-byte frame + 3 bytes of the next
  assert.equal(s.position, 0);
  const one = s.push(STREAM.subarray(629, 630)); // the next header is whole: frame 0 confirmed
  assert.deepEqual(one, expected(0, FRAMES.slice(0, 1)));
  assert.equal(s.position, SECS);
  // In sync now: frame 1 comes out as soon as its last byte is there.
  assert.deepEqual(s.push(STREAM.subarray(630, 626 + 627 - 1)), []);
  const two = s.push(STREAM.subarray(626 + 627 - 1, 626 + 627));
  assert.equal(two.length, 1);
  assert.deepEqual(two[0].bytes, FRAMES[1]);
  assert.equal(two[0].pos, 1152 / 44100);
});

test('returned frames are copies: reusing the input buffer does not change them', () => {
  const chunk = STREAM.slice();
  const { frames } = runSplitter(0, [chunk]);
  chunk.fill(0);
  assert.deepEqual(frames[0].bytes, FRAMES[0]);
});

// Garbage: a lone 0xFF, a header-like run that is not a header, and a false sync whose frame
// would end inside frame 0's filler (so nothing confirms it).
const GARBAGE_HEAD = Uint8Array.from([
  0x00, 0xff, 0x12, 0xff, 0xfb, 0xf0, 0x00, 0x41, ...header192(false), 9, 8, 7, 6, 5, 0xff,
]);
// (Garbage that began with a valid header right after a frame would be taken for a frame: in
// sync, a header is trusted. So this starts with a byte that breaks sync.)
const GARBAGE_MID = Uint8Array.from([0x00, 0xff, 0xfb, 0xb0, 0x00, 1, 2, 3, 0xff, 0xfe, 0x42]);
const DIRTY = concat([
  GARBAGE_HEAD,
  ...FRAMES.slice(0, 4),
  GARBAGE_MID,
  ...FRAMES.slice(4, 9),
  Uint8Array.from([0xff, 0xfb, 0xb2]), // a header cut off at the end
]);

test('garbage before, between and after frames is skipped; positions stay continuous', () => {
  const want = expected(7, FRAMES.slice(0, 9));
  const { frames, splitter } = runSplitter(7, [DIRTY]);
  assert.deepEqual(frames, want);
  assert.equal(splitter.position, 7 + (9 * 1152) / 44100);
  for (let cut = 0; cut <= DIRTY.length; cut++) {
    const got = runSplitter(7, [DIRTY.subarray(0, cut), DIRTY.subarray(cut)]);
    assert.deepEqual(got.frames, want, `cut at ${cut}`);
  }
  const bytes = Array.from(DIRTY, (_, i) => DIRTY.subarray(i, i + 1));
  assert.deepEqual(runSplitter(7, bytes).frames, want);
});

test('after garbage, a frame with no header after it yet waits; flush() takes it', () => {
  const data = concat([...FRAMES.slice(0, 3), Uint8Array.from([0x55, 0xff]), FRAMES[3]]);
  const { frames, splitter } = runSplitter(0, [data]);
  assert.deepEqual(frames, expected(0, FRAMES.slice(0, 3)));
  const last = splitter.flush();
  assert.deepEqual(last, [{ pos: (3 * 1152) / 44100, duration: SECS, bytes: FRAMES[3] }]);
  assert.equal(splitter.skippedBytes, 2);
  assert.deepEqual(splitter.flush(), []);
});

test('flush() drops a partial frame', () => {
  const { frames, splitter } = runSplitter(0, [STREAM.subarray(0, 626 + 627 + 100)], true);
  assert.deepEqual(frames, expected(0, FRAMES.slice(0, 2)));
  assert.equal(splitter.position, (2 * 1152) / 44100);
  assert.equal(splitter.skippedBytes, 100);
});

test('flush() of a stream cut inside a frame takes no false sync from the cut tail', () => {
  // The third frame's payload holds a short "frame" (32 kbps at 48 kHz: 96 bytes) that would fit
  // in the cut-off bytes: it is audio data, not a frame.
  const third = frame192(2);
  const fake = frame([0xff, 0xfb, 0x14, 0x00], 96, 9);
  third.set(fake, 20);
  const data = concat([FRAMES[0], FRAMES[1], third]);
  const cut = data.subarray(0, 626 + 627 + 20 + 96 + 2);
  const { frames, splitter } = runSplitter(0, [cut], true);
  assert.deepEqual(frames, expected(0, FRAMES.slice(0, 2)));
  assert.equal(splitter.skippedBytes, 20 + 96 + 2);
});

test('a change of sample rate is followed and positions stay exact', () => {
  // MPEG-1 192 kbps at 48 kHz: 144 × 192000 / 48000 = 576 bytes.
  const f48 = [0, 1, 2].map((i) => frame([0xff, 0xfb, 0xb4, 0x00], 576, 50 + i));
  const data = concat([...FRAMES.slice(0, 3), ...f48]);
  // Out of sync after the switch, the last frame has no header after it: flush() takes it.
  const { frames, position } = runSplitter(1, [data], true);
  const switchAt = 1 + (3 * 1152) / 44100;
  assert.deepEqual(frames, [
    ...expected(1, FRAMES.slice(0, 3)),
    ...f48.map((bytes, i) => ({ pos: switchAt + (i * 1152) / 48000, duration: 1152 / 48000, bytes })),
  ]);
  assert.equal(position, switchAt + (3 * 1152) / 48000);
});

test('reset() forgets buffered bytes and restarts positions', () => {
  const s = new FrameSplitter(0);
  s.push(STREAM.subarray(0, 1000));
  s.reset(40);
  assert.equal(s.position, 40);
  const frames = s.push(STREAM.subarray(626)); // starts with frame 1
  assert.deepEqual(frames, expected(40, FRAMES.slice(1)));
});

test('positions stay exact over an hour of frames', () => {
  const s = new FrameSplitter(0);
  const n = 140000; // ~61 minutes
  for (let i = 0; i < n; i++) s.advance({ samples: 1152, sampleRate: 44100 });
  assert.equal(s.position, (n * 1152) / 44100);
});

test('concatFrames joins frame bytes in order', () => {
  const { frames } = runSplitter(0, [STREAM]);
  assert.deepEqual(concatFrames(frames), STREAM);
  assert.deepEqual(concatFrames(frames.slice(2, 4)), concat(FRAMES.slice(2, 4)));
  assert.deepEqual(concatFrames([]), new Uint8Array(0));
});
