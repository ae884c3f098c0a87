// ICY (SHOUTcast) in-band metadata: strips the metadata blocks that a server inserts after
// every `icy-metaint` bytes of audio, and reports each block with the audio offset where it
// fell, so a title can be shown when playback reaches that byte rather than when it arrived.
// Pure: bytes in, audio and metadata out, the same however the input is split into chunks.
import { concatBytes } from './bytes.js';

// Reading states of the stripper: which part of the ICY framing the next byte belongs to.
const AUDIO = 0;
const LENGTH = 1;
const META = 2;

// Metadata blocks are at most 255 × 16 bytes (the length byte counts 16-byte units).
const META_UNIT = 16;

export class IcyStripper {
  /**
   * @param {number|null|undefined} metaint the `icy-metaint` response header; 0, null or
   *   undefined means the server sent no metadata and every byte is audio.
   */
  constructor(metaint) {
    if (metaint == null || metaint === 0) {
      this.metaint = 0;
    } else if (!Number.isSafeInteger(metaint) || metaint < 0) {
      throw new RangeError(`icy-metaint must be a non-negative integer, got ${metaint}`);
    } else {
      this.metaint = metaint;
    }
    this.state = AUDIO;
    // Audio bytes still to come before the next length byte.
    this.untilMeta = this.metaint;
    // Audio bytes delivered since the start of the response: the offset reported with a block.
    this.audioBytes = 0;
    // The block being collected; it may span any number of chunks.
    this.meta = null;
    this.metaFilled = 0;
  }

  /**
   * Splits one chunk of the response body.
   * @param {Uint8Array} chunk
   * @returns {{audio: Uint8Array, meta: Array<{audioOffset: number, title: string|null,
   *   fields: Object<string, string>}>}} `audio` may be a view into `chunk`, or empty.
   */
  push(chunk) {
    if (this.metaint === 0) {
      this.audioBytes += chunk.length;
      return { audio: chunk, meta: [] };
    }
    const pieces = [];
    const meta = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.state === AUDIO) {
        const n = Math.min(this.untilMeta, chunk.length - i);
        pieces.push(chunk.subarray(i, i + n));
        i += n;
        this.untilMeta -= n;
        this.audioBytes += n;
        if (this.untilMeta === 0) this.state = LENGTH;
      } else if (this.state === LENGTH) {
        const size = chunk[i] * META_UNIT;
        i += 1;
        if (size === 0) {
          // L = 0: "nothing changed"; audio resumes at once.
          this.endBlock();
        } else {
          this.meta = new Uint8Array(size);
          this.metaFilled = 0;
          this.state = META;
        }
      } else {
        const n = Math.min(this.meta.length - this.metaFilled, chunk.length - i);
        this.meta.set(chunk.subarray(i, i + n), this.metaFilled);
        this.metaFilled += n;
        i += n;
        if (this.metaFilled === this.meta.length) {
          const entry = metaEntry(this.meta, this.audioBytes);
          if (entry) meta.push(entry);
          this.meta = null;
          this.endBlock();
        }
      }
    }
    return { audio: (pieces.length ? concatBytes(pieces) : new Uint8Array(0)), meta };
  }

  endBlock() {
    this.state = AUDIO;
    this.untilMeta = this.metaint;
  }
}

// A block that holds only zero padding carries nothing, so it yields no entry either.
function metaEntry(block, audioOffset) {
  let end = block.length;
  while (end > 0 && block[end - 1] === 0) end -= 1;
  if (end === 0) return null;
  const fields = parseIcyMetadata(decodeText(block.subarray(0, end)));
  const title = Object.prototype.hasOwnProperty.call(fields, 'StreamTitle')
    ? fields.StreamTitle
    : null;
  return { audioOffset, title, fields };
}

// Drift and most modern servers send UTF-8; older ones send Latin-1, which is not valid UTF-8
// as soon as it has an accented letter, so that is the fallback rather than U+FFFD marks.
function decodeText(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return s;
  }
}


// `Key=` at the start of what follows a candidate value end: tells a real `';` terminator
// from one that is part of a title such as `Rock';n roll`.
const NEXT_KEY = /^\s*[A-Za-z][A-Za-z0-9_.-]*=/;

/**
 * Parses ICY metadata text such as `StreamTitle='Artist - Title';StreamUrl='';`.
 * A quoted value ends at the first `';` that is followed by the end of the text or by another
 * `Key=`, so quotes and semicolons inside a title survive. Unquoted values (`Key=value;`),
 * which a few servers send, run to the next `;`. Trailing NULs (padding) are ignored.
 * @param {string} text
 * @returns {Object<string, string>}
 */
export function parseIcyMetadata(text) {
  const fields = {};
  const s = text.replace(/\0+$/, '');
  let i = 0;
  while (i < s.length) {
    // Skip separators and whitespace between pairs.
    while (i < s.length && (s[i] === ';' || /\s/.test(s[i]))) i += 1;
    if (i >= s.length) break;
    const eq = s.indexOf('=', i);
    if (eq < 0) break; // trailing junk without a value
    const key = s.slice(i, eq).trim();
    let value;
    if (s[eq + 1] === "'") {
      const start = eq + 2;
      const end = quotedValueEnd(s, start);
      if (end < 0) {
        // Unterminated (a truncated block): keep what is there, minus a lone closing quote.
        value = s.slice(start).replace(/'$/, '');
        i = s.length;
      } else {
        value = s.slice(start, end);
        i = end + 2;
      }
    } else {
      const semi = s.indexOf(';', eq + 1);
      const end = semi < 0 ? s.length : semi;
      value = s.slice(eq + 1, end);
      i = end + 1;
    }
    if (key !== '') fields[key] = value;
  }
  return fields;
}

// Index of the quote of the `';` that ends the value starting at `start`, or -1 when the
// text has none. Prefers a terminator followed by a new key or the end; failing that, the last
// `';` (the value then holds every other `';`).
function quotedValueEnd(s, start) {
  let last = -1;
  let at = s.indexOf("';", start);
  while (at >= 0) {
    const rest = s.slice(at + 2);
    if (rest.trim() === '' || NEXT_KEY.test(rest)) return at;
    last = at;
    at = s.indexOf("';", at + 1);
  }
  // A final `'` with no `;` (some servers omit the last semicolon).
  if (s.endsWith("'") && s.length - 1 >= start) {
    const tail = s.length - 1;
    if (tail > last) return tail;
  }
  return last;
}
