// The frames kept for "save" and the titles placed on the stream timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameHistory, CueList, FRAME_SECS, indexOf, parsePosition, posOf, MP3_GRID, OPUS_GRID,
} from '../js/frame-history.js';
import { property } from './fuzz.js';
import { chooseMode } from '../js/mse-sink.js';

const frame = (idx) => Uint8Array.from([idx & 0xff, (idx >> 8) & 0xff, 7]);

test('positions and frame indices convert both ways, robust to 6-decimal rounding', () => {
  assert.equal(indexOf(posOf(12345)), 12345);
  assert.equal(indexOf(Number(posOf(777).toFixed(6))), 777);
  assert.equal(indexOf(0), 0);
  assert.ok(Math.abs(FRAME_SECS - 0.0261224) < 1e-6);
});

test('history ignores repeats, so a reconnection that overlaps adds nothing twice', () => {
  const h = new FrameHistory(60);
  for (let i = 10; i < 20; i++) assert.equal(h.add(i, frame(i)), true);
  assert.equal(h.add(15, frame(15)), false);
  assert.equal(h.add(19, frame(19)), false);
  assert.equal(h.nextIndex, 20);
  assert.equal(h.frames.length, 10);
});

test('a splice drops the replaced future and the next frame goes where it was cut', () => {
  const h = new FrameHistory(60);
  for (let i = 0; i < 100; i++) h.add(i, frame(i));
  h.dropFrom(40);
  assert.equal(h.nextIndex, 40);
  assert.equal(h.add(40, frame(40)), true);
});

test('trim keeps keepSeconds of heard audio and everything ahead', () => {
  const h = new FrameHistory(2);
  for (let i = 0; i < 400; i++) h.add(i, frame(i));
  h.trim(posOf(300));
  assert.equal(h.frames[0].idx, indexOf(posOf(300) - 2));
  assert.equal(h.nextIndex, 400);
});

test('clip: the last N seconds before the play point, whole frames, in order', () => {
  const h = new FrameHistory(60);
  for (let i = 0; i < 1000; i++) h.add(i, frame(i));
  const c = h.clip(posOf(500), 10);
  const n = 500 - indexOf(posOf(500) - 10);
  assert.equal(c.bytes.length, n * 3);
  assert.equal(c.start, posOf(500 - n));
  assert.ok(Math.abs(c.seconds - n * FRAME_SECS) < 1e-9);
  assert.deepEqual(Array.from(c.bytes.slice(-3)), Array.from(frame(499)));
  assert.deepEqual(Array.from(c.bytes.slice(0, 3)), Array.from(frame(500 - n)));
});

test('clip stops at a gap rather than gluing audio that was not contiguous', () => {
  const h = new FrameHistory(60);
  for (let i = 0; i < 50; i++) h.add(i, frame(i));
  for (let i = 80; i < 200; i++) h.add(i, frame(i));
  const c = h.clip(posOf(100), 60);
  assert.equal(c.start, posOf(80));
  assert.equal(c.bytes.length, 20 * 3);
  assert.equal(new FrameHistory().clip(3, 10).bytes.length, 0);
});

test('cues: the title in effect follows the play point; exact cues replace near ones', () => {
  const cues = new CueList();
  cues.add(10, { title: 'A' });
  cues.add(40, { title: 'B' });
  cues.add(70, { title: 'C' });
  assert.equal(cues.at(5), null);
  assert.equal(cues.at(10).info.title, 'A');
  assert.equal(cues.at(39.99).info.title, 'A');
  assert.equal(cues.at(40).info.title, 'B');
  assert.equal(cues.after(40).info.title, 'C');
  cues.add(40 + FRAME_SECS / 2, { album: 'X' });
  assert.equal(cues.cues.length, 3, 'same position within a frame: merged');
  assert.equal(cues.at(41).info.title, 'B');
  assert.equal(cues.at(41).info.album, 'X');
});

test('cues after a splice point are forgotten; trim keeps the one in effect', () => {
  const cues = new CueList();
  for (const [p, t] of [[0, 'A'], [30, 'B'], [60, 'C'], [90, 'D']]) cues.add(p, { title: t });
  cues.dropFrom(60);
  assert.deepEqual(cues.cues.map((c) => c.info.title), ['A', 'B']);
  cues.trim(45);
  assert.deepEqual(cues.cues.map((c) => c.info.title), ['B']);
});

