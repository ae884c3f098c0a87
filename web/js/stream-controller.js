// StreamController: plays a Drift session (or an Icecast relay of it) in the page. It joins
// parts that each do one thing: a connection (fetch, `from=`, backoff), a demuxer (bytes →
// frames and titles), a sink (MediaSource, ManagedMediaSource, or the element playing the URL
// itself) and the state machine, which holds all player state. Every kind of trouble (a fetch
// error, the end of the stream, a silent pipe, a stalled play head, a restart notice, the
// network going away) takes one path: drop the connection and reconnect to the same session
// from the end of what the page holds — no gap, no repeat — while the buffer keeps playing.
// Events: `state`, `buffer`, `metadata`, `reconnected`, `instance`.
import { concatBytes } from './bytes.js';
import { Connection, DRIFT, RELAY, streamUrl } from './connection.js';
import { Demuxer, splitTitle } from './demuxer.js';
import { StateMachine } from './player-state.js';
import { FrameHistory, CueList, MP3_GRID, OPUS_GRID } from './frame-history.js';
import { chooseMode, MseSink } from './mse-sink.js';
import { DirectSink } from './direct-sink.js';

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

export class StreamController extends EventTarget {
  constructor(audio, options = {}) {
    super();
    this.audio = audio;
    this.opts = { ...DEFAULTS, ...options };
    this.fsm = new StateMachine((state, from, event, detail) =>
      this.emit('state', { state, from, event, reason: detail, intent: this.fsm.intent }), this.opts.initialState);
    this.policy = this.opts.relay ? RELAY : DRIFT;
    this.history = new FrameHistory(this.opts.historySeconds);
    this.cues = new CueList();
    this.conn = 0; // bumped for every connection; a superseded one sees the change and quits
    this.appendLog = []; // { conn, first, last, at }: runs of frame indices appended, for tests
    this.instanceId = null;
    this.trouble = null; // what the last failed attempt heard (shown with the error state)
  }

  get state() { return this.fsm.state; }
  get active() { return this.fsm.active; }
  get recovering() { return this.fsm.recovering; }
  /** Stream position (seconds) the listener hears now. */
  get position() { return this.sink ? this.sink.position : this.audio.currentTime; }
  get bufferedAhead() { return this.sink ? this.sink.ahead() : 0; }
  /** Titles come with the audio (a relay's ICY), not from the session's events. */
  get titlesInStream() { return this.policy.titlesInStream && this.mode?.kind === 'mse'; }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /**
   * Starts playing `urls` = { streamUrl, fmp4Url, opusMp4Url, instanceId, probe } where
   * `probe()` resolves to the session's bootstrap (used to notice a restarted server and to
   * place the direct player's audio) and `opusMp4Url` is there when the server offers Opus.
   * Call from a click.
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
    this.file = this.mode.codec === 'opus' ? urls.opusMp4Url : this.mode.format === 'mp4' ? urls.fmp4Url : urls.streamUrl;
    this.history = new FrameHistory(this.opts.historySeconds, this.grid);
    this.cues = new CueList();
    this.connection = new Connection({ policy: this.policy, backoff: this.opts.backoff, silentMs: this.opts.silentMs });
    this.fsm.send('start');
    this.attachSink();
    // The browser knows before we do: going offline means the pipe is dead even if it has not
    // errored yet (reconnecting costs nothing audible), and coming back retries at once.
    this.onOnline = () => { if (this.recovering) this.attemptNow(); };
    this.onOffline = () => this.recover('the network went offline');
    globalThis.addEventListener?.('online', this.onOnline);
    globalThis.addEventListener?.('offline', this.onOffline);
    // A page thawed after a freeze (Page Lifecycle): Chromium paused the element then and
    // leaves it paused. The connection lives on; only the element needs to play again.
    this.onResume = () => this.sink?.nudge();
    globalThis.document?.addEventListener?.('resume', this.onResume);
    // The direct sink's play() runs inside the click (open reaches it before any await). Its
    // audio starts at the play point, which the probe places.
    if (this.mode.kind === 'direct') {
      this.urls.probe?.().then((boot) => { if (typeof boot?.position === 'number') this.sink.base = boot.position; }, () => {});
    }
    this.open(null).then((ok) => { if (!ok) this.recover('first connection failed'); });
  }

  /** A new sink on the element (in the click that starts, or replacing a dead MediaSource). */
  attachSink() {
    this.sink = this.mode.kind === 'direct' ? new DirectSink(this.audio) : new MseSink(this.audio, this.mode, this.opts);
    this.listen(this.sink);
    // In the click this keeps its permission for the data to come; later the element, started
    // by a click once, may play again without one.
    if (this.mode.kind !== 'direct') this.audio.play().catch(() => {});
  }

