// Property tests of mp3-frames.js on random and mutated streams: the splitter never throws,
// every frame it returns is a whole valid Layer III frame cut from the input in order, every
// input byte is either in a frame or counted as skipped, positions advance by each frame's
// duration, the pieces the input arrives in change nothing, and it never holds more than one
// frame and a header of input it has not decided on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameSplitter, parseFrameHeader } from '../js/mp3-frames.js';
import { mutate, property, randomBytes, randomPieces } from './fuzz.js';

// The longest frame any valid header declares, and so the most the splitter may hold.
let maxFrame = 0;
for (let b1 = 0xe0; b1 <= 0xff; b1++) {
  for (let b2 = 0; b2 <= 0xff; b2++) {
    const h = parseFrameHeader(Uint8Array.of(0xff, b1, b2, 0));
    if (h) maxFrame = Math.max(maxFrame, h.length);
  }
}
const BOUND = maxFrame + 4;

// A valid stream: 1–40 Layer III frames of one version and sample rate, random bitrates,
// padding, channel modes and payload.
function validStream(rng) {
  const b1 = rng.pick([0xfb, 0xfa, 0xf3, 0xf2, 0xe3, 0xe2]);
  const rateBits = rng.int(3) << 2;
  const frames = [];
  for (let n = rng.range(1, 40); n > 0; n--) {
    const b2 = (rng.range(1, 14) << 4) | rateBits | (rng.int(2) << 1);
    const b3 = (rng.int(256) & ~0b11) | rng.pick([0, 1, 3]);
    const header = Uint8Array.of(0xff, b1, b2, b3);
    const bytes = new Uint8Array(parseFrameHeader(header).length);
    bytes.set(header);
    for (let i = 4; i < bytes.length; i++) bytes[i] = rng.int(256);
    frames.push(bytes);
  }
  const data = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => (data.set(f, at), at + f.length), 0);
  return { data, frames };
}

// Splits `pieces` from position `start`, checking the buffer bound after every push.
function split(pieces, start = 0) {
  const s = new FrameSplitter(start);
  const frames = [];
  for (const p of pieces) {
    frames.push(...s.push(p));
    assert.ok(s.buf.length < BOUND, `holds ${s.buf.length} undecided bytes`);
  }
  frames.push(...s.flush());
  return { frames, skipped: s.skippedBytes };
}

// Whether each frame occurs in `data` after the previous one.
function inOrderWithin(frames, data) {
  let at = 0;
  const text = Buffer.from(data);
  return frames.every((f) => {
    const i = text.indexOf(Buffer.from(f.bytes), at);
    at = i + f.bytes.length;
    return i >= 0;
  });
}

function checkAnyInput(rng, data) {
  const start = rng.pick([0, 12.5, 3600]);
  const whole = split([data], start);
  const framed = whole.frames.reduce((n, f) => n + f.bytes.length, 0);
  assert.equal(framed + whole.skipped, data.length, 'bytes unaccounted');
  assert.ok(inOrderWithin(whole.frames, data), 'frames are not cut from the input');
  let pos = start;
  for (const f of whole.frames) {
    const h = parseFrameHeader(f.bytes);
    assert.ok(h && h.length === f.bytes.length);
    assert.ok(Math.abs(f.pos - pos) < 1e-9 && Number.isFinite(f.pos));
    pos = f.pos + f.duration;
  }
  const pieced = split(randomPieces(rng, data), start);
  assert.deepStrictEqual(pieced, whole, 'the pieces the input came in changed the result');
}

test('a valid stream comes back frame for frame however it is cut', () => {
  property('mp3 valid stream', 300, (rng) => {
    const { data, frames } = validStream(rng);
    const got = split(randomPieces(rng, data));
    assert.deepStrictEqual(got.frames.map((f) => f.bytes), frames);
    assert.equal(got.skipped, 0);
  });
});

test('random bytes: valid frames only, every byte accounted for, bounded', () => {
  property('mp3 random bytes', 300, (rng) => checkAnyInput(rng, randomBytes(rng, 6000)));
});

test('mutated streams: valid frames only, every byte accounted for, bounded', () => {
  property('mp3 mutated stream', 300, (rng) => checkAnyInput(rng, mutate(rng, validStream(rng).data)));
});
