// Reading Drift's fragmented MP4 streams (`audio/mp4; codecs="mp3"` for Firefox's MediaSource,
// `audio/mp4; codecs="opus"` for every MediaSource that takes Opus): splits the byte stream
// into top-level boxes, keeps the init segment, and turns each moof + mdat pair into bytes for
// appendBuffer plus the frames (MP3 frames or Opus packets) inside with their stream positions,
// so the player trims and splices these streams the same way as the plain MP3 one; `emsg`
// boxes of Drift's title scheme become titles at their stream position.
// Pure: the same boxes come out however the input is split into chunks.
import { concatBytes } from './bytes.js';

// Drift's streams: 44.1 kHz, and a frame of 1152 samples when a fragment does not say.
const DEFAULT_TIMESCALE = 44100;
// A box header claiming more than this is corrupt data, not a box to wait for forever.
const DEFAULT_MAX_BOX = 64 * 1024 * 1024;

// tfhd flags (ISO/IEC 14496-12 §8.8.7).
const TFHD_BASE_DATA_OFFSET = 0x000001;
const TFHD_SAMPLE_DESCRIPTION = 0x000002;
const TFHD_DEFAULT_DURATION = 0x000008;
const TFHD_DEFAULT_SIZE = 0x000010;
const TFHD_DEFAULT_FLAGS = 0x000020;
// trun flags (§8.8.8).
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_FIRST_SAMPLE_FLAGS = 0x000004;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_COMPOSITION_OFFSET = 0x000800;

