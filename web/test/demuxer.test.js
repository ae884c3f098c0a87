// Tests for demuxer.js: the same frames, at the same indices, and the same titles at the same
// positions, whatever the chunking — split at every byte boundary of MP3+ICY and fMP4 streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demuxer, splitTitle } from '../js/demuxer.js';
import { MP3_GRID, OPUS_GRID } from '../js/frame-history.js';
import { concatBytes } from '../js/bytes.js';
import { frame192, icyStream } from './stream-build.js';
import { initSegment, fragment, fakeFrame, emsg } from './mp4-build.js';

const concat = (list) => concatBytes(list);

/** Everything a demuxer gives for `chunks`, flattened. */
function run(opts, chunks) {
  const d = new Demuxer(opts);
  const out = { inits: [], units: [], frames: [], titles: [] };
  for (const c of chunks) {
    const r = d.push(c);
    if (r.init) out.inits.push([...r.init]);
    for (const u of r.units) {
      out.units.push(u.idx);
      for (const f of u.frames) out.frames.push([f.idx, f.bytes.length, f.bytes[0], f.bytes.at(-1)]);
    }
    out.titles.push(...r.titles);
  }
  return out;
}

/** Every split of `bytes` into two chunks, and into three at a few more points. */
function* splits(bytes) {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  for (let i = 1; i < bytes.length; i += 97) {
    const j = Math.min(bytes.length, i + 331);
    yield [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
  }
}

const FRAMES = Array.from({ length: 12 }, (_, i) => frame192(i));
const AUDIO = concat(FRAMES);
const METAINT = 1000;
const BLOCKS = ["StreamTitle='Ada - First';", null, "StreamTitle='Bo - Second - Part';", null, null, null, "StreamTitle='Solo';"];

test('MP3 with ICY: frames numbered from the start index, titles at the frame their block fell in', () => {
  const stream = icyStream(AUDIO, METAINT, BLOCKS);
  const whole = run({ format: 'mp3', grid: MP3_GRID, startIdx: 500, metaint: METAINT }, [stream]);
  // The last frame waits for the header after it (it may be garbage until confirmed).
  assert.equal(whole.frames.length >= FRAMES.length - 1, true);
  whole.frames.forEach(([idx, len], i) => {
    assert.equal(idx, 500 + i);
    assert.equal(len, FRAMES[i].length);
  });
  // Block 0 follows audio byte 1000, in frame 1 (frames are 626/627 bytes); block 2 at 3000,
  // in frame 4; block 6 at 7000, in frame 11.
  assert.deepEqual(whole.titles.map((t) => [t.text, t.source]), [['Ada - First', 'icy'], ['Bo - Second - Part', 'icy'], ['Solo', 'icy']]);
  assert.deepEqual(whole.titles.map((t) => MP3_GRID.indexOf(t.pos)), [501, 504, 511]);
  for (const chunks of splits(stream)) {
    assert.deepEqual(run({ format: 'mp3', grid: MP3_GRID, startIdx: 500, metaint: METAINT }, chunks), whole);
  }
});

test('MP3 without ICY: every byte is audio', () => {
  const whole = run({ format: 'mp3', grid: MP3_GRID, startIdx: 0 }, [AUDIO]);
  assert.deepEqual(whole.units, whole.frames.map((f) => f[0]));
  assert.deepEqual(whole.titles, []);
  for (const chunks of splits(AUDIO)) assert.deepEqual(run({ format: 'mp3', grid: MP3_GRID, startIdx: 0 }, chunks), whole);
});

test('fMP4 (Opus packets): the init once, whole fragments with their frames, emsg titles', () => {
  // 48 kHz media time, 960-sample packets, on the 20 ms grid of a 44.1 kHz stream position.
  const init = initSegment(48000).bytes;
  const pkts = (n, seed) => Array.from({ length: n }, (_, i) => fakeFrame(seed + i, 40 + i));
  const f1 = fragment(1, 0, pkts(5, 1)).bytes; // fragment() lays out 1152-sample frames
  const f2 = fragment(2, 5, pkts(4, 9)).bytes;
  const title = emsg(5 * 1152, 48000, 'Cy - Third');
  const stream = concat([init, f1, title, f2]);
  const whole = run({ format: 'mp4', grid: OPUS_GRID, startIdx: 0 }, [stream]);
  assert.equal(whole.inits.length, 1);
  assert.deepEqual(whole.inits[0], [...init]);
  const at = (frames) => OPUS_GRID.indexOf(frames * 1152 / 48000);
  assert.deepEqual(whole.units, [at(0), at(5)]);
  assert.equal(whole.frames.length, 9);
  assert.deepEqual(whole.titles.map((t) => [t.text, t.source, t.pos]), [['Cy - Third', 'emsg', 5 * 1152 / 48000]]);
  for (const chunks of splits(stream)) assert.deepEqual(run({ format: 'mp4', grid: OPUS_GRID, startIdx: 0 }, chunks), whole);
});

test('titles split into artist and title at the first " - "', () => {
  assert.deepEqual(splitTitle('Ada - First'), { artist: 'Ada', title: 'First' });
  assert.deepEqual(splitTitle('Bo - Second - Part'), { artist: 'Bo', title: 'Second - Part' });
  assert.deepEqual(splitTitle('Solo'), { title: 'Solo' });
});
