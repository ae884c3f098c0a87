// The direct sink, for browsers without a usable MediaSource (or `?player=direct`): the element
// plays the stream URL itself. The page cannot see its bytes, so it cannot splice, but it can
// resume: each load says its stream position (`from=`), which makes the element's time 0 that
// position. It reports upward through events and never calls into its owner: `playing`,
// `waiting`, `lost` (the element errored or ended), `progress` (the owner decides what a still
// play head means).

import { watchPlayhead } from './playhead.js';

export class DirectSink extends EventTarget {
  constructor(audio) {
    super();
    this.audio = audio;
    this.base = 0; // stream position at the element's time 0
    this.listeners = {
      error: () => this.lost('the player lost the stream'),
      ended: () => this.lost('the stream ended'),
      playing: () => this.emit('playing'),
      waiting: () => this.emit('waiting'),
    };
    for (const [type, fn] of Object.entries(this.listeners)) audio.addEventListener(type, fn);
    this.watch();
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  lost(reason) {
    if (this.audio.getAttribute('src')) this.emit('lost', { reason });
  }

  /** Stream position the listener hears now. */
  get position() { return this.base + this.audio.currentTime; }

  ahead() {
    const b = this.audio.buffered;
    return b.length ? Math.max(0, b.end(b.length - 1) - this.audio.currentTime) : 0;
  }

  /**
   * Points the element at `url`, whose first frame sits at stream position `base` (when it is
   * known). Resolves when it plays; rejects when the element refuses or the load fails. Call
   * the first time from the listener's click: the element keeps that permission after.
   */
  load(url, base = this.base) {
    this.base = base;
    this.audio.src = url;
    return this.audio.play();
  }

  /** The heartbeat: a `progress` event for the owner, which decides what a still play head means. */
  watch() {
    this.timer = watchPlayhead(this.audio, ({ time, moving, frozenMs }) => {
      this.emit('progress', { position: this.base + time, ahead: this.ahead(), moving, frozenMs, pending: 0, started: time > 0 });
    });
  }

  /** Tries to play again if the element paused itself. */
  nudge() {
    if (!this.audio.paused) return false;
    this.audio.play().catch(() => {});
    return true;
  }

  close() {
    clearInterval(this.timer);
    for (const [type, fn] of Object.entries(this.listeners)) this.audio.removeEventListener(type, fn);
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
  }
}
