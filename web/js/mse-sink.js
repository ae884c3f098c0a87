// The MediaSource sink: one SourceBuffer in `sequence` mode, fed through the append queue, where
// media time equals stream position (each run of frames sets `timestampOffset` to the position
// of its first frame). It owns everything about the element's buffer: the play head's first
// placement, small holes jumped, played audio trimmed, room for more (backpressure), quota
// errors, and, with ManagedMediaSource (Safari's engine), the browser's wishes: fetch only while
// it is `streaming`, refetch what it evicts. It reports upward through events and never calls
// into its owner: `appended`, `error`, `quota`, `evicted`, `streaming`, `progress`.
import { AppendQueue } from './append-queue.js';
import { watchPlayhead } from './playhead.js';

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
   * Attaches a new (Managed)MediaSource to `audio`. Call synchronously from the click that
   * starts playback, so `play()` keeps the user's gesture. `opts`: keepSeconds (played audio
   * kept), trimEveryMs, maxAheadSeconds and maxPendingBytes (room for more).
   */
  constructor(audio, mode, opts, win = globalThis) {
    super();
    this.audio = audio;
    this.mode = mode;
    this.keepSeconds = opts.keepSeconds;
    this.opts = opts;
    const MS = mode.managed ? win.ManagedMediaSource : win.MediaSource;
    this.ms = new MS();
    // Plain MediaSource always wants data; a managed one says when (`endstreaming` until
    // `startstreaming`). Its first wish may come only after sourceopen: until then, it wants.
    this.wants = true;
    if (mode.managed) {
      audio.disableRemotePlayback = true;
      this.ms.addEventListener('startstreaming', () => this.setStreaming(true));
      this.ms.addEventListener('endstreaming', () => this.setStreaming(false));
    }
    this.url = URL.createObjectURL(this.ms);
    audio.src = this.url;
    this.started = false; // the first frames are in the buffer
    this.ownCut = null; // a cutFrom() in progress: its removal is not an eviction
    this.lastTrim = 0;
    this.roomWaiters = [];
    this.onTime = () => this.checkRoom();
    audio.addEventListener('timeupdate', this.onTime);
    // A media error closes the MediaSource for good (WebKit: "Failed to push buffer" when the
    // element is seeked while it takes its first frames): this sink can take no more audio.
    this.onMediaError = () => { if (this.dead) this.emit('error', new Error(`the media element failed: ${audio.error?.message ?? ''}`)); };
    audio.addEventListener('error', this.onMediaError);
    this.ready = new Promise((resolve, reject) => {
      this.ms.addEventListener('sourceopen', () => {
        try {
          this.sb = this.ms.addSourceBuffer(mode.mime);
          this.sb.mode = 'sequence';
          this.queue = new AppendQueue(this.sb, { evict: () => this.evictPlayed() });
          this.queue.addEventListener('error', (e) => this.emit('error', e.detail));
          this.queue.addEventListener('appended', (e) => this.onAppended(e.detail.meta));
          this.queue.addEventListener('quota', (e) => this.emit('quota', e.detail));
          this.sb.addEventListener('bufferedchange', (e) => this.onBufferedChange(e));
          resolve();
        } catch (e) {
          reject(e);
        }
      }, { once: true });
    });
    this.watch();
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /**
   * Nothing can be appended any more: an append failed (the queue stops there), or the element
   * failed and its MediaSource closed or ended under it.
   */
  get dead() {
    if (this.queue?.error) return true;
    return this.ms.readyState !== 'open' && (!!this.audio.error || this.sb !== undefined);
  }

  setStreaming(on) {
    if (on === this.wants) return;
    this.wants = on;
    this.emit('streaming', { on });
    this.checkRoom();
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

  /** Stream position the listener hears now. */
  get position() { return this.audio.currentTime; }

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

  /** Bytes waiting to be appended. */
  get pending() {
    return this.queue ? this.queue.pendingBytes : 0;
  }

  /** True when the connection may read more: the browser wants data and there is room. */
  hasRoom() {
    return this.wants && this.ahead() <= this.opts.maxAheadSeconds && this.pending <= this.opts.maxPendingBytes;
  }

  /**
   * Resolves when there is room for more (see hasRoom), woken by the element's progress, by
   * appends and by the browser asking for data; rejects when `signal` aborts.
   */
  room(signal) {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.roomWaiters.push(waiter);
      signal?.addEventListener('abort', () => {
        this.roomWaiters = this.roomWaiters.filter((w) => w !== waiter);
        reject(new Error('closed'));
      }, { once: true });
    });
  }

  checkRoom() {
    if (!this.roomWaiters.length || !this.hasRoom()) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w.resolve();
  }

  onAppended(meta) {
    if (meta) {
      // The first audio of a session sits at its stream position, and audio after an
      // outage may start past a hole: move the play head to it.
      const t = this.audio.currentTime;
      if (!this.started || !this.rangeAt(t)) {
        const r = this.rangeAt(meta.pos);
        if (r && (t < r[0] || t > r[1]) && (!this.started || this.ahead() === 0)) this.audio.currentTime = r[0];
      }
      this.started = true;
      this.emit('appended', meta);
    }
    if (this.audio.paused) this.audio.play().catch(() => {});
    this.checkRoom();
  }

  /** Splice: forget everything queued and everything buffered from `pos` on. */
  async cutFrom(pos) {
    await this.ready;
    this.queue.clear();
    await this.queue.exclusive(() => {
      const end = this.end;
      this.ownCut = pos;
      if (end !== null && end > pos) this.sb.remove(pos, Infinity);
    });
    this.ownCut = null;
  }

  /**
   * A ManagedSourceBuffer tells what the browser removed. Played audio going is fine; audio
   * not yet played going (memory pressure) must be fetched again, or the listener hears a hole.
   */
  onBufferedChange(e) {
    const removed = e.removedRanges;
    if (!removed?.length) return;
    const t = this.audio.currentTime;
    for (let i = 0; i < removed.length; i++) {
      const from = Math.max(removed.start(i), t);
      if (removed.end(i) <= t + 0.05) continue;
      if (this.ownCut !== null && removed.start(i) >= this.ownCut - 0.05) continue;
      this.emit('evicted', { from, to: removed.end(i) });
      return;
    }
  }

  /** On QuotaExceededError: drop played audio down to a few seconds behind the play point. */
  async evictPlayed() {
    const b = this.audio.buffered;
    const cut = this.audio.currentTime - 3;
    if (!b.length || b.start(0) >= cut) return false;
    this.sb.remove(0, cut);
    await new Promise((r) => this.sb.addEventListener('updateend', r, { once: true }));
    return true;
  }

  /** Removes played audio older than `keepSeconds`, at most every `trimEveryMs`. */
  async trim(now) {
    if (!this.sb || now - this.lastTrim < this.opts.trimEveryMs) return false;
    const b = this.audio.buffered;
    const cut = this.audio.currentTime - this.keepSeconds;
    if (!b.length || b.start(0) >= cut - 0.25) return false;
    this.lastTrim = now;
    await this.queue.exclusive(() => this.sb.remove(0, cut));
    return true;
  }

  /**
   * The heartbeat: small holes jumped, played audio trimmed, and a `progress` event for the
   * owner (which decides what a frozen play head means).
   */
  watch() {
    this.timer = watchPlayhead(this.audio, ({ now, time, moving, frozenMs }) => {
      const ahead = this.ahead();
      if (!moving && frozenMs > 400 && ahead < 0.5) {
        const gap = this.gapAfter(time, 1.0);
        if (gap !== null) this.audio.currentTime = gap + 0.001;
      }
      this.trim(now).catch(() => {});
      this.checkRoom();
      this.emit('progress', { position: time, ahead, moving, frozenMs, pending: this.pending, started: this.started });
    });
  }

  /** Plays again if the element paused itself with audio to play (a stall). */
  nudge() {
    if (this.audio.paused && this.ahead() > 0.2) {
      this.audio.play().catch(() => {});
      return true;
    }
    return false;
  }

  /** Detaches from the element. */
  close() {
    clearInterval(this.timer);
    this.audio.removeEventListener('timeupdate', this.onTime);
    this.audio.removeEventListener('error', this.onMediaError);
    for (const w of this.roomWaiters) w.reject(new Error('closed'));
    this.roomWaiters = [];
    try {
      this.queue?.clear();
      if (this.ms.readyState === 'open' && this.sb && !this.sb.updating) this.ms.endOfStream();
    } catch {
      // Already closed: nothing to release.
    }
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    URL.revokeObjectURL(this.url);
  }
}