  /**
   * After a media error the MediaSource is closed for good: a fresh one, refilled from where
   * the listener is (what the dead one held ahead of that is gone with it, and fetched again).
   */
  replaceDeadSink() {
    if (!this.sink?.dead) return;
    const heard = this.grid.indexOf(this.audio.currentTime);
    this.sink.close();
    this.attachSink();
    if (this.history.nextIndex !== null && heard < this.history.nextIndex) this.history.dropFrom(heard);
  }

  /** Wires a sink's reports to what they mean for the player. */
  listen(sink) {
    sink.addEventListener('progress', (e) => this.onProgress(e.detail));
    sink.addEventListener('appended', (e) => this.onAppended(e.detail));
    sink.addEventListener('error', (e) => this.recover(`append failed: ${e.detail?.message ?? e.detail}`));
    sink.addEventListener('lost', (e) => this.recover(e.detail.reason));
    sink.addEventListener('playing', () => this.fsm.send(this.state === 'reconnecting' ? 'resumed' : 'playing'));
    sink.addEventListener('waiting', () => this.fsm.send('waiting'));
    // The browser dropped audio not played yet: fetch it again, as after a splice.
    sink.addEventListener('evicted', (e) => this.refetchFrom(e.detail.from));
    // A full buffer: keep less played audio from now on.
    sink.addEventListener('quota', () => { sink.keepSeconds = Math.max(5, sink.keepSeconds / 2); });
    // ManagedMediaSource: read only while the browser wants data; resume exactly when it asks.
    sink.addEventListener('streaming', (e) => {
      if (e.detail.on && this.active && !this.recovering && !this.stream) this.open(this.resumePos());
      if (!e.detail.on) this.dropConnection();
    });
  }

  /** Stops everything; the page can `start` again. */
  stop(reason = 'stopped', quiet = false) {
    this.dropConnection();
    this.cancelAttempt();
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('offline', this.onOffline);
    globalThis.document?.removeEventListener?.('resume', this.onResume);
    clearTimeout(this.cueTimer);
    this.sink?.close();
    this.sink = null;
    if (!quiet) this.fsm.send('stop', reason);
  }

  /** The server asked us to reconnect (refresh, shutdown): the same path as any trouble. */
  softRestart(reason = 'restart', afterMs = 0) {
    if (!this.active) return;
    this.fsm.send('restart', reason);
    this.recover(reason, afterMs);
  }

  /** The session's events name the server's instance: a new one means it restarted. */
  serverInstance(id) {
    if (!id || id === this.instanceId) return;
    const known = this.instanceId !== null;
    this.instanceId = id;
    if (known && this.active) this.softRestart('the server restarted');
  }

  /** Ends the current connection and retries, with backoff, until the server answers. */
  recover(reason, firstDelayMs) {
    if (!this.active) return;
    this.dropConnection();
    this.fsm.send('lost', reason);
    if (!this.retry) this.scheduleAttempt(firstDelayMs ?? this.connection.nextDelay(this.bufferedAhead), reason);
  }

  scheduleAttempt(delay, reason) {
    const retry = { reason };
    retry.timer = setTimeout(() => this.attempt(retry), delay);
    this.retry = retry;
  }

  /** The network came back: the pending attempt runs now instead of after its backoff. */
  attemptNow() {
    if (!this.retry || this.retry.running) return;
    clearTimeout(this.retry.timer);
    this.attempt(this.retry);
  }

  cancelAttempt() {
    if (this.retry) clearTimeout(this.retry.timer);
    this.retry = null;
  }

