// Builds the byte streams Drift's server sends, for the tests of the parsers and the demuxer:
// MP3 frames (MPEG-1 Layer III, 192 kbps, 44.1 kHz) and ICY blocks inserted every `metaint` bytes.
import assert from 'node:assert/strict';

// MPEG-1 Layer III, no CRC, 192 kbps (index 11), 44.1 kHz (index 0), stereo.
export function header192(padding) {
  return [0xff, 0xfb, 0xb0 | (padding ? 0b10 : 0), 0x00];
}

// A whole frame: `head` then deterministic filler below 0xFF, so no sync word can appear inside.
export function frame(head, length, seed) {
  const out = new Uint8Array(length);
  out.set(head);
  for (let i = 4; i < length; i++) out[i] = (i * 7 + seed * 31) % 255;
  return out;
}

// Frame i of a 192 kbps stream: padding on odd frames (626 / 627 bytes).
export function frame192(i) {
  const padded = i % 2 === 1;
  return frame(header192(padded), padded ? 627 : 626, i);
}

const utf8 = new TextEncoder();

// One ICY block: length byte, then the text zero-padded to a multiple of 16 (null → L = 0).
export function block(text) {
  if (text === null) return [0];
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  const units = Math.ceil(bytes.length / 16);
  const out = new Uint8Array(1 + units * 16);
  out[0] = units;
  out.set(bytes, 1);
  return [...out];
}

// An ICY response: `audio` with block i inserted after each `metaint` bytes.
export function icyStream(audio, metaint, blocks) {
  const out = [];
  let b = 0;
  for (let i = 0; i < audio.length; i += metaint) {
    const piece = audio.subarray(i, i + metaint);
    out.push(...piece);
    if (piece.length === metaint && i + metaint <= audio.length && b < blocks.length) {
      out.push(...block(blocks[b++]));
    }
  }
  assert.equal(b, blocks.length, 'test stream must hold every block');
  return Uint8Array.from(out);
}
