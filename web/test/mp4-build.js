// Builds fragmented MP4 as Drift's server lays it out (ftyp + moov, then moof + mdat pairs),
// for the tests of mp4-boxes.js and its property tests.
import { concatBytes } from '../js/bytes.js';

export const ascii = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));

export function bytes(...parts) {
  const flat = parts.flatMap((p) => (typeof p === 'string' ? [...ascii(p)] : [...p]));
  return Uint8Array.from(flat);
}

export function u32(n) {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function u64(n) {
  return [...u32(Math.floor(n / 2 ** 32)), ...u32(n % 2 ** 32)];
}

export function box(type, ...parts) {
  const body = bytes(...parts);
  return bytes(u32(8 + body.length), type, body);
}

// The 64-bit header form: size 1, then the size as 64 bits.
export function largeBox(type, ...parts) {
  const body = bytes(...parts);
  return bytes(u32(1), type, u64(16 + body.length), body);
}

export function full(type, version, flags, ...parts) {
  return box(type, [version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff], ...parts);
}

export const concat = (list) => (list.length ? concatBytes(list) : new Uint8Array(0));

// ftyp + moov with a 1152-sample trex default and the given mdhd timescale.
export function initSegment(timescale = 44100, mdhdVersion = 0) {
  const ftyp = box('ftyp', 'iso6', u32(0), 'iso6', 'isom', 'mp41');
  const mvhd = full('mvhd', 0, 0, u32(0), u32(0), u32(timescale), u32(0), new Array(80).fill(0));
  const tkhd = full('tkhd', 0, 3, u32(0), u32(0), u32(1), new Array(68).fill(0));
  const times = mdhdVersion === 1 ? [...u64(0), ...u64(0)] : [...u32(0), ...u32(0)];
  const duration = mdhdVersion === 1 ? u64(0) : u32(0);
  const mdhd = full('mdhd', mdhdVersion, 0, times, u32(timescale), duration, [0x55, 0xc4, 0, 0]);
  const hdlr = full('hdlr', 0, 0, u32(0), 'soun', new Array(12).fill(0), 'Drift\0');
  const stbl = box('stbl', full('stsd', 0, 0, u32(0)));
  const minf = box('minf', full('smhd', 0, 0, u32(0)), stbl);
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  const trex = full('trex', 0, 0, u32(1), u32(1), u32(1152), u32(0), u32(0));
  const moov = box('moov', mvhd, trak, box('mvex', trex));
  return { ftyp, moov, bytes: concat([ftyp, moov]) };
}

// moof + mdat as the server builds them: tfhd 0x020008 (base is moof, default duration 1152),
// tfdt v1 = firstFrame × 1152, trun 0x000201 (data offset, per-sample sizes).
export function fragment(sequence, firstFrame, frames, { gapBox = null } = {}) {
  const mfhd = full('mfhd', 0, 0, u32(sequence));
  const tfhd = full('tfhd', 0, 0x020008, u32(1), u32(1152));
  const tfdt = full('tfdt', 1, 0, u64(firstFrame * 1152));
  const trunFor = (offset) =>
    full('trun', 0, 0x000201, u32(frames.length), u32(offset), ...frames.map((f) => u32(f.length)));
  const moofFor = (offset) => box('moof', mfhd, box('traf', tfhd, tfdt, trunFor(offset)));
  const moofLength = moofFor(0).length;
  const gap = gapBox ? gapBox.length : 0;
  const moof = moofFor(moofLength + gap + 8);
  const mdat = box('mdat', concat(frames));
  return { moof, mdat, bytes: concat(gapBox ? [moof, gapBox, mdat] : [moof, mdat]) };
}

// Fake MP3 frames: the MP4 layer does not look inside them, only their sizes matter.
export function fakeFrame(seed, length) {
  return Uint8Array.from({ length }, (_, i) => (i * 13 + seed * 7) & 0xff);
}


// An emsg (version 1) as Drift writes titles: timescale, presentation time, "until the next"
// duration, id, scheme, value "1", then the text in UTF-8.
export function emsg(time, timescale, text, scheme = 'urn:drift:title', id = 1) {
  const utf8 = [...new TextEncoder().encode(text)];
  return full('emsg', 1, 0, u32(timescale), u64(time), u32(0xffffffff), u32(id), scheme, [0], '1', [0], utf8);
}
