// Tests for mp4-boxes.js: top-level boxes, fragments and the init segment come out the same
// however the stream is split, and frames get their exact positions from tfdt and trun.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoxSplitter, parseFragment, parseEmsg, Mp4Reader } from '../js/mp4-boxes.js';
import {
  box, bytes, concat, emsg, fakeFrame, fragment, full, initSegment, largeBox, u32, u64,
} from './mp4-build.js';

const T = 1152 / 44100;

// ---- BoxSplitter ----

const BOXES = [
  box('ftyp', 'isom', u32(0)),
  box('free'), // an empty box: header only
  largeBox('mdat', fakeFrame(1, 40)),
  box('moof', box('mfhd', u32(9))),
];
const BOX_STREAM = concat(BOXES);
const BOX_TYPES = ['ftyp', 'free', 'mdat', 'moof'];

function splitBoxes(chunks) {
  const s = new BoxSplitter();
  const out = [];
  for (const c of chunks) out.push(...s.push(c));
  return out;
}

test('BoxSplitter: whole boxes with their types, 32-bit and 64-bit sizes', () => {
  const out = splitBoxes([BOX_STREAM]);
  assert.deepEqual(out.map((b) => b.type), BOX_TYPES);
  assert.deepEqual(out.map((b) => b.bytes), BOXES);
  assert.equal(out[2].bytes.length, 16 + 40);
});

test('BoxSplitter: every split point and 1-byte chunks give the same boxes', () => {
  const want = BOXES.map((b, i) => ({ type: BOX_TYPES[i], bytes: b }));
  for (let cut = 0; cut <= BOX_STREAM.length; cut++) {
    const got = splitBoxes([BOX_STREAM.subarray(0, cut), BOX_STREAM.subarray(cut)]);
    assert.deepEqual(got, want, `cut at ${cut}`);
  }
  const ones = Array.from(BOX_STREAM, (_, i) => BOX_STREAM.subarray(i, i + 1));
  assert.deepEqual(splitBoxes(ones), want);
});

test('BoxSplitter: a box comes out with the chunk that completes it, as a copy', () => {
  const s = new BoxSplitter();
  const chunk = BOX_STREAM.slice(0, BOXES[0].length + 3);
  const first = s.push(chunk);
  assert.deepEqual(first.map((b) => b.type), ['ftyp']);
  chunk.fill(0);
  assert.deepEqual(first[0].bytes, BOXES[0]);
  assert.deepEqual(s.push(new Uint8Array(0)), []);
  const rest = s.push(BOX_STREAM.subarray(BOXES[0].length + 3));
  assert.deepEqual(rest.map((b) => b.type), ['free', 'mdat', 'moof']);
  assert.deepEqual(rest[0].bytes, BOXES[1]); // the 3 bytes held over were copied too
});

test('BoxSplitter: impossible sizes throw instead of waiting forever', () => {
  assert.throws(() => new BoxSplitter().push(bytes(u32(4), 'free')), RangeError);
  assert.throws(() => new BoxSplitter().push(bytes(u32(0), 'mdat')), RangeError);
  assert.throws(() => new BoxSplitter().push(bytes(u32(1), 'mdat', u64(8))), RangeError);
  // A 64-bit size with its high word set: read whole, not as its low 32 bits.
  assert.throws(
    () => new BoxSplitter().push(bytes(u32(1), 'mdat', u64(2 ** 32 + 100))),
    /of 4294967396 bytes exceeds/,
  );
  const small = new BoxSplitter({ maxBoxSize: 100 });
  assert.throws(() => small.push(bytes(u32(101), 'mdat')), RangeError);
  // The stream is corrupt from there on: the splitter keeps refusing it.
  assert.throws(() => small.push(box('free')), RangeError);
  const fits = new BoxSplitter({ maxBoxSize: 100 });
  assert.equal(fits.push(box('free', new Array(92).fill(1))).length, 1);
});

// ---- parseFragment ----

const FRAMES_A = [fakeFrame(1, 60), fakeFrame(2, 61), fakeFrame(3, 60)];

test('parseFragment: base time from tfdt, sizes from trun, default duration from tfhd', () => {
  const { moof, mdat } = fragment(1, 100, FRAMES_A);
  const out = parseFragment(moof, mdat);
  assert.equal(out.baseTime, (100 * 1152) / 44100);
  assert.deepEqual(out.frames, [
    { pos: (100 * 1152) / 44100, duration: T, bytes: FRAMES_A[0] },
    { pos: (101 * 1152) / 44100, duration: T, bytes: FRAMES_A[1] },
    { pos: (102 * 1152) / 44100, duration: T, bytes: FRAMES_A[2] },
  ]);
});

test('parseFragment: a 64-bit decode time beyond 2^32 ticks stays exact', () => {
  const first = 5_000_000; // 5.76e9 ticks: more than 32 bits, ~36 hours in
  const { moof, mdat } = fragment(7, first, FRAMES_A.slice(0, 2));
  const out = parseFragment(moof, mdat);
  assert.equal(out.baseTime, (first * 1152) / 44100);
  assert.equal(out.frames[1].pos, ((first + 1) * 1152) / 44100);
});

