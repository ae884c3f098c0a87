// Reconnect schedule: how long to wait before the next attempt. Delays double from `base` up
// to `max`, so a brief blip reconnects at once while a long outage does not hammer the server,
// and each delay is spread by ± `jitter` so many listeners of a restarted server do not all
// come back in the same instant. Pure; `random` is injectable for tests.

const DEFAULTS = Object.freeze({ base: 500, max: 8000, jitter: 0.25, random: Math.random });

/**
 * The delay (ms) before attempt number `attempt` (0-based): min(max, base × 2^attempt),
 * scaled by a factor uniformly in [1 − jitter, 1 + jitter). Never below 0, never above
 * max × (1 + jitter).
 * @param {number} attempt
 * @param {{base?: number, max?: number, jitter?: number, random?: () => number}} [opts]
 * @returns {number} milliseconds (not rounded)
 */
export function backoffDelay(attempt, opts = {}) {
  const { base, max, jitter, random } = withDefaults(opts);
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // 2 ** n is Infinity for huge n, which min() turns into max: no overflow to worry about.
  const plain = Math.min(max, base * 2 ** n);
  // random() is in [0, 1): map it to [-1, 1), clamped in case a custom source strays (and no
  // jitter at all if it returns something that is not a number).
  const r = 2 * random() - 1;
  const spread = Number.isFinite(r) ? Math.min(1, Math.max(-1, r)) : 0;
  const delay = plain * (1 + jitter * spread);
  return Math.min(max * (1 + jitter), Math.max(0, delay));
}

// `undefined` options (e.g. `{ max: undefined }` from a partial config) fall back to defaults.
function withDefaults(opts) {
  const out = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    if (opts[key] !== undefined) out[key] = opts[key];
  }
  out.jitter = Math.max(0, out.jitter);
  return out;
}

/** A running schedule: next() gives the delay before each attempt, reset() after a success. */
export class Backoff {
  /** @param {{base?: number, max?: number, jitter?: number, random?: () => number}} [opts] */
  constructor(opts = {}) {
    this.opts = { ...opts };
    this.count = 0;
  }

  /** The delay (ms) before the next attempt; counts that attempt. */
  next() {
    const delay = backoffDelay(this.count, this.opts);
    this.count += 1;
    return delay;
  }

  /** Back to the shortest delay (the connection works again). */
  reset() {
    this.count = 0;
  }

  /** Attempts counted since the last reset. */
  get attempt() {
    return this.count;
  }
}