test('the player path is chosen by probing MediaSource, never by the user agent', () => {
  const ms = (types) => ({ isTypeSupported: (t) => types.includes(t) });
  const chromium = { MediaSource: ms(['audio/mpeg']) };
  const firefox = { MediaSource: ms(['audio/mp4; codecs="mp3"']) };
  const safari = { ManagedMediaSource: ms(['audio/mpeg']), MediaSource: ms([]) };
  assert.equal(chooseMode(chromium).format, 'mp3');
  assert.equal(chooseMode(chromium).kind, 'mse');
  assert.equal(chooseMode(firefox).format, 'mp4');
  assert.equal(chooseMode(safari).managed, true);
  assert.equal(chooseMode({}).kind, 'direct');
  assert.equal(chooseMode({ MediaSource: ms([]) }).kind, 'direct');
  assert.equal(chooseMode(chromium, 'direct').kind, 'direct');
  assert.equal(chooseMode({ MediaSource: ms(['audio/mpeg', 'audio/mp4; codecs="mp3"']) }, 'mp4').format, 'mp4');
  // Opus in fMP4 where MediaSource takes it and the server offers it; ?codec=mp3 keeps MP3.
  const opus = 'audio/mp4; codecs="opus"';
  const both = { MediaSource: ms(['audio/mpeg', opus]) };
  assert.deepEqual(
    [chooseMode(both, 'auto', { opus: true }).codec, chooseMode(both, 'auto', { opus: true }).mime],
    ['opus', opus],
  );
  assert.equal(chooseMode(both, 'auto', { opus: true, codec: 'mp3' }).codec, 'mp3');
  assert.equal(chooseMode(both, 'auto', { opus: false }).codec, 'mp3');
  assert.equal(chooseMode(chromium, 'auto', { opus: true }).codec, 'mp3');
  assert.equal(chooseMode(both, 'direct', { opus: true }).kind, 'direct');
});

test('frame grids: MP3 frames of 1152 samples, Opus packets of 20 ms, on one timeline', () => {
  assert.equal(MP3_GRID.secs, 1152 / 44100);
  assert.equal(OPUS_GRID.secs, 0.02);
  for (const grid of [MP3_GRID, OPUS_GRID]) {
    for (const idx of [0, 1, 7, 123_456, 2 ** 40]) {
      assert.equal(grid.indexOf(grid.posOf(idx)), idx);
      // Rounded in transit (X-Drift-Position has 6 decimals): still the same frame.
      assert.equal(grid.indexOf(Number(grid.posOf(idx).toFixed(6))), idx);
    }
  }
  // A clip of an Opus history counts 20 ms per packet.
  const h = new FrameHistory(60, OPUS_GRID);
  for (let i = 100; i < 400; i++) h.add(i, new Uint8Array([i & 0xff]));
  const clip = h.clip(OPUS_GRID.posOf(400), 2);
  assert.equal(clip.seconds, 2);
  assert.equal(clip.start, OPUS_GRID.posOf(300));
});

test('X-Drift-Position: what the server writes reads back; anything else is null, never NaN', () => {
  assert.equal(parsePosition('123.456789'), 123.456789);
  assert.equal(parsePosition(' 0 '), 0);
  assert.equal(parsePosition('1e3'), 1000);
  assert.equal(parsePosition(null), 0); // header missing
  // Each of these once became a NaN start index (parseFloat), and every frame a NaN position.
  for (const bad of ['', 'abc', '-1', 'NaN', 'Infinity', '1e300', '12abc', '0x10', '1,5']) {
    assert.equal(parsePosition(bad), null, bad);
  }
  const chars = ['0', '1', '9', '.', '-', '+', 'e', 'E', ' ', 'x', 'I', 'n', ','];
  property('x-drift-position', 2000, (rng) => {
    const text = Array.from({ length: rng.int(12) }, () => rng.pick(chars)).join('');
    const pos = parsePosition(text);
    if (pos === null) return;
    assert.ok(Number.isFinite(pos) && pos >= 0, `${text} -> ${pos}`);
    assert.ok(Number.isSafeInteger(indexOf(pos)), text);
  });
});

test('CueList.place: an event cue replaces a stream title near it; a stream title never replaces one', () => {
  const cues = new CueList();
  cues.place(100, { title: 'From ICY', source: 'icy' }, false);
  cues.place(100.5, { title: 'From the events', source: 'sse' }, true);
  assert.deepEqual(cues.cues.map((c) => [c.pos, c.info.title]), [[100.5, 'From the events']]);
  cues.place(101, { title: 'Late ICY', source: 'icy' }, false);
  assert.equal(cues.cues.length, 1);
  cues.place(200, { title: 'Next', source: 'emsg' }, false);
  assert.equal(cues.cues.length, 2);
});

test('CueList.reached: each change of track once, however often asked', () => {
  const cues = new CueList();
  cues.add(10, { title: 'A' });
  cues.add(20, { title: 'B' });
  assert.equal(cues.reached(5), null);
  assert.equal(cues.reached(11).info.title, 'A');
  assert.equal(cues.reached(12), null);
  cues.add(10, { title: 'A', album: 'heartbeat repeat' }); // merged into the same cue
  assert.equal(cues.reached(13), null);
  assert.equal(cues.reached(20).info.title, 'B');
});
