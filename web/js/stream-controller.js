// StreamController: plays a Drift session through MediaSource. It fetches the stream itself,
// splits it into whole MP3 frames (stripping ICY blocks) or fMP4 fragments (MP3 frames or Opus
// packets, with `emsg` titles), appends them where
// their stream position says, and keeps playing from its buffer through outages: every kind
// of trouble (fetch error, end of stream, a silent pipe, a stall, a restart notice) goes
// through one recovery path that reconnects to the same session with `?from=` the end of the
// buffer — no gap, no repeat. Events: `state`, `buffer`, `metadata`, `reconnected`, `instance`.
import { Backoff } from './backoff.js';
import { concatBytes } from './bytes.js';
import { IcyStripper } from './icy.js';
import { FrameSplitter } from './mp3-frames.js';
import { Mp4Reader } from './mp4-boxes.js';
import { StateMachine } from './player-state.js';
import { FrameHistory, CueList, parsePosition, MP3_GRID, OPUS_GRID } from './frame-history.js';
import { chooseMode, MseSink } from './mse-sink.js';
import { DirectPlayer } from './direct-player.js';

export const DEFAULTS = Object.freeze({
  keepSeconds: 30, // played audio kept in the SourceBuffer
  maxAheadSeconds: 120, // reads pause beyond this much buffered ahead
  historySeconds: 60, // raw frames kept for "save"
  stallMs: 1500, // currentTime frozen this long while it should move → stalled
  silentMs: 5000, // an open connection with no bytes this long is dead
  giveUpMs: 30000, // an empty buffer and no server this long → error state
  trimEveryMs: 500, // remove() at most this often (played audio stays within keepSeconds + ~0.75 s)
  maxPendingBytes: 1 << 20, // queued but not yet appended: reads wait beyond this
  backoff: { base: 500, max: 8000, jitter: 0.25 },
  player: 'auto', // 'auto' | 'mp4' | 'direct'
  codec: 'auto', // 'auto' (Opus where MediaSource takes it) | 'mp3'
  relay: false, // the stream is an Icecast relay's: no positions, no `from`, titles by ICY
  initialState: 'idle', // the page starts in 'loading': it has no station until the server answers
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class StreamController extends EventTarget {
  constructor(audio, options = {}) {
    super();
    this.audio = audio;
    this.opts = { ...DEFAULTS, ...options };
    this.fsm = new StateMachine((state, from, event, detail) =>
      this.emit('state', { state, from, event, reason: detail, intent: this.fsm.intent }), this.opts.initialState);
    this.history = new FrameHistory(this.opts.historySeconds);
    this.cues = new CueList();
    this.backoff = new Backoff(this.opts.backoff);
    this.conn = 0; // bumped for every connection; stale ones see the change and quit
    this.appendLog = []; // { conn, first, last } frame indices, for tests and diagnostics
    this.instanceId = null;
    this.recovering = false;
  }

  get state() { return this.fsm.state; }
  /** Stream position (seconds) the listener hears now. */
  get position() { return (this.direct ? this.direct.base : 0) + this.audio.currentTime; }
  get bufferedAhead() { return this.sink ? this.sink.ahead() : (this.direct?.ahead() ?? 0); }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /**
   * Starts playing `urls` = { streamUrl, fmp4Url, opusMp4Url, instanceId, probe } where
   * `probe()` resolves to the session's bootstrap (used to notice a restarted server) and
   * `opusMp4Url` is there when the server offers Opus. Call from a click.
   */
  start(urls) {
    this.stop('restart', true);
    this.urls = urls;
    this.instanceId = urls.instanceId ?? null;
    this.mode = chooseMode(globalThis, this.opts.player, { codec: this.opts.codec, opus: !!urls.opusMp4Url });
    // A relay serves plain MP3 only: MediaSource takes it as it is, or the element plays it.
    if (this.opts.relay && this.mode.format !== 'mp3') this.mode = chooseMode(globalThis, 'direct');
    // Frame indices count the stream's own frames: MP3 frames, or 20 ms Opus packets.
    this.grid = this.mode.codec === 'opus' ? OPUS_GRID : MP3_GRID;
    this.active = true;
    this.fsm.send('start');
    this.history = new FrameHistory(this.opts.historySeconds, this.grid);
    this.cues = new CueList();
    if (this.mode.kind === 'direct') {
      this.direct = new DirectPlayer(this.audio, this, this.opts);
      this.direct.start(urls.streamUrl);
      return;
    }
    this.sink = new MseSink(this.audio, this.mode);
    this.sink.addEventListener('appended', (e) => this.onAppended(e.detail));
    this.sink.addEventListener('error', (e) => this.recover(`append failed: ${e.detail?.message ?? e.detail}`));
    this.audio.play().catch(() => {}); // keeps the click's permission; data comes later
    this.watch();
    // The browser knows before we do: going offline means the pipe is dead even if it has not
    // errored yet (reconnecting costs nothing audible), and coming back wakes the retry loop.
    this.onOnline = () => { if (this.recovering) this.wake?.(); };
    this.onOffline = () => this.recover('the network went offline');
    globalThis.addEventListener?.('online', this.onOnline);
    globalThis.addEventListener?.('offline', this.onOffline);
    this.open(null).then((ok) => { if (!ok) this.recover('first connection failed'); });
  }

  /** Stops everything; the page can `start` again. */
  stop(reason = 'stopped', quiet = false) {
    this.active = false;
    this.conn++;
    this.abort?.abort();
    clearInterval(this.timer);
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('offline', this.onOffline);
    this.direct?.stop();
    this.direct = null;
    if (this.sink) {
      this.audio.pause();
      this.sink.close();
      this.audio.removeAttribute('src');
      this.audio.load();
      this.sink = null;
    }
    if (!quiet) this.fsm.send('stop', reason);
  }

  /** The server asked us to reconnect (refresh, shutdown): same path as any trouble. */
  softRestart(reason = 'restart', afterMs = 0) {
    if (!this.active) return;
    this.fsm.send('restart', reason);
    this.recover(reason, afterMs);
  }

  /** Ends the current connection and reconnects with backoff until the server answers. */
  async recover(reason, firstDelayMs) {
    if (!this.active) return;
    this.conn++;
    this.abort?.abort();
    this.fsm.send('lost', reason);
    if (this.recovering) return;
    this.recovering = true;
    this.troubleSince = Date.now();
    if (this.direct) {
      await this.direct.recover(reason);
      this.recovering = false;
      return;
    }
    let delay = firstDelayMs ?? this.retryDelay();
    while (this.active) {
      await new Promise((r) => { this.wake = r; setTimeout(r, delay); });
      if (!this.active) break;
      try {
        const boot = this.urls.probe ? await this.urls.probe() : null;
        if (boot && boot.instanceId && boot.instanceId !== this.instanceId) {
          this.instanceId = boot.instanceId;
          this.emit('instance', { instanceId: boot.instanceId });
        }
        const end = this.history.nextIndex; // the next frame goes after the newest held
        if (await this.open(end === null ? null : this.grid.posOf(end) + this.grid.secs / 4)) break;
      } catch (e) {
        // The server is still away, or answers that it cannot serve us yet: wait longer.
        this.trouble = e;
      }
      delay = this.retryDelay();
    }
    this.recovering = false;
    this.trouble = null;
    this.backoff.reset();
    this.emit('reconnected', { after: Date.now() - this.troubleSince, reason });
  }

  /**
   * The next wait between reconnection attempts: exponential backoff with jitter, but never
   * more than a quarter of the audio still buffered, so a server that comes back is found
   * before the listener hears silence.
   */
  retryDelay() {
    const backoff = this.backoff.next();
    const ahead = this.bufferedAhead;
    return ahead > 0.5 ? Math.min(backoff, Math.max(500, ahead * 250)) : backoff;
  }

  /**
   * Splice (skip, steer): the audio from `pos` on was re-rendered. Drop our copy of that
   * future and fetch it again, so the change is heard now rather than a lead later.
   */
  async splice(pos) {
    this.cues.dropFrom(pos); // titles announced for the replaced future
    if (!this.active || !this.sink) return;
    const { indexOf, posOf, secs } = this.grid;
    const cutIdx = Math.max(indexOf(pos), indexOf(this.audio.currentTime + 0.12));
    if (this.history.nextIndex !== null && cutIdx >= this.history.nextIndex) return; // not here yet
    this.conn++;
    this.abort?.abort();
    await this.sink.cutFrom(posOf(cutIdx));
    this.history.dropFrom(cutIdx);
    if (!(await this.open(posOf(cutIdx) + secs / 4))) this.recover('splice failed');
  }

  /** Opens a connection from `fromPos` (or the session's play point); true when it answered. */
  async open(fromPos) {
    const my = ++this.conn;
    const ac = new AbortController();
    this.abort = ac;
    const mp4 = this.mode.format === 'mp4';
    const file = this.mode.codec === 'opus' ? this.urls.opusMp4Url : mp4 ? this.urls.fmp4Url : this.urls.streamUrl;
    const url = new URL(file, globalThis.location?.href);
    const relay = this.opts.relay;
    if (fromPos !== null && !relay) url.searchParams.set('from', fromPos.toFixed(6));
    let resp;
    try {
      resp = await fetch(url, { signal: ac.signal, cache: 'no-store', headers: mp4 ? {} : { 'Icy-MetaData': '1' } });
    } catch {
      return false;
    }
    if (my !== this.conn) { ac.abort(); return true; }
    if (resp.status === 410 && fromPos !== null && !relay) {
      // That position is gone (a long outage): continue from the session's play point.
      return this.open(null);
    }
    if (!resp.ok || !resp.body) {
      // A relay's mount is missing while its source reconnects: try again, as for any outage.
      if (resp.status === 404 && !relay) this.fsm.send('fail', 'this session no longer exists');
      return false;
    }
    // A relay says no position: its live edge continues what this page holds (an outage
    // costs what the relay sent meanwhile, or repeats its burst).
    const start = relay ? this.grid.posOf(this.history.nextIndex ?? 0)
      : parsePosition(resp.headers.get('x-drift-position'));
    // A garbled position would put every frame at NaN: treat it as a failed connection.
    if (start === null) { ac.abort(); return false; }
    const startIdx = this.grid.indexOf(start);
    this.lastByteAt = Date.now();
    this.fsm.send(this.audio.paused || this.sink.ahead() < 0.2 ? 'connected' : 'resumed');
    this.pump(my, ac, resp, startIdx, mp4).catch((e) => {
      if (my === this.conn && this.active) this.recover(`stream failed: ${e.message}`);
    });
    return true;
  }

  /** Reads one response until it ends, is aborted, or is superseded. */
  async pump(my, ac, resp, startIdx, mp4) {
    const reader = resp.body.getReader();
    const metaint = parseInt(resp.headers.get('icy-metaint') ?? '0', 10);
    const icy = !mp4 && metaint > 0 ? new IcyStripper(metaint) : null;
    const { indexOf, posOf } = this.grid;
    const frames = mp4 ? null : new FrameSplitter(posOf(startIdx));
    const boxes = mp4 ? new Mp4Reader() : null;
    let idx = startIdx; // index of the next frame from this response
    let bytesBefore = 0; // audio bytes of this response before frame `idx`
    const starts = []; // recent [byte offset, frame index], to place ICY titles
    let init = null;
    let placed = false;
    for (;;) {
      while (this.sink && (this.sink.ahead() > this.opts.maxAheadSeconds || this.sink.pending > this.opts.maxPendingBytes)) {
        await sleep(200); // backpressure: the server holds the audio, we read it later
        if (my !== this.conn) return;
      }
      const { value, done } = await reader.read();
      if (my !== this.conn) { ac.abort(); return; }
      if (done) { this.recover('the stream ended'); return; }
      this.lastByteAt = Date.now();
      const batch = []; // { idx, bytes } in order; for fMP4 whole fragments with their frames
      if (mp4) {
        const out = boxes.push(value);
        if (out.init) init = out.init;
        for (const t of out.titles) this.placeTitle(t.time, t.title, 'emsg');
        for (const frag of out.fragments) {
          const first = indexOf(frag.baseTime);
          const fresh = frag.frames.map((f, i) => ({ idx: first + i, bytes: f.bytes }));
          if (fresh[fresh.length - 1].idx < (this.history.nextIndex ?? -1)) continue;
          batch.push({ idx: first, bytes: frag.bytes, frames: fresh });
        }
      } else {
        const { audio, meta } = icy ? icy.push(value) : { audio: value, meta: [] };
        for (const f of frames.push(audio)) {
          starts.push([bytesBefore, idx]);
          bytesBefore += f.bytes.length;
          batch.push({ idx, bytes: f.bytes, frames: [{ idx, bytes: f.bytes }] });
          idx++;
        }
        if (starts.length > 2000) starts.splice(0, starts.length - 1000);
        for (const m of meta) this.placeIcyTitle(m, starts, idx, posOf);
      }
      const next = this.history.nextIndex;
      const keep = mp4 ? batch : batch.filter((b) => next === null || b.idx >= next);
      if (!keep.length) continue;
      if (!placed) {
        placed = true;
        await this.sink.placeAt(posOf(keep[0].idx));
        if (my !== this.conn) return;
        if (mp4 && init) this.sink.push(init, null);
      }
      for (const b of keep) for (const f of b.frames) this.history.add(f.idx, f.bytes);
      const bytes = concatBytes(keep.map((b) => b.bytes));
      this.sink.push(bytes, { conn: my, first: keep[0].idx, last: keep[keep.length - 1].frames.at(-1).idx });
    }
  }

  placeIcyTitle(m, starts, nextIdx, posOf) {
    if (!m.title) return;
    let at = nextIdx;
    for (let i = starts.length - 1; i >= 0; i--) {
      if (starts[i][0] <= m.audioOffset) { at = starts[i][1]; break; }
    }
    this.placeTitle(posOf(at), m.title, 'icy');
  }

  /** A title carried in the stream ("Artist - Title", from ICY or an fMP4 `emsg`) at `pos`. */
  placeTitle(pos, text, source) {
    if (!text) return;
    const [artist, ...rest] = text.split(' - ');
    const info = rest.length ? { artist, title: rest.join(' - ') } : { title: text };
    this.addCue(pos, { ...info, source }, false);
  }

  /** Places track info on the timeline; `exact` cues (from SSE) win over ICY ones. */
  addCue(pos, info, exact = true) {
    const near = this.cues.cues.find((c) => Math.abs(c.pos - pos) < 1.5);
    if (!exact && near) return; // SSE already placed this change, at the exact frame
    if (exact && near && near.info.source !== undefined) this.cues.cues.splice(this.cues.cues.indexOf(near), 1);
    this.cues.add(pos, info);
  }

  onAppended(meta) {
    if (!meta) return;
    const first = !this.appendedAny;
    this.appendedAny = true;
    this.appendLog.push({ conn: meta.conn, first: meta.first, last: meta.last, at: Date.now() });
    if (this.appendLog.length > 20000) this.appendLog.splice(0, 10000);
    // The first audio of a session sits at its stream position: move the play head there.
    const t = this.audio.currentTime;
    if (first || !this.sink.rangeAt(t)) {
      const r = this.sink.rangeAt(this.grid.posOf(meta.first));
      if (r && (t < r[0] || t > r[1]) && (first || this.sink.ahead() === 0)) this.audio.currentTime = r[0];
    }
    if (this.audio.paused && this.active) this.audio.play().catch(() => {});
  }

  /** The watchdog: progress, stalls, silent pipes, trimming, cues, give-up. */
  watch() {
    let lastTime = -1;
    let frozenSince = Date.now();
    this.timer = setInterval(() => {
      if (!this.sink || !this.active) return;
      const now = Date.now();
      const t = this.audio.currentTime;
      const ahead = this.sink.ahead();
      const moving = t !== lastTime && !this.audio.paused;
      if (moving) {
        frozenSince = now;
        this.fsm.send(!this.recovering && this.state === 'reconnecting' ? 'resumed' : 'playing');
      }
      lastTime = t;
      const frozen = now - frozenSince;
      if (!moving && frozen > 400 && ahead < 0.5) {
        const gap = this.sink.gapAfter(t, 1.0);
        if (gap !== null) this.audio.currentTime = gap + 0.001; // jump a small hole
      }
      if (!this.recovering && this.state !== 'idle' && frozen > this.opts.stallMs && this.appendedAny) {
        if (this.state === 'playing' || this.state === 'buffering') {
          this.fsm.send('stall');
          if (this.audio.paused && ahead > 0.2) this.audio.play().catch(() => {});
          else this.recover('playback stalled');
          frozenSince = now;
        }
      }
      if (!this.recovering && now - this.lastByteAt > this.opts.silentMs) this.recover('no data from the server');
      // The buffer ran dry (the element stops a frame or so short of its end) long ago.
      if (this.recovering && ahead < 0.5 && frozen > 1000 && now - this.troubleSince > this.opts.giveUpMs) {
        this.fsm.send('giveUp', 'the server has been unreachable too long');
      }
      this.sink.trim(this.opts.keepSeconds, this.opts.trimEveryMs, now).catch(() => {});
      this.history.trim(t);
      this.tickCues(t);
      this.emit('buffer', { ahead, position: t, pending: this.sink.pending });
    }, 250);
  }

  /** Announces the track the audio has reached at stream position `pos` (once per change). */
  tickCues(pos) {
    const cue = this.cues.at(pos);
    if (cue && cue !== this.lastCue) {
      this.lastCue = cue;
      this.emit('metadata', { position: cue.pos, ...cue.info });
    }
    this.cues.trim(pos - 600);
  }

  /**
   * The last `seconds` the listener heard, as an MP3 Blob (works with the server away); empty
   * when the page plays Opus (raw packets are no file: the server's save makes the MP3).
   */
  saveBlob(seconds = 60) {
    if (this.mode?.codec === 'opus') return { blob: new Blob([]), start: this.position, seconds: 0 };
    const clip = this.history.clip(this.audio.currentTime, seconds);
    return { blob: new Blob([clip.bytes], { type: 'audio/mpeg' }), start: clip.start, seconds: clip.seconds };
  }
}

