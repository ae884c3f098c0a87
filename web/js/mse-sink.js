// The MediaSource side of the player: one SourceBuffer in `sequence` mode, fed through the
// append queue, where media time equals stream position (each connection sets
// `timestampOffset` to the position of its first frame). It trims played audio, evicts on
// QuotaExceededError without losing what waits to be appended, and cuts the future on splice.
import { AppendQueue } from './append-queue.js';

/**
 * Which path this browser can take: probe MediaSource, never sniff the user agent. Opus (in
 * fMP4) where MediaSource takes it and the server offers it (`opus`), unless `codec` is 'mp3';
 * else MP3 as it is, else MP3 in fMP4; else the direct `<audio src>` fallback. `codec` says
 * which frames the stream carries.
 */
export function chooseMode(win, forced, { codec = 'auto', opus = false } = {}) {
  const MS = win.ManagedMediaSource || win.MediaSource;
  const managed = !!win.ManagedMediaSource;
  if (forced !== 'direct' && MS && typeof MS.isTypeSupported === 'function') {
    const opusMime = 'audio/mp4; codecs="opus"';
    if (opus && codec !== 'mp3' && MS.isTypeSupported(opusMime)) {
      return { kind: 'mse', format: 'mp4', codec: 'opus', mime: opusMime, managed };
    }
    if (forced !== 'mp4' && MS.isTypeSupported('audio/mpeg')) {
      return { kind: 'mse', format: 'mp3', codec: 'mp3', mime: 'audio/mpeg', managed };
    }
    if (MS.isTypeSupported('audio/mp4; codecs="mp3"')) {
      return { kind: 'mse', format: 'mp4', codec: 'mp3', mime: 'audio/mp4; codecs="mp3"', managed };
    }
  }
  return { kind: 'direct', format: 'mp3', codec: 'mp3', mime: 'audio/mpeg', managed: false };
}

export class MseSink extends EventTarget {
  /**
   * Attaches a new MediaSource to `audio`. Call synchronously from the click that starts
   * playback, so `play()` keeps the user's gesture.
   */
  constructor(audio, mode, win = globalThis) {
    super();
    this.audio = audio;
    this.mode = mode;
    const MS = mode.managed ? win.ManagedMediaSource : win.MediaSource;
    this.ms = new MS();
    if (mode.managed) audio.disableRemotePlayback = true;
    this.url = URL.createObjectURL(this.ms);
    audio.src = this.url;
    this.ready = new Promise((resolve, reject) => {
      this.ms.addEventListener('sourceopen', () => {
        try {
          this.sb = this.ms.addSourceBuffer(mode.mime);
          this.sb.mode = 'sequence';
          this.queue = new AppendQueue(this.sb, { evict: () => this.evict() });
          this.queue.addEventListener('error', (e) => this.dispatchEvent(new CustomEvent('error', { detail: e.detail })));
          this.queue.addEventListener('appended', (e) => this.dispatchEvent(new CustomEvent('appended', { detail: e.detail.meta })));
          resolve();
        } catch (e) {
          reject(e);
        }
      }, { once: true });
    });
    this.lastTrim = 0;
  }

  /** The buffered range holding `t` (or starting just after it), as [start, end], or null. */
  rangeAt(t) {
    const b = this.audio.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.end(i) > t && b.start(i) <= t + 0.05) return [b.start(i), b.end(i)];
    }
    return null;
  }

  /** End of all buffered audio (the stream position the next frame goes to), or null. */
  get end() {
    const b = this.audio.buffered;
    return b.length ? b.end(b.length - 1) : null;
  }

  /** Seconds buffered ahead of the play point, in the range it plays from. */
  ahead() {
    const t = this.audio.currentTime;
    const r = this.rangeAt(t);
    return r ? Math.max(0, r[1] - t) : 0;
  }

  /** The start of the next buffered range after a gap at `t`, if one begins within `within` s. */
  gapAfter(t, within) {
    const b = this.audio.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) > t && b.start(i) - t <= within) return b.start(i);
    }
    return null;
  }

  /** Starts a new run of frames at stream position `pos` (after what is queued now). */
  async placeAt(pos) {
    await this.ready;
    await this.queue.drained();
    await this.queue.exclusive(() => {
      this.sb.timestampOffset = pos;
    });
  }

  /** Queues bytes (whole MP3 frames or whole fMP4 fragments); never drops. */
  push(bytes, meta) {
    this.queue.push(bytes, meta);
  }

  /** Bytes and items waiting to be appended (backpressure). */
  get pending() {
    return this.queue ? this.queue.pendingBytes : 0;
  }

  /** Splice: forget everything queued and everything buffered from `pos` on. */
  async cutFrom(pos) {
    await this.ready;
    this.queue.clear();
    await this.queue.exclusive(() => {
      const end = this.end;
      if (end !== null && end > pos) this.sb.remove(pos, Infinity);
    });
  }

  /** Removes played audio older than `keep` seconds, at most every `everyMs`. */
  async trim(keep, everyMs, now = Date.now()) {
    if (!this.sb || now - this.lastTrim < everyMs) return false;
    const b = this.audio.buffered;
    const cut = this.audio.currentTime - keep;
    if (!b.length || b.start(0) >= cut - 0.25) return false;
    this.lastTrim = now;
    await this.queue.exclusive(() => this.sb.remove(0, cut));
    return true;
  }

  /** On QuotaExceededError: drop played audio down to a few seconds behind the play point. */
  async evict() {
    const b = this.audio.buffered;
    const cut = this.audio.currentTime - 3;
    if (!b.length || b.start(0) >= cut) return false;
    this.sb.remove(0, cut);
    await new Promise((r) => this.sb.addEventListener('updateend', r, { once: true }));
    this.dispatchEvent(new CustomEvent('evicted', { detail: { upTo: cut } }));
    return true;
  }

  /** Detaches from the element. */
  close() {
    try {
      this.queue?.clear();
      if (this.ms.readyState === 'open' && this.sb && !this.sb.updating) this.ms.endOfStream();
    } catch {
      // Already closed: nothing to release.
    }
    URL.revokeObjectURL(this.url);
  }
}