test('parseFragment: other timescales, per-sample durations and default sizes', () => {
  // tfhd with default duration 1000 and default size 10; trun with per-sample durations only;
  // tfdt version 0; no data offset (data starts the mdat payload).
  const tfhd = full('tfhd', 0, 0x020018, u32(1), u32(1000), u32(10));
  const tfdt = full('tfdt', 0, 0, u32(48000));
  const trun = full('trun', 0, 0x000100, u32(3), u32(960), u32(1152), u32(2000));
  const moof = box('moof', full('mfhd', 0, 0, u32(1)), box('traf', tfhd, tfdt, trun));
  const payload = fakeFrame(4, 30);
  const mdat = box('mdat', payload);
  const out = parseFragment(moof, mdat, 48000);
  assert.equal(out.baseTime, 1);
  assert.deepEqual(out.frames, [
    { pos: 48000 / 48000, duration: 960 / 48000, bytes: payload.subarray(0, 10) },
    { pos: 48960 / 48000, duration: 1152 / 48000, bytes: payload.subarray(10, 20) },
    { pos: 50112 / 48000, duration: 2000 / 48000, bytes: payload.subarray(20, 30) },
  ]);
});

test('parseFragment: trex defaults apply when tfhd and trun give none', () => {
  // tfhd with default-base-is-moof only; trun with a data offset but no per-sample fields.
  const tfhd = full('tfhd', 0, 0x020000, u32(1));
  const tfdt = full('tfdt', 1, 0, u64(2304));
  const moofFor = (offset) =>
    box('moof', box('traf', tfhd, tfdt, full('trun', 0, 0x000001, u32(2), u32(offset))));
  const moof = moofFor(moofFor(0).length + 8);
  const payload = fakeFrame(5, 8);
  const mdat = box('mdat', payload);
  const out = parseFragment(moof, mdat, 44100, { sampleDuration: 1152, sampleSize: 4 });
  assert.deepEqual(out.frames, [
    { pos: 2304 / 44100, duration: T, bytes: payload.subarray(0, 4) },
    { pos: 3456 / 44100, duration: T, bytes: payload.subarray(4, 8) },
  ]);
  assert.throws(() => parseFragment(moof, mdat), /without a size/);
  assert.throws(() => parseFragment(moof, mdat, 44100, { sampleSize: 4 }), /without a duration/);
});

test('parseFragment: the trun data offset places the samples inside the mdat', () => {
  // Five bytes of something else lead the mdat payload; the data offset skips them.
  const frames = FRAMES_A.slice(0, 2);
  const moofFor = (offset) =>
    box('moof', box('traf', full('tfhd', 0, 0x020008, u32(1), u32(1152)),
      full('tfdt', 1, 0, u64(0)),
      full('trun', 0, 0x000201, u32(2), u32(offset), u32(60), u32(61))));
  const moof = moofFor(moofFor(0).length + 8 + 5);
  const mdat = box('mdat', [9, 9, 9, 9, 9], ...frames);
  const out = parseFragment(moof, mdat);
  assert.deepEqual(out.frames.map((f) => f.bytes), frames);
});

test('parseFragment: a sample outside the mdat, or wrong boxes, throw', () => {
  const { moof } = fragment(1, 0, FRAMES_A);
  const shortMdat = box('mdat', concat(FRAMES_A).subarray(0, 150));
  assert.throws(() => parseFragment(moof, shortMdat), /outside its mdat/);
  assert.throws(() => parseFragment(shortMdat, shortMdat), /expected moof/);
  assert.throws(() => parseFragment(moof, moof), /expected mdat/);
});

// ---- Mp4Reader ----

const INIT = initSegment();
const FRAGS = [
  fragment(1, 0, FRAMES_A),
  fragment(2, 3, [fakeFrame(4, 61), fakeFrame(5, 60)]),
  fragment(3, 5, [fakeFrame(6, 61)]),
];
const MP4_STREAM = concat([INIT.bytes, ...FRAGS.map((f) => f.bytes)]);
const FRAG_FRAMES = [FRAMES_A, [fakeFrame(4, 61), fakeFrame(5, 60)], [fakeFrame(6, 61)]];
const FIRST = [0, 3, 5];
const WANT_FRAGMENTS = FRAGS.map((f, k) => ({
  bytes: f.bytes,
  baseTime: (FIRST[k] * 1152) / 44100,
  frames: FRAG_FRAMES[k].map((b, i) => ({ pos: ((FIRST[k] + i) * 1152) / 44100, duration: T, bytes: b })),
}));

function readAll(chunks, reader = new Mp4Reader()) {
  const inits = [];
  const fragments = [];
  for (const c of chunks) {
    const out = reader.push(c);
    if (out.init !== null) inits.push(out.init);
    fragments.push(...out.fragments);
  }
  return { inits, fragments, reader };
}

test('Mp4Reader: the init segment once, then each moof + mdat with its frames', () => {
  const { inits, fragments, reader } = readAll([MP4_STREAM]);
  assert.deepEqual(inits, [INIT.bytes]);
  assert.deepEqual(fragments, WANT_FRAGMENTS);
  assert.equal(reader.timescale, 44100);
});

