// MP3 frame splitting: cuts a byte stream into whole MPEG Layer III frames and gives each its
// stream position, so the player can append, trim and replace audio on frame boundaries and
// knows exactly which second of the stream every byte belongs to. Pure: the same frames come
// out however the input is split into chunks.
import { concatBytes } from './bytes.js';

// Bitrates in kbps by bitrate index (0 = free format and 15 = invalid are rejected).
const BITRATES_MPEG1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_MPEG2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
// Sample rates of MPEG-1 by index; MPEG-2 halves them and MPEG-2.5 quarters them.
const SAMPLE_RATES_MPEG1 = [44100, 48000, 32000];

// The header's 2-bit version field.
const MPEG25 = 0;
const MPEG2 = 2;
const MPEG1 = 3;
// The header's 2-bit layer field for Layer III.
const LAYER3 = 1;

/**
 * Reads the 4-byte frame header at `offset`.
 * @param {Uint8Array} bytes
 * @param {number} offset
 * @returns {null | {length: number, sampleRate: number, samples: number, bitrate: number,
 *   channels: number, version: number}} `length` in bytes (header included), `bitrate` in
 *   kbps, `samples` per channel; `version` is 1, 2 or 2.5. Null when the bytes are not a
 *   usable Layer III header (no sync, another layer, a reserved or free-format value).
 */
export function parseFrameHeader(bytes, offset = 0) {
  if (offset < 0 || offset + 4 > bytes.length) return null;
  const b0 = bytes[offset];
  const b1 = bytes[offset + 1];
  const b2 = bytes[offset + 2];
  const b3 = bytes[offset + 3];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const version = (b1 >> 3) & 0b11;
  if (version === 1) return null; // reserved
  if (((b1 >> 1) & 0b11) !== LAYER3) return null;
  const bitrateIndex = b2 >> 4;
  if (bitrateIndex === 0 || bitrateIndex === 15) return null;
  const rateIndex = (b2 >> 2) & 0b11;
  if (rateIndex === 3) return null;
  // Emphasis 2 is reserved: a byte pattern that only garbage produces.
  if ((b3 & 0b11) === 2) return null;
  const mpeg1 = version === MPEG1;
  const bitrate = (mpeg1 ? BITRATES_MPEG1_L3 : BITRATES_MPEG2_L3)[bitrateIndex];
  const divisor = version === MPEG1 ? 1 : version === MPEG2 ? 2 : 4;
  const sampleRate = SAMPLE_RATES_MPEG1[rateIndex] / divisor;
  const samples = mpeg1 ? 1152 : 576;
  const padding = (b2 >> 1) & 1;
  // samples / 8 bytes per (bit/s ÷ sample rate), rounded down, plus the padding byte.
  const length = Math.floor(((samples / 8) * bitrate * 1000) / sampleRate) + padding;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  const versionNumber = version === MPEG1 ? 1 : version === MPEG2 ? 2 : 2.5;
  return { length, sampleRate, samples, bitrate, channels, version: versionNumber };
}

// A false sync in garbage rarely agrees with the real stream on all of these.
function sameStream(a, b) {
  return a.version === b.version && a.sampleRate === b.sampleRate;
}

export class FrameSplitter {
  /** @param {number} startPos stream position (seconds) of the first frame to come out. */
  constructor(startPos = 0) {
    this.reset(startPos);
  }

  /**
   * Forgets buffered bytes and sync, and restarts positions at `startPos` (used when a new
   * response starts, e.g. after a reconnection with `from=`).
   */
  reset(startPos = 0) {
    // Unconsumed input: at most a partial frame, or a few bytes that may start a header.
    this.buf = new Uint8Array(0);
    // Header of the last frame taken. While in sync a complete frame is taken at once; out of
    // sync (at the start, after garbage) a candidate must be confirmed by the header after it.
    this.synced = null;
    // Position = base + samples / rate. Counting whole samples rather than adding a float per
    // frame keeps positions exact over hours; base absorbs a change of sample rate.
    this.base = startPos;
    this.samples = 0;
    this.rate = 0;
    // Bytes that belonged to no frame, for diagnostics.
    this.skippedBytes = 0;
  }

  /** Stream position (seconds) of the next frame to come out. */
  get position() {
    return this.rate === 0 ? this.base : this.base + this.samples / this.rate;
  }

  /**
   * Adds bytes and returns every frame they complete.
   * @param {Uint8Array} chunk
   * @returns {Array<{pos: number, duration: number, bytes: Uint8Array}>}
   */
  push(chunk) {
    this.buf = this.buf.length === 0 ? chunk : concatBytes([this.buf, chunk]);
    return this.split(false);
  }

  /**
   * Ends the input: a last complete frame that still waits for confirmation is taken (a
   * candidate at the very end of the data is accepted). Partial bytes are dropped.
   */
  flush() {
    const frames = this.split(true);
    this.skippedBytes += this.buf.length;
    this.buf = new Uint8Array(0);
    return frames;
  }

  split(atEnd) {
    const out = [];
    const buf = this.buf;
    let at = 0;
    while (buf.length - at >= 4) {
      const header = parseFrameHeader(buf, at);
      if (header === null) {
        this.skip();
        at += 1;
        continue;
      }
      if (this.synced && !sameStream(this.synced, header)) {
        // Either garbage or a real change of format: look at it again out of sync, where it
        // needs a matching header after it to count.
        this.synced = null;
        continue;
      }
      const end = at + header.length;
      if (end > buf.length) {
        if (!atEnd) break; // the rest of the frame comes with the next chunk
        if (this.synced) {
          // The input was cut inside this frame: the rest is its beginning. Searching it for
          // headers would take a false sync in the audio data as a last frame.
          for (let i = at; i < buf.length; i++) this.skip();
          at = buf.length;
          break;
        }
        this.skip();
        at += 1;
        continue;
      }
      if (!this.synced) {
        if (end + 4 <= buf.length) {
          const next = parseFrameHeader(buf, end);
          if (next === null || !sameStream(header, next)) {
            this.skip();
            at += 1;
            continue;
          }
        } else if (!atEnd) {
          // Wait for the next header rather than risk taking a false sync now: the outcome
          // then does not depend on where a chunk happened to end.
          break;
        }
      }
      const duration = header.samples / header.sampleRate;
      out.push({ pos: this.position, duration, bytes: buf.slice(at, end) });
      this.advance(header);
      this.synced = header;
      at = end;
    }
    // A copy, never a view: `buf` may be the caller's chunk, which the caller may reuse.
    this.buf = buf.slice(at);
    return out;
  }

  skip() {
    this.synced = null;
    this.skippedBytes += 1;
  }

  advance(header) {
    if (header.sampleRate !== this.rate) {
      this.base = this.position;
      this.samples = 0;
      this.rate = header.sampleRate;
    }
    this.samples += header.samples;
  }
}

/**
 * Joins frames (as returned by FrameSplitter) into one buffer, e.g. for one appendBuffer call.
 * @param {Array<{bytes: Uint8Array}>} frames
 * @returns {Uint8Array}
 */
export function concatFrames(frames) {
  return frames.length ? concatBytes(frames.map((f) => f.bytes)) : new Uint8Array(0);
}

