// The last minute (or so) of MP3 frames the player received, keyed by stream frame index, so
// "save" works even while the server is unreachable and a splice can forget a replaced future.
// Pure: no DOM, tested with node --test.
import { concatBytes } from './bytes.js';

/**
 * The frame grid of a stream whose frames are `samples` long at 44.1 kHz: `secs` per frame,
 * `indexOf(pos)` the frame a stream position (seconds) falls on (robust to rounding in
 * transit) and `posOf(idx)` the position at which frame `idx` starts.
 */
export function frameGrid(samples) {
  const secs = samples / 44100;
  return { secs, indexOf: (pos) => Math.round(pos / secs), posOf: (idx) => idx * secs };
}

/** MP3 frames (1152 samples) and Opus packets (20 ms: 882 samples of the 44.1 kHz timeline). */
export const MP3_GRID = frameGrid(1152);
export const OPUS_GRID = frameGrid(882);

/** Seconds per MP3 frame of every Drift stream (1152 samples at 44.1 kHz). */
export const FRAME_SECS = MP3_GRID.secs;
export const indexOf = MP3_GRID.indexOf;
export const posOf = MP3_GRID.posOf;
/**
 * The stream position (seconds) in an `X-Drift-Position` response header: 0 when the header is
 * missing (a proxy that drops it), null when it cannot be a position (not a number, negative,
 * or so large that its frame index is not exact) — then the frames cannot be placed at all.
 */
export function parsePosition(header) {
  if (header === null || header === undefined) return 0;
  // Plain decimal only: Number() alone would also take '', '0x10' and 'Infinity'.
  const pos = /^\s*\d+(\.\d*)?(e[+-]?\d+)?\s*$/i.test(header) ? Number(header) : NaN;
  return pos >= 0 && Number.isSafeInteger(indexOf(pos)) ? pos : null;
}

export class FrameHistory {
  /**
   * `keepSeconds`: how much already-heard audio is kept behind the play point; `grid`: the
   * stream's frame grid (MP3 frames, or Opus packets).
   */
  constructor(keepSeconds = 60, grid = MP3_GRID) {
    this.keepSeconds = keepSeconds;
    this.grid = grid;
    this.frames = []; // { idx, bytes }, strictly increasing idx
  }

  /** Adds a frame after the newest one; a frame at or before it is ignored (no repeats). */
  add(idx, bytes) {
    const last = this.frames[this.frames.length - 1];
    if (last && idx <= last.idx) return false;
    this.frames.push({ idx, bytes });
    return true;
  }

  /** Index of the frame after the newest one held (where the next frame should go). */
  get nextIndex() {
    const last = this.frames[this.frames.length - 1];
    return last ? last.idx + 1 : null;
  }

  /** Forgets frames at or after `idx` (their audio was re-rendered by a splice). */
  dropFrom(idx) {
    let n = this.frames.length;
    while (n > 0 && this.frames[n - 1].idx >= idx) n--;
    this.frames.length = n;
  }

  /** Forgets heard frames older than `keepSeconds` before the play point `playPos`. */
  trim(playPos) {
    const oldest = this.grid.indexOf(playPos - this.keepSeconds);
    let k = 0;
    while (k < this.frames.length && this.frames[k].idx < oldest) k++;
    if (k > 0) this.frames.splice(0, k);
  }

  /**
   * The last `seconds` before `playPos` as one byte string starting on a frame boundary (an
   * MP3 file, for an MP3 history), with the position of its first frame; only contiguous
   * frames (a gap ends the clip early).
   */
  clip(playPos, seconds) {
    const { indexOf, posOf, secs } = this.grid;
    const end = indexOf(playPos);
    const start = indexOf(playPos - seconds);
    const picked = [];
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (f.idx >= end) continue;
      if (f.idx < start) break;
      if (picked.length && picked[picked.length - 1].idx !== f.idx + 1) break;
      picked.push(f);
    }
    picked.reverse();
    return {
      bytes: picked.length ? concatBytes(picked.map((f) => f.bytes)) : new Uint8Array(0),
      start: picked.length ? posOf(picked[0].idx) : playPos,
      seconds: picked.length * secs,
    };
  }
}

/** Track titles placed on the stream timeline; the page shows the one the audio has reached. */
export class CueList {
  constructor() {
    this.cues = []; // { pos, info }, sorted by pos
  }

  /** Places `info` at `pos`; a cue at the same position (within a frame) is replaced. */
  add(pos, info) {
    // The same change heard of again (every heartbeat repeats it): merge into the same cue,
    // so it is announced once, not once per heartbeat.
    const same = this.cues.find((c) => Math.abs(c.pos - pos) < FRAME_SECS);
    if (same) {
      Object.assign(same.info, info);
      return;
    }
    this.cues.push({ pos, info });
    this.cues.sort((a, b) => a.pos - b.pos);
  }

  /**
   * Places a title that came with the audio (`exact` false: ICY, `emsg`) or from the session's
   * events (`exact`: timed to the frame). An event's cue replaces any cue within 1.5 s of it;
   * a stream title never replaces one.
   */
  place(pos, info, exact) {
    const near = this.cues.find((c) => Math.abs(c.pos - pos) < 1.5);
    if (!exact && near) return;
    if (exact && near && Math.abs(near.pos - pos) >= FRAME_SECS) this.cues.splice(this.cues.indexOf(near), 1);
    this.add(pos, info);
  }

  /** The cue in effect at `pos` when it differs from the one this returned last, else null. */
  reached(pos) {
    const cue = this.at(pos);
    if (!cue || cue === this.last) return null;
    this.last = cue;
    return cue;
  }

  /** Forgets cues at or after `pos` (a splice replaced that future). */
  dropFrom(pos) {
    this.cues = this.cues.filter((c) => c.pos < pos - FRAME_SECS / 2);
  }

  /** The cue in effect at `pos` (the latest one at or before it), or null. */
  at(pos) {
    let found = null;
    for (const c of this.cues) {
      if (c.pos <= pos + 1e-6) found = c;
      else break;
    }
    return found;
  }

  /** The first cue after `pos`, or null. */
  after(pos) {
    return this.cues.find((c) => c.pos > pos + 1e-6) ?? null;
  }

  /** Keeps the cue in effect at `pos` and everything after it. */
  trim(pos) {
    const current = this.at(pos);
    this.cues = this.cues.filter((c) => c.pos > pos || c === current);
  }
}