function fourcc(bytes, at) {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function u32(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

// 64-bit values as Numbers: exact up to 2^53, which is 6000 years at 48 kHz.
function u64(bytes, at) {
  const value = u32(bytes, at) * 2 ** 32 + u32(bytes, at + 4);
  if (!Number.isSafeInteger(value)) throw new RangeError('64-bit MP4 value too large');
  return value;
}

/**
 * Reads the header of the box at `at`: its size (header included) and header length, or null
 * when fewer than the header's bytes are there.
 */
function boxHeader(bytes, at, end = bytes.length) {
  if (end - at < 8) return null;
  let size = u32(bytes, at);
  let headerLength = 8;
  if (size === 1) {
    if (end - at < 16) return null;
    size = u64(bytes, at + 8);
    headerLength = 16;
  } else if (size === 0) {
    // "Extends to the end of the file": there is no end in an endless stream.
    throw new RangeError(`MP4 box '${fourcc(bytes, at + 4)}' of unbounded size`);
  }
  if (size < headerLength) throw new RangeError(`MP4 box size ${size} is below its header`);
  return { type: fourcc(bytes, at + 4), size, headerLength };
}

// The child boxes of a container's payload [start, end), as {type, start, end, body}.
function children(bytes, start, end) {
  const out = [];
  let at = start;
  while (at < end) {
    const h = boxHeader(bytes, at, end);
    if (h === null || at + h.size > end) throw new RangeError('truncated MP4 box');
    out.push({ type: h.type, start: at, end: at + h.size, body: at + h.headerLength });
    at += h.size;
  }
  return out;
}

function child(bytes, parent, type) {
  return children(bytes, parent.body, parent.end).find((c) => c.type === type) ?? null;
}

// A box whose body is shorter than the fields about to be read is corrupt: reading on would
// take bytes of the next box, or undefined past the end, which turns into NaN times.
function need(box, bodyLength) {
  if (box.body + bodyLength > box.end) throw new RangeError(`truncated ${box.type}`);
}

// The whole `bytes` seen as one box.
function root(bytes) {
  const h = boxHeader(bytes, 0);
  if (h === null || h.size !== bytes.length) throw new RangeError('not exactly one MP4 box');
  return { type: h.type, start: 0, end: h.size, body: h.headerLength };
}

/** The `emsg` scheme of Drift's track titles ("Artist - Title" as the message data). */
export const TITLE_SCHEME = 'urn:drift:title';

/**
 * A title from an `emsg` box (version 1: timescale, 64-bit presentation time, duration, id,
 * scheme and value as C strings, then the message) of Drift's title scheme: `{time, title}`
 * with `time` in seconds; null for another scheme or version.
 * @param {Uint8Array} bytes the whole box
 */
export function parseEmsg(bytes) {
  const box = root(bytes);
  need(box, 24);
  if (bytes[box.body] !== 1) return null;
  const timescale = u32(bytes, box.body + 4);
  const time = u64(bytes, box.body + 8);
  let at = box.body + 24;
  const cstring = () => {
    const end = bytes.indexOf(0, at);
    if (end < 0 || end >= box.end) throw new RangeError('truncated emsg');
    const text = new TextDecoder().decode(bytes.subarray(at, end));
    at = end + 1;
    return text;
  };
  const scheme = cstring();
  cstring(); // value
  if (scheme !== TITLE_SCHEME || timescale === 0) return null;
  return { time: time / timescale, title: new TextDecoder().decode(bytes.subarray(at, box.end)) };
}

export class BoxSplitter {
  /** @param {{maxBoxSize?: number}} [opts] larger boxes throw instead of buffering forever. */
  constructor({ maxBoxSize = DEFAULT_MAX_BOX } = {}) {
    this.maxBoxSize = maxBoxSize;
    // Unconsumed input as a list of chunks: a large mdat arriving in small pieces is copied
    // once when complete, not once per piece.
    this.parts = [];
    this.length = 0;
  }

  /**
   * Adds bytes and returns every top-level box they complete. Throws a RangeError on a box
   * header that cannot be right (size below its header, size 0, above maxBoxSize).
   * @param {Uint8Array} chunk
   * @returns {Array<{type: string, bytes: Uint8Array}>} bytes = the whole box, header included.
   */
  push(chunk) {
    if (chunk.length > 0) {
      this.parts.push(chunk);
      this.length += chunk.length;
    }
    const out = [];
    for (;;) {
      const head = this.peek(16);
      const h = boxHeader(head, 0);
      if (h === null) break;
      if (h.size > this.maxBoxSize) {
        throw new RangeError(`MP4 box '${h.type}' of ${h.size} bytes exceeds the limit`);
      }
      if (this.length < h.size) break;
      out.push({ type: h.type, bytes: this.take(h.size) });
    }
    return out;
  }

  // The first min(n, length) buffered bytes, without consuming them.
  peek(n) {
    const first = this.parts[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return this.copy(Math.min(n, this.length), false);
  }

  // Removes and returns the first n bytes, always as a copy the caller may keep.
  take(n) {
    return this.copy(n, true);
  }

  copy(n, consume) {
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const part = this.parts[i];
      const k = Math.min(part.length, n - filled);
      out.set(part.subarray(0, k), filled);
      filled += k;
      if (consume) {
        if (k === part.length) this.parts.shift();
        else this.parts[0] = part.subarray(k);
      } else {
        i += 1;
      }
    }
    if (consume) this.length -= n;
    return out;
  }
}

/**
 * Reads one fragment: its start time and the samples (MP3 frames) in its mdat.
 * Sample sizes come from the trun (else the tfhd default, else `defaults.sampleSize`);
 * durations likewise from trun, tfhd or `defaults.sampleDuration` (the trex values).
 * Data offsets count from the start of the moof (default-base-is-moof, or no base offset),
 * with the mdat following the moof after `gap` bytes of other boxes.
 * @param {Uint8Array} moofBytes the whole moof box
 * @param {Uint8Array} mdatBytes the whole mdat box
 * @param {number} [timescale] ticks per second of the track (the mdhd timescale)
 * @param {{sampleDuration?: number, sampleSize?: number, gap?: number}} [defaults]
 * @returns {{baseTime: number, frames: Array<{pos: number, duration: number,
 *   bytes: Uint8Array}>}} times in seconds; frame bytes are views into mdatBytes.
 */
export function parseFragment(moofBytes, mdatBytes, timescale = DEFAULT_TIMESCALE, defaults = {}) {
  const moof = root(moofBytes);
  const mdat = root(mdatBytes);
  if (moof.type !== 'moof') throw new RangeError(`expected moof, got '${moof.type}'`);
  if (mdat.type !== 'mdat') throw new RangeError(`expected mdat, got '${mdat.type}'`);
  // Offsets below are in one coordinate system: moof, gap, then mdat, as appended.
  const mdatStart = moofBytes.length + (defaults.gap ?? 0);
  const payloadStart = mdatStart + mdat.body;
  const payloadEnd = mdatStart + mdatBytes.length;

  const frames = [];
  let baseTime = null;
  for (const traf of children(moofBytes, moof.body, moof.end)) {
    if (traf.type !== 'traf') continue;
    const tfhd = readTfhd(moofBytes, child(moofBytes, traf, 'tfhd'));
    const tfdt = child(moofBytes, traf, 'tfdt');
    let ticks = tfdt ? readTfdt(moofBytes, tfdt) : 0;
    if (baseTime === null) baseTime = ticks / timescale;
    // Without an explicit offset, a trun's data follows the previous trun's, and the first
    // trun's data starts the mdat payload.
    let cursor = payloadStart;
    for (const trun of children(moofBytes, traf.body, traf.end)) {
      if (trun.type !== 'trun') continue;
      const run = readTrun(moofBytes, trun, payloadEnd - payloadStart);
      if (run.dataOffset !== null && !tfhd.absoluteBase) cursor = run.dataOffset;
      for (const sample of run.samples) {
        const size = sample.size ?? tfhd.sampleSize ?? defaults.sampleSize;
        const duration = sample.duration ?? tfhd.sampleDuration ?? defaults.sampleDuration;
        if (size === undefined) throw new RangeError('MP4 sample without a size');
        if (duration === undefined) throw new RangeError('MP4 sample without a duration');
        if (cursor < payloadStart || cursor + size > payloadEnd) {
          throw new RangeError('MP4 sample outside its mdat');
        }
        const from = cursor - mdatStart;
        frames.push({
          // From integer ticks each time, so positions do not drift with rounding.
          pos: ticks / timescale,
          duration: duration / timescale,
          bytes: mdatBytes.subarray(from, from + size),
        });
        ticks += duration;
        cursor += size;
      }
    }
  }
  return { baseTime: baseTime ?? 0, frames };
}

function readTfhd(bytes, box) {
  if (box === null) throw new RangeError('traf without tfhd');
  const flags = u32(bytes, box.body) & 0xffffff;
  let at = box.body + 8; // version/flags, track_ID
  const out = { sampleDuration: undefined, sampleSize: undefined, absoluteBase: false };
  // An absolute file offset means nothing in a stream: the truns' offsets, relative to it,
  // are then ignored and the data is taken to start the mdat payload.
  if (flags & TFHD_BASE_DATA_OFFSET) {
    out.absoluteBase = true;
    at += 8;
  }
  if (flags & TFHD_SAMPLE_DESCRIPTION) at += 4;
  if (flags & TFHD_DEFAULT_DURATION) {
    out.sampleDuration = u32(bytes, at);
    at += 4;
  }
  if (flags & TFHD_DEFAULT_SIZE) {
    out.sampleSize = u32(bytes, at);
    at += 4;
  }
  if (flags & TFHD_DEFAULT_FLAGS) at += 4;
  if (at > box.end) throw new RangeError('truncated tfhd');
  return out;
}

function readTfdt(bytes, box) {
  need(box, 8);
  const version = bytes[box.body];
  if (version === 1) need(box, 12);
  return version === 1 ? u64(bytes, box.body + 4) : u32(bytes, box.body + 4);
}

// `maxSamples`: the mdat's payload length. A trun without per-sample fields takes every size
// from the defaults, so nothing in the box bounds its count; such a count beyond one sample
// per payload byte is corrupt, and looping over it would take minutes and gigabytes. (With
// per-sample fields the box bounds the count, and an empty sample is allowed.)
function readTrun(bytes, box, maxSamples) {
  need(box, 8);
  const flags = u32(bytes, box.body) & 0xffffff;
  const count = u32(bytes, box.body + 4);
  let at = box.body + 8;
  let dataOffset = null;
  if (flags & TRUN_DATA_OFFSET) {
    dataOffset = u32(bytes, at) | 0; // signed
    at += 4;
  }
  if (flags & TRUN_FIRST_SAMPLE_FLAGS) at += 4;
  const fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_COMPOSITION_OFFSET].filter(
    (f) => flags & f,
  ).length;
  if (at + count * fields * 4 > box.end) throw new RangeError('truncated trun');
  if (fields === 0 && count > maxSamples) {
    throw new RangeError(`trun of ${count} samples for ${maxSamples} bytes`);
  }
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const sample = { duration: undefined, size: undefined };
    if (flags & TRUN_DURATION) {
      sample.duration = u32(bytes, at);
      at += 4;
    }
    if (flags & TRUN_SIZE) {
      sample.size = u32(bytes, at);
      at += 4;
    }
    if (flags & TRUN_FLAGS) at += 4;
    if (flags & TRUN_COMPOSITION_OFFSET) at += 4;
    samples.push(sample);
  }
  return { dataOffset, samples };
}

