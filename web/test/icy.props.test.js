// Property tests of icy.js on random and mutated responses: the stripper never throws, holds
// at most one metadata block (255 × 16 bytes), gives the same audio and titles however the
// response is split, and gives back exactly the audio and titles the server interleaved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcyStripper, parseIcyMetadata } from '../js/icy.js';
import { concatBytes } from '../js/bytes.js';
import { mutate, property, randomBytes, randomPieces } from './fuzz.js';

const MAX_BLOCK = 255 * 16;
const utf8 = new TextEncoder();

// What the server does to a title (src/http/icy.rs): a quote would end the value early.
const sanitize = (t) => t.replace(/'/g, '’').replace(/[\r\n\0]/g, ' ');

// The server's interleaver: `metaint` audio bytes, then a block (0 when the title is unchanged).
function interleave(metaint, pieces) {
  const out = [];
  let until = metaint;
  let announced = null;
  for (const { audio, title } of pieces) {
    for (const byte of audio) {
      out.push(byte);
      if (--until > 0) continue;
      until = metaint;
      if (announced === title) {
        out.push(0);
        continue;
      }
      const text = utf8.encode(`StreamTitle='${sanitize(title)}';`).subarray(0, MAX_BLOCK);
      const units = Math.ceil(text.length / 16);
      out.push(units, ...text, ...new Array(units * 16 - text.length).fill(0));
      announced = title;
    }
  }
  return Uint8Array.from(out);
}

const TITLE_CHARS = ['a', 'Z', ' ', "'", ';', '=', '’', 'é', '日', '\0', '\n', '🎵', '-'];
const randomTitle = (rng, max) =>
  Array.from({ length: rng.int(max) }, () => rng.pick(TITLE_CHARS)).join('');

// Runs a stripper over `pieces`, checking that it never holds more than one block.
function strip(metaint, pieces) {
  const s = new IcyStripper(metaint);
  const audio = [];
  const meta = [];
  for (const p of pieces) {
    const out = s.push(p);
    audio.push(out.audio);
    meta.push(...out.meta);
    assert.ok((s.meta?.length ?? 0) <= MAX_BLOCK);
  }
  assert.equal(s.audioBytes, audio.reduce((n, a) => n + a.length, 0));
  return { audio: concatBytes([new Uint8Array(0), ...audio]), meta };
}

test('strip(interleave(audio, titles)) gives back the audio and every new title', () => {
  property('icy round trip', 300, (rng) => {
    const metaint = rng.range(1, 300);
    const pieces = Array.from({ length: rng.range(1, 8) }, () => ({
      audio: randomBytes(rng, 500),
      title: rng.bool(0.3) ? 'Same - Title' : randomTitle(rng, 60),
    }));
    const data = interleave(metaint, pieces);
    const got = strip(metaint, randomPieces(rng, data));
    const audio = concatBytes([new Uint8Array(0), ...pieces.map((p) => p.audio)]);
    assert.deepStrictEqual(got.audio, audio);
    // Expected entries: a block after every metaint bytes whose title changed.
    const expected = [];
    let offset = 0;
    let announced = null;
    for (const { audio: a, title } of pieces) {
      for (let i = 0; i < a.length; i++) {
        if (++offset % metaint !== 0 || announced === title) continue;
        expected.push({ audioOffset: offset, title: sanitize(title) });
        announced = title;
      }
    }
    assert.deepStrictEqual(got.meta.map(({ audioOffset, title }) => ({ audioOffset, title })), expected);
  });
});

test('random and mutated responses: no throw, bounded, split-invariant', () => {
  property('icy any input', 400, (rng) => {
    const metaint = rng.range(1, 200);
    const valid = interleave(metaint, [{ audio: randomBytes(rng, 2000), title: randomTitle(rng, 300) }]);
    const data = rng.bool() ? mutate(rng, valid) : randomBytes(rng, 5000);
    const whole = strip(metaint, [data]);
    const pieced = strip(metaint, randomPieces(rng, data));
    assert.deepStrictEqual(pieced, whole);
  });
});

test('parseIcyMetadata of any text: no throw, string fields, quick', () => {
  const alphabet = ["'", ';', '=', 'S', 't', ' ', '\0', "';", "='", 'StreamTitle'];
  property('icy metadata text', 500, (rng) => {
    const text = Array.from({ length: rng.int(1500) }, () => rng.pick(alphabet)).join('');
    const started = Date.now();
    const fields = parseIcyMetadata(text);
    assert.ok(Date.now() - started < 500, 'parsing one block took too long');
    for (const v of Object.values(fields)) assert.equal(typeof v, 'string');
  });
});
