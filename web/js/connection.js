// The connection: how the page asks a server for the stream and reads it. It builds the URL
// (`from=` a stream position, where the server keeps positions), fetches with an abort handle,
// turns the answer into a stream to read or a reason it cannot be read, and reads it only when
// the sink has room (backpressure: an unread response makes the server wait, nothing polls), with
// a deadline per read so a pipe that goes silent without closing counts as lost. It also says
// how long to wait before the next attempt. No DOM; `fetch` is injectable for tests.
import { Backoff } from './backoff.js';
import { parsePosition } from './frame-history.js';

/**
 * What a server offers. Drift keeps stream positions: `from=` resumes exactly, an unknown
 * session (404) is final, and the page times titles by the session's events. An Icecast relay
 * has no positions (its live edge continues what the page holds), a missing mount is an outage
 * while its source reconnects, titles come in the stream (ICY), and it cannot be spliced.
 */
export const DRIFT = Object.freeze({ positions: true, missingIsFinal: true, titlesInStream: false, splices: true });
export const RELAY = Object.freeze({ positions: false, missingIsFinal: false, titlesInStream: true, splices: false });

/** The URL of `file` from stream position `fromPos` (null: the session's play point). */
export function streamUrl(file, fromPos, policy = DRIFT, base = globalThis.location?.href) {
  const url = new URL(file, base);
  if (fromPos !== null && policy.positions) url.searchParams.set('from', fromPos.toFixed(6));
  return url.toString();
}

/**
 * The wait (ms) before the next attempt: the backoff's, but never more than a quarter of the
 * audio still buffered (a server that comes back is found before the listener hears silence),
 * and at most `emptyMaxMs` once nothing is buffered (the listener hears silence already: a
 * cheap probe every second finds the server within that of its return).
 */
export function retryDelay(backoffMs, aheadSecs, emptyMaxMs = 1000) {
  if (aheadSecs > 0.5) return Math.min(backoffMs, Math.max(500, aheadSecs * 250));
  return Math.min(backoffMs, emptyMaxMs);
}

export class Connection {
  /**
   * @param {{policy?: object, fetch?: Function, backoff?: object, silentMs?: number}} opts
   *   `silentMs`: an open response with no bytes this long is dead.
   */
  constructor({ policy = DRIFT, fetch = (...a) => globalThis.fetch(...a), backoff = {}, silentMs = 5000 } = {}) {
    this.policy = policy;
    this.fetch = fetch;
    this.backoff = new Backoff(backoff);
    this.silentMs = silentMs;
  }

  /** The wait before the next attempt, with `aheadSecs` of audio still buffered. */
  nextDelay(aheadSecs) {
    return retryDelay(this.backoff.next(), aheadSecs);
  }

  /** The server answered: the next outage starts with the shortest wait again. */
  succeeded() {
    this.backoff.reset();
  }

  /**
   * Requests `file` from `fromPos` (null: the play point). Resolves to one of
   *   { stream }            an open response (see Stream),
   *   { final: message }    the server says this will never work (the session is gone),
   *   { failed: message, status? }  not now (no answer, an error status): try again later.
   * A position the server no longer holds (410, after a long outage) is asked again from the
   * play point.
   */
  async open(file, fromPos, { icy = false } = {}) {
    const ac = new AbortController();
    let resp;
    try {
      resp = await this.fetch(streamUrl(file, fromPos, this.policy), {
        signal: ac.signal, cache: 'no-store', headers: icy ? { 'Icy-MetaData': '1' } : {},
      });
    } catch (e) {
      return { failed: e?.message ?? 'no answer' };
    }
    if (resp.status === 410 && fromPos !== null && this.policy.positions) {
      ac.abort();
      return this.open(file, null, { icy });
    }
    if (!resp.ok || !resp.body) {
      ac.abort();
      if (resp.status === 404 && this.policy.missingIsFinal) return { final: 'this session no longer exists' };
      return { failed: `the server answered ${resp.status}`, status: resp.status };
    }
    let start = null; // a relay says no position: the caller continues what it holds
    if (this.policy.positions) {
      start = parsePosition(resp.headers.get('x-drift-position'));
      // A garbled position would put every frame at NaN: a failed connection, not a stream.
      if (start === null) {
        ac.abort();
        return { failed: 'the server sent no usable position' };
      }
    }
    const metaint = parseInt(resp.headers.get('icy-metaint') ?? '0', 10) || 0;
    return { stream: new Stream(resp.body.getReader(), ac, { start, metaint, silentMs: this.silentMs }) };
  }
}

/** One open response: read chunk by chunk when there is room, closed exactly once. */
export class Stream {
  constructor(reader, abortController, { start, metaint, silentMs }) {
    this.reader = reader;
    this.ac = abortController;
    this.start = start;
    this.metaint = metaint;
    this.silentMs = silentMs;
  }

  get closed() {
    return this.ac.signal.aborted;
  }

  /** Ends the response (the server sees the connection close). */
  close() {
    if (this.closed) return;
    this.ac.abort();
    this.reader.cancel().catch(() => {});
  }

  /**
   * The response's chunks. Before each read it waits for `room(signal)` (the sink's
   * backpressure); each read must bring bytes within `silentMs`. Ends quietly when closed;
   * throws when the stream ends or goes silent (both mean the connection is lost).
   */
  async *chunks(room = async () => {}) {
    try {
      for (;;) {
        await room(this.ac.signal);
        if (this.closed) return;
        const { value, done } = await this.readWithin(this.silentMs);
        if (this.closed) return;
        if (done) throw new Error('the stream ended');
        if (value?.length) yield value;
      }
    } catch (e) {
      if (this.closed) return;
      throw e;
    } finally {
      this.close();
    }
  }

  /**
   * The next read, or an error once `ms` pass without bytes. A deadline that fires much later
   * than set was frozen with the page (Page Lifecycle, a hidden tab): that silence was the
   * browser's, not the server's, so the pipe gets `ms` more from the thaw.
   */
  readWithin(ms) {
    let timer;
    const silent = new Promise((_, reject) => {
      const arm = (setAt) => {
        timer = setTimeout(() => {
          if (Date.now() - setAt > ms + 1000) arm(Date.now());
          else reject(new Error('no data from the server'));
        }, ms);
      };
      arm(Date.now());
    });
    return Promise.race([this.reader.read(), silent]).finally(() => clearTimeout(timer));
  }
}
