// The demuxer: one response's bytes in, whole frames and titles out. Synchronous and pure (no
// I/O, no DOM), and the same however the bytes are split into chunks. A Drift stream is either
// MP3 with ICY blocks (frames split by header, titles placed at the frame their block fell
// before) or fMP4 (whole fragments for appendBuffer, each with its MP3 frames or 20 ms Opus
// packets, and `emsg` titles). Frame indices count the stream's own frames on `grid`.
import { IcyStripper } from './icy.js';
import { FrameSplitter } from './mp3-frames.js';
import { Mp4Reader } from './mp4-boxes.js';

// Byte offsets of recent frame starts kept to place ICY titles (a block names the frame after it).
const KEEP_STARTS = 2000;

export class Demuxer {
  /**
   * @param {{format: 'mp3'|'mp4', grid: {indexOf: Function, posOf: Function}, startIdx: number,
   *   metaint?: number}} opts `startIdx` is the index of the response's first frame (from its
   *   `X-Drift-Position`); `metaint` its `icy-metaint` (MP3 only; 0 or absent: no ICY blocks).
   */
  constructor({ format, grid, startIdx, metaint = 0 }) {
    this.format = format;
    this.grid = grid;
    if (format === 'mp4') {
      this.boxes = new Mp4Reader();
    } else {
      this.icy = metaint > 0 ? new IcyStripper(metaint) : null;
      this.frames = new FrameSplitter(grid.posOf(startIdx));
      this.idx = startIdx; // index of the next frame to come out
      this.audioBytes = 0; // audio bytes of this response before frame `idx`
      this.starts = []; // [audio byte offset, frame index] of recent frames
      this.waiting = []; // ICY titles whose frame is not complete yet
    }
  }

  /**
   * Splits the next chunk of the response.
   * @param {Uint8Array} chunk
   * @returns {{init: Uint8Array|null, units: Array<{idx: number, bytes: Uint8Array,
   *   frames: Array<{idx: number, bytes: Uint8Array}>}>, titles: Array<{pos: number,
   *   text: string, source: 'icy'|'emsg'}>}} `units` are what goes to appendBuffer: an MP3
   *   frame, or an fMP4 fragment with the frames inside it; `init` is an fMP4 init segment.
   */
  push(chunk) {
    return this.format === 'mp4' ? this.pushMp4(chunk) : this.pushMp3(chunk);
  }

  pushMp4(chunk) {
    const out = this.boxes.push(chunk);
    const units = [];
    for (const frag of out.fragments) {
      if (!frag.frames.length) continue;
      const first = this.grid.indexOf(frag.baseTime);
      const frames = frag.frames.map((f, i) => ({ idx: first + i, bytes: f.bytes }));
      units.push({ idx: first, bytes: frag.bytes, frames });
    }
    const titles = out.titles.filter((t) => t.title).map((t) => ({ pos: t.time, text: t.title, source: 'emsg' }));
    return { init: out.init, units, titles };
  }

  pushMp3(chunk) {
    const { audio, meta } = this.icy ? this.icy.push(chunk) : { audio: chunk, meta: [] };
    const units = [];
    for (const f of this.frames.push(audio)) {
      this.starts.push([this.audioBytes, this.idx]);
      this.audioBytes += f.bytes.length;
      units.push({ idx: this.idx, bytes: f.bytes, frames: [{ idx: this.idx, bytes: f.bytes }] });
      this.idx++;
    }
    if (this.starts.length > KEEP_STARTS) this.starts.splice(0, this.starts.length - KEEP_STARTS / 2);
    this.waiting.push(...meta.filter((m) => m.title));
    // A title is placed once the frame holding its byte offset has come out whole.
    const ready = this.waiting.filter((m) => m.audioOffset < this.audioBytes);
    this.waiting = this.waiting.filter((m) => m.audioOffset >= this.audioBytes);
    const titles = ready.map((m) => ({ pos: this.grid.posOf(this.frameAt(m.audioOffset)), text: m.title, source: 'icy' }));
    return { init: null, units, titles };
  }

  /** The frame holding audio byte `offset` of this response (the oldest kept, if older). */
  frameAt(offset) {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      if (this.starts[i][0] <= offset) return this.starts[i][1];
    }
    return this.starts[0]?.[1] ?? this.idx;
  }
}

/** "Artist - Title" (as ICY and `emsg` carry it) as track info. */
export function splitTitle(text) {
  const [artist, ...rest] = text.split(' - ');
  return rest.length ? { artist, title: rest.join(' - ') } : { title: text };
}
