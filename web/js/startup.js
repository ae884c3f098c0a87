// How the page gets to a station it can play, however early it is opened: it asks the server
// for its session until it has one, waiting out a first library scan (the server answers 503
// "preparing" with the scan's progress), a full station (503 "full": it waits for a place at the
// server's pace), too many new sessions from this address (429), an absent server (no answer
// at all: retried with backoff) and a server that answers with an error (shown as the server
// says it, retried).
// Once music plays, `watchLibrary` keeps an eye on a library that is still growing.
// No DOM here: fetch, sleep and the page's callbacks are passed in, so tests drive it.
import { Backoff, backoffDelay } from './backoff.js';

/**
 * What a failed request means for a page that waits to play. `err` comes from session.js:
 * `unreachable` (no answer: the fetch itself failed) or `status`, `code`, `body`,
 * `retryAfter` (seconds, from the header) for an HTTP answer. Returns
 * `{ event, message, library, delayMs }` where `event` is what the player's state machine
 * hears: 'unreachable', 'preparing' or 'unavailable'.
 */
export function classify(err, backoff) {
  if (!err || err.unreachable || typeof err.status !== 'number') {
    const delayMs = backoff.next();
    return {
      event: 'unreachable',
      message: `Cannot reach Drift: no answer from the server. Trying again in ${seconds(delayMs)}.`,
      library: null,
      delayMs,
    };
  }
  const hinted = typeof err.retryAfter === 'number' && err.retryAfter >= 0 ? err.retryAfter * 1000 : null;
  if (err.code === 'preparing') {
    backoff.reset(); // the server answers: only its own pace matters
    return {
      event: 'preparing',
      message: err.message,
      library: err.body?.library ?? null,
      delayMs: clamp(hinted ?? 1000, 500, 5000),
    };
  }
  if (err.code === 'full') {
    // Every place is taken: one frees up when a station's last listener leaves. Ask at the
    // server's pace, then less and less often (up to 4× its pace), spread so that many
    // waiting pages do not all come back in the same second.
    const pace = clamp(hinted ?? 60000, 1000, 600000);
    const delayMs = backoffDelay(backoff.attempt, { ...backoff.opts, base: pace, max: 4 * pace });
    backoff.next();
    const n = err.body?.playing;
    const playing = !Number.isFinite(n) ? 'every place is taken' : n === 1 ? '1 session is playing' : `${n} sessions are playing`;
    return {
      event: 'unavailable',
      message: `The station is full: ${playing}. Drift tries again by itself in ${seconds(delayMs)}.`,
      library: null,
      delayMs,
    };
  }
  if (err.code === 'rate_limited') {
    // A new token comes at a known moment: asking sooner only gets another 429.
    const delayMs = clamp(hinted ?? 10000, 1000, 300000);
    return {
      event: 'unavailable',
      message: `Too many new sessions from this address: trying again in ${seconds(delayMs)}.`,
      library: null,
      delayMs,
    };
  }
  const delayMs = hinted === null ? backoff.next() : clamp(hinted, 500, 30000);
  const said = err.body && typeof err.body.error === 'string';
  return {
    event: 'unavailable',
    message: said
      ? `Drift says: ${err.body.error}. Trying again in ${seconds(delayMs)}.`
      : `The server answered HTTP ${err.status}. Trying again in ${seconds(delayMs)}.`,
    library: err.body?.library ?? null,
    delayMs,
  };
}

const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const seconds = (ms) => (ms >= 90000 ? `${Math.round(ms / 60000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`);

/**
 * Resolves the page's session, however long that takes. `resolve()` is session.js's
 * resolveSession; `onWait(step)` is told each time the server cannot give a session yet (the
 * page shows it); `sleep(ms, step)` waits before the next attempt (the page makes it wakeable,
 * so a Retry button or coming back online tries at once). Resolves to the bootstrap.
 */
export async function waitForStation({ resolve, onWait, sleep, backoff = new Backoff({ base: 1000, max: 10000 }) }) {
  for (;;) {
    try {
      return await resolve();
    } catch (err) {
      const step = classify(err, backoff);
      onWait(step, err);
      await sleep(step.delayMs, step);
    }
  }
}

/**
 * Polls the library status while the library grows and reports each one to `onStatus(status)`;
 * ends (after reporting `null`) once the scan is over or the server has no such resource.
 * `getStatus()` resolves to the status or null (no such resource); `stopped()` ends it early.
 */
export async function watchLibrary({ getStatus, onStatus, sleep, everyMs = 2000, stopped = () => false }) {
  let failures = 0;
  while (!stopped()) {
    let status;
    try {
      status = await getStatus();
      failures = 0;
    } catch {
      failures += 1; // a server away for a moment: the player's own recovery deals with it
      await sleep(Math.min(30000, everyMs * 2 ** failures));
      continue;
    }
    if (stopped()) return;
    if (!status || status.scanning === false) {
      onStatus(null);
      return;
    }
    onStatus(status);
    await sleep(everyMs);
  }
}
