// Property tests of mp4-boxes.js on random and mutated streams: the reader either returns
// fragments whose frames lie inside their mdat with finite, non-negative times, or throws the
// RangeError it documents for corrupt data — never another error, never a hang on a huge
// count, never a buffer beyond its box size limit; and how the input is split changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mp4Reader, parseFragment } from '../js/mp4-boxes.js';
import { box, concat, fragment, full, initSegment, u32 } from './mp4-build.js';
import { mutate, property, randomBytes, randomPieces } from './fuzz.js';

const T = 1152 / 44100;
// Small enough that mutated size fields hit it often.
const MAX_BOX = 64 * 1024;

// A valid stream: init segment, then fragments of random frames from a random first frame,
// sometimes with a box between moof and mdat. Returns the bytes and the frames in order.
function validStream(rng) {
  const parts = [initSegment().bytes];
  const frames = [];
  let index = rng.int(1_000_000);
  for (let f = rng.range(1, 6); f > 0; f--) {
    const list = Array.from({ length: rng.range(1, 8) }, () => randomBytes(rng, 700));
    const gapBox = rng.bool(0.2) ? box('free', randomBytes(rng, 20)) : null;
    parts.push(fragment(f, index, list, { gapBox }).bytes);
    list.forEach((bytes, i) => frames.push({ pos: (index + i) * 1152, bytes }));
    index += list.length;
  }
  return { data: concat(parts), frames };
}

// Feeds `pieces` to a reader; returns what came out and whether it threw (only a RangeError
// may be thrown, and the reader's buffers stay within the box limit).
function read(pieces) {
  const reader = new Mp4Reader({ maxBoxSize: MAX_BOX });
  const inits = [];
  const fragments = [];
  try {
    for (const p of pieces) {
      const out = reader.push(p);
      if (out.init) inits.push(out.init);
      fragments.push(...out.fragments);
      assert.ok(reader.splitter.length <= MAX_BOX, `splitter holds ${reader.splitter.length}`);
      const between = reader.between.reduce((n, b) => n + b.length, 0);
      assert.ok(between <= MAX_BOX, `${between} bytes held between moof and mdat`);
    }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return { inits, fragments, threw: true };
  }
  return { inits, fragments, threw: false };
}

function checkFragments(fragments) {
  for (const f of fragments) {
    assert.ok(Number.isFinite(f.baseTime) && f.baseTime >= 0, `baseTime ${f.baseTime}`);
    for (const fr of f.frames) {
      assert.ok(Number.isFinite(fr.pos) && fr.pos >= 0, `frame pos ${fr.pos}`);
      assert.ok(Number.isFinite(fr.duration) && fr.duration >= 0, `duration ${fr.duration}`);
      // Frames are views into the fragment's own mdat.
      assert.ok(fr.bytes.byteOffset + fr.bytes.length <= fr.bytes.buffer.byteLength);
    }
  }
}

// Every property that holds whatever the input.
function checkAnyInput(rng, data) {
  const whole = read([data]);
  checkFragments(whole.fragments);
  const pieced = read(randomPieces(rng, data));
  assert.equal(pieced.threw, whole.threw, 'splitting the input changed whether it failed');
  if (!whole.threw) {
    assert.deepStrictEqual(pieced.inits, whole.inits);
    assert.deepStrictEqual(pieced.fragments, whole.fragments);
  }
}

test('a valid stream comes back frame for frame however it is cut', () => {
  property('mp4 valid stream', 200, (rng) => {
    const { data, frames } = validStream(rng);
    const got = read(randomPieces(rng, data));
    assert.equal(got.threw, false);
    assert.deepStrictEqual(got.inits, [initSegment().bytes]);
    const out = got.fragments.flatMap((f) => f.frames);
    assert.equal(out.length, frames.length);
    out.forEach((fr, i) => {
      assert.deepStrictEqual(fr.bytes, frames[i].bytes);
      assert.ok(Math.abs(fr.pos - frames[i].pos / 44100) < 1e-9);
      assert.ok(Math.abs(fr.duration - T) < 1e-12);
    });
  });
});

test('random bytes: only documented errors, bounded buffers, split-invariant', () => {
  property('mp4 random bytes', 300, (rng) => checkAnyInput(rng, randomBytes(rng, 3000)));
});

test('mutated streams: only documented errors, finite times, split-invariant', () => {
  property('mp4 mutated stream', 400, (rng) => checkAnyInput(rng, mutate(rng, validStream(rng).data)));
});

test('mutated fragments given to parseFragment: a RangeError or frames inside the mdat', () => {
  property('mp4 mutated fragment', 600, (rng) => {
    const list = Array.from({ length: rng.range(1, 5) }, () => randomBytes(rng, 300));
    const f = fragment(1, rng.int(1000), list);
    const moof = rng.bool() ? mutate(rng, f.moof) : f.moof;
    const mdat = rng.bool() ? mutate(rng, f.mdat) : f.mdat;
    let out;
    try {
      out = parseFragment(moof, mdat, 44100, { sampleDuration: 1152, sampleSize: 0 });
    } catch (e) {
      if (e instanceof RangeError) return;
      throw e;
    }
    checkFragments([out]);
    for (const fr of out.frames) {
      assert.equal(fr.bytes.buffer, mdat.buffer);
      assert.ok(fr.bytes.byteOffset >= mdat.byteOffset + 8);
    }
  });
});