  async attempt(retry) {
    if (retry !== this.retry || !this.recovering) return this.cancelAttempt();
    retry.running = true;
    const since = this.fsm.troubleSince ?? Date.now();
    let ok = false;
    try {
      const boot = this.urls.probe ? await this.urls.probe() : null;
      if (retry !== this.retry) return;
      if (boot?.instanceId && boot.instanceId !== this.instanceId) {
        this.instanceId = boot.instanceId;
        this.emit('instance', { instanceId: boot.instanceId });
      }
      this.replaceDeadSink();
      ok = await this.open(this.resumePos(), boot);
    } catch (e) {
      // The server is still away, or answers that it cannot serve us yet: wait longer.
      this.trouble = e;
    }
    if (retry !== this.retry) return;
    this.retry = null;
    // Still recovering: the server did not answer, or new trouble (going offline) dropped the
    // connection this attempt opened. Either way, the next attempt.
    if (!ok || this.recovering) {
      if (this.recovering) this.scheduleAttempt(this.connection.nextDelay(this.bufferedAhead), retry.reason);
      return;
    }
    this.trouble = null;
    this.connection.succeeded();
    this.emit('reconnected', { after: Date.now() - since, reason: retry.reason });
  }

  /** Where to continue: just inside the frame after the newest held, or the play point. */
  resumePos() {
    if (this.mode.kind === 'direct') return this.sink.position;
    const end = this.history.nextIndex;
    return end === null ? null : this.grid.posOf(end) + this.grid.secs / 4;
  }

  dropConnection() {
    this.conn++;
    this.stream?.close();
    this.stream = null;
  }

  /**
   * Splice (skip, steer): the audio from `pos` on was re-rendered. Drop our copy of that
   * future and fetch it again, so the change is heard now rather than a lead later.
   */
  async splice(pos) {
    if (!this.policy.splices) return; // a relay's change arrives with its audio
    this.cues.dropFrom(pos); // titles announced for the replaced future
    await this.refetchFrom(pos);
  }

  /** Forgets the audio held from `pos` on and fetches it again. */
  async refetchFrom(pos) {
    if (!this.active || this.mode.kind === 'direct') return;
    const { indexOf, posOf, secs } = this.grid;
    const cutIdx = Math.max(indexOf(pos), indexOf(this.audio.currentTime + 0.12));
    if (this.history.nextIndex !== null && cutIdx >= this.history.nextIndex) return; // not here yet
    this.dropConnection();
    await this.sink.cutFrom(posOf(cutIdx));
    this.history.dropFrom(cutIdx);
    if (!this.recovering && !(await this.open(posOf(cutIdx) + secs / 4))) this.recover('splice failed');
  }

  /**
   * Opens a connection from `fromPos` (null: the play point); true when the server answered.
   * `boot` is the bootstrap the server just gave, when there is one.
   */
  async open(fromPos, boot = null) {
    this.dropConnection();
    const my = this.conn;
    if (this.mode.kind === 'direct') return this.openDirect(fromPos, boot);
    const answer = await this.connection.open(this.file, fromPos, { icy: this.mode.format !== 'mp4' });
    if (my !== this.conn || !this.sink) {
      answer.stream?.close();
      return true;
    }
    if (answer.final) this.fsm.send('fail', answer.final);
    if (!answer.stream) {
      this.trouble = answer.status ? { status: answer.status, message: answer.failed } : null;
      return false;
    }
    const stream = answer.stream;
    this.stream = stream;
    // A relay says no position: its live edge continues what this page holds (an outage costs
    // what the relay sent meanwhile, or repeats its burst).
    const start = stream.start ?? this.grid.posOf(this.history.nextIndex ?? 0);
    this.fsm.send(this.audio.paused || this.sink.ahead() < 0.2 ? 'connected' : 'resumed');
    this.pump(my, stream, this.grid.indexOf(start)).catch((e) => {
      if (my === this.conn) this.recover(`stream failed: ${e.message}`);
    });
    return true;
  }