// What a fragment needs from the init segment: the track's timescale and trex defaults.
function readInit(moovBytes) {
  const moov = root(moovBytes);
  const info = { timescale: DEFAULT_TIMESCALE, sampleDuration: undefined, sampleSize: undefined };
  const trak = child(moovBytes, moov, 'trak');
  const mdia = trak && child(moovBytes, trak, 'mdia');
  const mdhd = mdia && child(moovBytes, mdia, 'mdhd');
  if (mdhd) {
    // version 1 has 64-bit creation and modification times before the timescale.
    const at = mdhd.body + 4 + (moovBytes[mdhd.body] === 1 ? 16 : 8);
    need(mdhd, at + 4 - mdhd.body);
    const timescale = u32(moovBytes, at);
    if (timescale > 0) info.timescale = timescale;
  }
  const mvex = child(moovBytes, moov, 'mvex');
  const trex = mvex && child(moovBytes, mvex, 'trex');
  if (trex) {
    need(trex, 20);
    info.sampleDuration = u32(moovBytes, trex.body + 12);
    info.sampleSize = u32(moovBytes, trex.body + 16);
  }
  return info;
}


export class Mp4Reader {
  constructor(opts = {}) {
    this.splitter = new BoxSplitter(opts);
    // Boxes seen before the moov (ftyp …), which belong to the init segment.
    this.preamble = [];
    // The moof waiting for its mdat, and any boxes between them (kept: data offsets span them).
    this.moof = null;
    this.between = [];
    // From the init segment; Drift's values until one has been read.
    this.timescale = DEFAULT_TIMESCALE;
    this.defaults = {};
  }