// A box of the given type whose body is `parts`, cut short at a random length half the time:
// the shape a corrupt writer or a damaged stream gives, which byte mutations rarely hit.
function maybeShort(rng, type, ...parts) {
  const body = concat(parts.map((p) => Uint8Array.from(p)));
  return box(type, rng.bool() ? body.subarray(0, rng.int(body.length + 1)) : body);
}

// A moof (and the moov before it) built from randomly flagged, ordered and shortened boxes.
function structuredStream(rng) {
  const word = () => rng.pick([0, 1, 4, 1152, 0x7fffffff, 0xffffffff, rng.next()]);
  const flags = (bits) => bits.filter(() => rng.bool()).reduce((a, b) => a | b, 0);
  const fullBody = (version, f, ...words) =>
    [version, (f >> 16) & 0xff, (f >> 8) & 0xff, f & 0xff, ...words.flatMap((w) => u32(w))];
  const trex = maybeShort(rng, 'trex', fullBody(0, 0, 1, 1, word(), word(), 0));
  const mdhdVersion = rng.int(2);
  const mdhd = maybeShort(rng, 'mdhd', fullBody(mdhdVersion, 0, 0, 0, 0, 0, word(), 0));
  const moov = box('moov', box('trak', box('mdia', mdhd)), box('mvex', trex));
  const traf = [];
  for (let n = rng.range(1, 4); n > 0; n--) {
    const kind = rng.int(3);
    if (kind === 0) {
      traf.push(maybeShort(rng, 'tfhd', fullBody(0, flags([1, 2, 8, 0x10, 0x20, 0x20000]), 1, 0, 0, word(), word(), word())));
    } else if (kind === 1) {
      traf.push(maybeShort(rng, 'tfdt', fullBody(rng.int(2), 0, word(), word())));
    } else {
      const count = rng.pick([0, 1, 3, rng.int(1000), 0x7fffffff, 0xffffffff]);
      const words = Array.from({ length: rng.int(12) }, word);
      traf.push(maybeShort(rng, 'trun', fullBody(0, flags([1, 4, 0x100, 0x200, 0x400, 0x800]), count, ...words)));
    }
  }
  const moof = box('moof', full('mfhd', 0, 0, u32(1)), box('traf', ...traf));
  return concat([moov, moof, box('mdat', randomBytes(rng, 2000))]);
}

test('structurally damaged boxes: only documented errors, finite times', () => {
  property('mp4 structured', 1500, (rng) => checkAnyInput(rng, structuredStream(rng)));
});

// ---- regressions found by the properties above ----

// A trun with no per-sample fields and a count of 2^31 − 1: its samples take their size from
// the defaults, so no byte of the box bounds the count; the reader looped over every one.
test('a trun whose count is not bounded by its box is refused at once', () => {
  const tfhd = full('tfhd', 0, 0x020018, u32(1), u32(1152), u32(0));
  const trun = full('trun', 0, 0x000001, u32(0x7fffffff), u32(0));
  const moof = box('moof', full('mfhd', 0, 0, u32(1)), box('traf', tfhd, trun));
  const mdat = box('mdat', new Uint8Array(10));
  const started = Date.now();
  assert.throws(() => parseFragment(moof, mdat), RangeError);
  assert.ok(Date.now() - started < 1000);
});

// A tfdt with no body at the end of the moof: its time was read past the end of the array,
// undefined bytes made NaN, and NaN positions went to the player.
test('a box too short for its fields is a RangeError, not a NaN time', () => {
  const tfhd = full('tfhd', 0, 0x020008, u32(1), u32(1152));
  const moofFor = (offset) =>
    box('moof', box('traf', tfhd, full('trun', 0, 0x000201, u32(1), u32(offset), u32(4)), box('tfdt')));
  const moof = moofFor(moofFor(0).length + 8);
  assert.throws(() => parseFragment(moof, box('mdat', [1, 2, 3, 4])), RangeError);
  // The same for the trex defaults in the init segment: a trex cut short.
  const moov = box('moov', box('mvex', box('trex', [0, 0, 0, 0])));
  const reader = new Mp4Reader();
  assert.throws(() => reader.push(moov), RangeError);
});

// A moof followed by endless boxes that are not its mdat: the reader kept them all.
test('boxes between a moof and its mdat are held up to the box size limit only', () => {
  const reader = new Mp4Reader({ maxBoxSize: 1024 });
  reader.push(fragment(1, 0, [new Uint8Array(10)]).moof);
  const free = box('free', new Uint8Array(500));
  reader.push(free);
  reader.push(free);
  assert.throws(() => reader.push(free), RangeError);
});
