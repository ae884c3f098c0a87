// The fallback path for browsers without a usable MediaSource (or `?player=direct`): the
// element plays the stream URL itself. It cannot splice or resume seamlessly, but it gets the
// same state events and its own reconnect with backoff when the element errors, ends or stalls.
import { Backoff } from './backoff.js';

export class DirectPlayer {
  constructor(audio, controller, opts) {
    this.audio = audio;
    this.ctl = controller;
    this.opts = opts;
    this.backoff = new Backoff(opts.backoff);
    this.base = 0; // stream position at the element's time 0 (from the session's bootstrap)
    this.onError = () => this.ctl.recover('the player lost the stream');
    this.onPlaying = () => this.ctl.fsm.send(this.ctl.fsm.state === 'reconnecting' ? 'resumed' : 'playing');
    this.onWaiting = () => this.ctl.fsm.send('waiting');
  }

  /** Points the element at the stream (a fresh URL, so no cache replays old audio). */
  async load() {
    try {
      const boot = this.ctl.urls.probe ? await this.ctl.urls.probe() : null;
      if (boot && typeof boot.position === 'number') this.base = boot.position;
    } catch {
      // Unknown position: titles fall back to the events' own timing.
    }
    const url = new URL(this.url, globalThis.location?.href);
    url.searchParams.set('t', Date.now().toString(36));
    this.audio.src = url.toString();
    await this.audio.play();
  }

  start(url) {
    this.url = url;
    this.audio.addEventListener('error', this.onError);
    this.audio.addEventListener('ended', this.onError);
    this.audio.addEventListener('playing', this.onPlaying);
    this.audio.addEventListener('waiting', this.onWaiting);
    // Playing has to start inside the click; the URL can follow a moment later.
    this.audio.src = url;
    this.audio.play().catch(() => {});
    this.ctl.fsm.send('connected');
    this.load().catch(() => this.ctl.recover('cannot start the stream'));
    let last = -1;
    let frozenSince = Date.now();
    this.timer = setInterval(() => {
      const t = this.audio.currentTime;
      if (t !== last) frozenSince = Date.now();
      last = t;
      this.ctl.tickCues(this.base + t);
      this.ctl.emit('buffer', { ahead: this.ahead(), position: this.base + t, pending: 0 });
      if (!this.audio.paused && Date.now() - frozenSince > this.opts.silentMs && !this.ctl.recovering) {
        this.ctl.recover('playback stalled');
      }
    }, 250);
  }

  ahead() {
    const b = this.audio.buffered;
    return b.length ? Math.max(0, b.end(b.length - 1) - this.audio.currentTime) : 0;
  }

  /** Reloads the stream with backoff until it plays again. */
  async recover() {
    for (;;) {
      await new Promise((r) => setTimeout(r, this.backoff.next()));
      if (!this.ctl.active) return;
      try {
        await this.load();
        this.backoff.reset();
        this.ctl.fsm.send('resumed');
        return;
      } catch {
        // Not back yet.
      }
    }
  }

  stop() {
    clearInterval(this.timer);
    this.audio.removeEventListener('error', this.onError);
    this.audio.removeEventListener('ended', this.onError);
    this.audio.removeEventListener('playing', this.onPlaying);
    this.audio.removeEventListener('waiting', this.onWaiting);
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
  }
}