  /**
   * The direct sink: the element loads the stream from where the listener is. When that fails
   * although the server just answered, the position is gone (a long outage): the play point.
   */
  async openDirect(fromPos, boot) {
    const base = fromPos === null ? 0 : this.grid.posOf(this.grid.indexOf(fromPos));
    try {
      await this.sink.load(streamUrl(this.file, fromPos, this.policy), base);
    } catch {
      if (!boot || fromPos === null) return false;
      try {
        await this.sink.load(streamUrl(this.file, null, this.policy), boot.position ?? 0);
      } catch {
        return false;
      }
    }
    this.fsm.send('resumed');
    return true;
  }

  /** Reads one response into the sink until it ends, goes silent, or is superseded. */
  async pump(my, stream, startIdx) {
    const demux = new Demuxer({ format: this.mode.format, grid: this.grid, startIdx, metaint: stream.metaint });
    let init = null;
    let placed = false;
    for await (const chunk of stream.chunks((signal) => this.sink.room(signal))) {
      if (my !== this.conn) return;
      const out = demux.push(chunk);
      if (out.init) init = out.init;
      for (const t of out.titles) this.cues.place(t.pos, { ...splitTitle(t.text), source: t.source }, false);
      if (out.titles.length) this.announce(this.position);
      const next = this.history.nextIndex;
      const keep = out.units.filter((u) => next === null || u.frames.at(-1).idx >= next);
      if (!keep.length) continue;
      if (!placed) {
        placed = true;
        await this.sink.placeAt(this.grid.posOf(keep[0].idx));
        if (my !== this.conn) return;
        if (init) this.sink.push(init, null);
      }
      for (const u of keep) for (const f of u.frames) this.history.add(f.idx, f.bytes);
      const first = keep[0].idx;
      const bytes = keep.length === 1 ? keep[0].bytes : concatBytes(keep.map((u) => u.bytes));
      this.sink.push(bytes, { conn: my, first, last: keep.at(-1).frames.at(-1).idx, pos: this.grid.posOf(first) });
    }
  }

  /** Appended frames, one entry per unbroken run of a connection (a gap or repeat starts one). */
  onAppended(meta) {
    const last = this.appendLog.at(-1);
    if (last && last.conn === meta.conn && meta.first === last.last + 1) {
      Object.assign(last, { last: meta.last, at: Date.now() });
      return;
    }
    this.appendLog.push({ conn: meta.conn, first: meta.first, last: meta.last, at: Date.now() });
    if (this.appendLog.length > 2000) this.appendLog.splice(0, 1000);
  }

  /** The sink's heartbeat: what a moving or frozen play head means, and what is heard. */
  onProgress({ position, ahead, moving, frozenMs, pending, started }) {
    if (moving) this.fsm.send('playing'); // (while reconnecting it stays reconnecting)
    const stalled = frozenMs > this.opts.stallMs && started && !this.recovering;
    if (stalled && (this.state === 'playing' || this.state === 'buffering')) {
      this.fsm.send('stall');
      if (!this.sink.nudge()) this.recover('playback stalled');
    }
    // The buffer ran dry (the element stops a frame or so short of its end) long ago.
    const since = this.fsm.troubleSince;
    if (since !== null && ahead < 0.5 && frozenMs > 1000 && Date.now() - since > this.opts.giveUpMs) {
      this.fsm.send('giveUp', 'the server has been unreachable too long');
    }
    this.history.trim(position);
    this.announce(position);
    this.cues.trim(position - 600);
    this.emit('buffer', { ahead, position, pending });
  }

  /**
   * Announces the track the audio has reached at `position`, once per change. A change due
   * before the next heartbeat gets a timer of its own, so a title changes with its audio
   * rather than up to a heartbeat (250 ms) later.
   */
  announce(position) {
    const cue = this.cues.reached(position);
    if (cue) this.emit('metadata', { position: cue.pos, ...cue.info });
    clearTimeout(this.cueTimer);
    const next = this.cues.after(position);
    const wait = next && !this.audio.paused ? (next.pos - position) * 1000 : Infinity;
    if (wait < 300) this.cueTimer = setTimeout(() => this.sink && this.announce(this.position), wait + 5);
  }

  /** Places track info from the session's events (exact to the frame) on the timeline. */
  addCue(pos, info) {
    if (this.titlesInStream) return;
    this.cues.place(pos, info, true);
    if (this.sink) this.announce(this.position);
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