test('Mp4Reader: every split point and 1-byte chunks give the same init and fragments', () => {
  for (let cut = 0; cut <= MP4_STREAM.length; cut++) {
    const got = readAll([MP4_STREAM.subarray(0, cut), MP4_STREAM.subarray(cut)]);
    assert.deepEqual(got.inits, [INIT.bytes], `init, cut at ${cut}`);
    assert.deepEqual(got.fragments, WANT_FRAGMENTS, `fragments, cut at ${cut}`);
  }
  const ones = Array.from(MP4_STREAM, (_, i) => MP4_STREAM.subarray(i, i + 1));
  const got = readAll(ones);
  assert.deepEqual(got.inits, [INIT.bytes]);
  assert.deepEqual(got.fragments, WANT_FRAGMENTS);
});

test('Mp4Reader: a fragment comes out with the chunk that completes its mdat', () => {
  const r = new Mp4Reader();
  const endOfFirst = INIT.bytes.length + FRAGS[0].bytes.length;
  const a = r.push(MP4_STREAM.subarray(0, endOfFirst - 1));
  assert.deepEqual(a.init, INIT.bytes);
  assert.deepEqual(a.fragments, []);
  const b = r.push(MP4_STREAM.subarray(endOfFirst - 1, endOfFirst));
  assert.equal(b.init, null);
  assert.deepEqual(b.fragments, [WANT_FRAGMENTS[0]]);
});

test('Mp4Reader: timescale from mdhd (version 0 and 1) times the fragments', () => {
  for (const version of [0, 1]) {
    const init = initSegment(48000, version);
    const frag = fragment(1, 10, [fakeFrame(1, 20)]);
    const { fragments, reader } = readAll([init.bytes, frag.bytes]);
    assert.equal(reader.timescale, 48000);
    assert.equal(fragments[0].baseTime, 11520 / 48000);
    assert.deepEqual(fragments[0].frames, [{ pos: 11520 / 48000, duration: 1152 / 48000, bytes: fakeFrame(1, 20) }]);
  }
});

test('Mp4Reader: a box between moof and mdat stays in the bytes and in the offsets', () => {
  const frag = fragment(1, 2, FRAMES_A, { gapBox: box('free', [1, 2, 3]) });
  const { fragments } = readAll([INIT.bytes, frag.bytes]);
  assert.equal(fragments.length, 1);
  assert.deepEqual(fragments[0].bytes, frag.bytes);
  assert.deepEqual(fragments[0].frames.map((f) => f.bytes), FRAMES_A);
});

test('Mp4Reader: an mdat without a moof, and styp/free boxes, are dropped', () => {
  const stray = box('mdat', [1, 2, 3]);
  const stream = concat([box('styp', 'msdh'), INIT.bytes, stray, box('free'), FRAGS[0].bytes]);
  const { inits, fragments } = readAll([stream]);
  assert.deepEqual(inits, [INIT.bytes]);
  assert.deepEqual(fragments, [WANT_FRAGMENTS[0]]);
});

test('Mp4Reader: fragments without an init segment use Drift’s 44.1 kHz', () => {
  const { inits, fragments } = readAll([FRAGS[1].bytes]);
  assert.deepEqual(inits, []);
  assert.deepEqual(fragments, [WANT_FRAGMENTS[1]]);
});

test('emsg: Drift titles at their stream position; other schemes and versions are no title', () => {
  assert.deepEqual(parseEmsg(emsg(48000 * 90, 48000, 'Björk - Jóga')), { time: 90, title: 'Björk - Jóga' });
  assert.equal(parseEmsg(emsg(0, 48000, 'x', 'urn:other')), null);
  assert.equal(parseEmsg(full('emsg', 0, 0, 'urn:drift:title', [0], '1', [0], u32(48000), u32(0), u32(0), u32(1))), null);
  // The scheme's end missing: corrupt, not a title.
  assert.throws(() => parseEmsg(full('emsg', 1, 0, u32(48000), u64(0), u32(0), u32(1), 'urn:drift')));
});

test('Mp4Reader: emsg titles before fragments come out with their times, at every split', () => {
  const stream = concat([INIT.bytes, emsg(0, 48000, 'A - One'), FRAGS[0].bytes,
    emsg(48000 * 3, 48000, 'B - Two'), FRAGS[1].bytes, FRAGS[2].bytes]);
  const want = [{ time: 0, title: 'A - One' }, { time: 3, title: 'B - Two' }];
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new Mp4Reader();
    const titles = [];
    const fragments = [];
    for (const c of [stream.subarray(0, cut), stream.subarray(cut)]) {
      const out = reader.push(c);
      titles.push(...out.titles);
      fragments.push(...out.fragments);
    }
    assert.deepEqual(titles, want, `cut at ${cut}`);
    assert.deepEqual(fragments, WANT_FRAGMENTS, `the emsg boxes stay out of the fragments, cut at ${cut}`);
  }
});