  /**
   * Adds bytes. `init` is the ftyp + moov (for the first appendBuffer) once the moov is
   * complete, else null; each fragment is a moof with its mdat, ready for appendBuffer, with
   * the frames inside; `titles` come from `emsg` boxes. Boxes outside that shape (an mdat
   * without a moof) are dropped.
   * @param {Uint8Array} chunk
   * @returns {{init: Uint8Array|null, fragments: Array<{bytes: Uint8Array, baseTime: number,
   *   frames: Array<{pos: number, duration: number, bytes: Uint8Array}>}>,
   *   titles: Array<{time: number, title: string}>}}
   */
  push(chunk) {
    let init = null;
    const fragments = [];
    const titles = [];
    for (const box of this.splitter.push(chunk)) {
      if (box.type === 'emsg' && this.moof === null) {
        const t = parseEmsg(box.bytes);
        if (t) titles.push(t);
      } else if (box.type === 'moov') {
        const info = readInit(box.bytes);
        this.timescale = info.timescale;
        this.defaults = { sampleDuration: info.sampleDuration, sampleSize: info.sampleSize };
        init = concatBytes([...this.preamble, box.bytes]);
        this.preamble = [];
      } else if (box.type === 'moof') {
        this.moof = box.bytes;
        this.between = [];
      } else if (box.type === 'mdat') {
        if (this.moof === null) continue;
        const gap = this.between.reduce((n, b) => n + b.length, 0);
        const parsed = parseFragment(this.moof, box.bytes, this.timescale, {
          ...this.defaults,
          gap,
        });
        fragments.push({ bytes: concatBytes([this.moof, ...this.between, box.bytes]), ...parsed });
        this.moof = null;
        this.between = [];
      } else if (this.moof !== null) {
        // Kept for the data offsets that span them, so bounded like one box: a moof followed
        // by endless other boxes is corrupt, not something to buffer forever.
        this.between.push(box.bytes);
        const held = this.between.reduce((n, b) => n + b.length, 0);
        if (held > this.splitter.maxBoxSize) {
          throw new RangeError(`${held} bytes of boxes between a moof and its mdat`);
        }
      } else if (box.type === 'ftyp') {
        this.preamble = [box.bytes];
      }
    }
    return { init, fragments, titles };
  }
}
