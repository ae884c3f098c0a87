// A FIFO in front of a MediaSource SourceBuffer. A SourceBuffer takes one append at a time and
// throws when called while updating, and a full buffer throws QuotaExceededError; this queue
// appends items strictly in order, one at a time, frees space and retries the same item on
// QuotaExceededError so no audio is ever lost, and lets the player run its own buffer
// operations (remove, abort, timestampOffset) between appends without racing them.
// No DOM access beyond the SourceBuffer it is given (any EventTarget with that interface).

const QUOTA = 'QuotaExceededError';
// From this many quota errors in a row on one item, wait between tries even when evict() says
// it freed something: an evict that frees too little would otherwise spin.
const QUOTA_SPINS = 3;

// appendHead()'s answer when there is nothing to wait for before the next turn.
const NOTHING = Object.freeze({ retryIn: 0 });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class AppendQueue extends EventTarget {
  /**
   * @param {SourceBuffer} sourceBuffer
   * @param {{evict?: () => Promise<boolean>, retryDelay?: number}} [opts] `evict` frees
   *   back-buffer on QuotaExceededError and says whether it freed anything; it runs while the
   *   queue holds the SourceBuffer, so it may call `sb.remove()` directly (the retry waits for
   *   the update to end) or use exclusive(). `retryDelay` (ms) is the wait before retrying when
   *   nothing could be freed.
   */
  constructor(sourceBuffer, { evict = async () => false, retryDelay = 250 } = {}) {
    super();
    this.sb = sourceBuffer;
    this.evict = evict;
    this.retryDelay = retryDelay;
    // Items not yet handed to appendBuffer, oldest first: {bytes, meta}.
    this.queue = [];
    this.queuedBytes = 0;
    // The error that stopped the queue; nothing is appended after it.
    this.failure = null;
    // True from appendBuffer until its updateend: what exclusive() and drained() wait out.
    this.inFlight = false;
    // Tail of the chain of turns on the SourceBuffer (appends and exclusive jobs), FIFO: a job
    // asked for during an append runs right after it, before the next append.
    this.turns = Promise.resolve();
    this.pumping = false;
    // Set while evict() runs inside a turn, so an exclusive() it calls runs at once instead
    // of waiting for the turn that is waiting for it (a deadlock). Any exclusive() asked for
    // in that window skips the line too; it still waits for the SourceBuffer to be idle.
    this.evicting = false;
    // Resolvers of drained() waiting for a change of state (an append done, clear, stop).
    this.waiters = [];
    // The item that last hit QuotaExceededError and how many times in a row, to tell an
    // evict() that frees too little (wait between tries) from one that helped (retry at once).
    this.quotaItem = null;
    this.quotaStreak = 0;
  }

  /** Items waiting to be appended (including one being retried after a quota error). */
  get pending() {
    return this.queue.length;
  }

  /** Bytes waiting to be appended. */
  get pendingBytes() {
    return this.queuedBytes;
  }

  /** The error that stopped the queue, or null. */
  get error() {
    return this.failure;
  }

  /** Enqueues bytes to append after everything already queued. Never drops. */
  push(bytes, meta = null) {
    this.queue.push({ bytes, meta });
    this.queuedBytes += bytes.byteLength;
    this.kick();
  }

  /** Drops every item not yet handed to appendBuffer (the future was replaced). */
  clear() {
    this.queue = [];
    this.queuedBytes = 0;
    this.wake();
  }

  /**
   * Runs `fn` when the SourceBuffer is idle and no append is in flight, holding appends off
   * until it is done; if `fn` started an update (e.g. `sb.remove`), waits for its updateend.
   * @template T
   * @param {() => T | Promise<T>} fn
   * @returns {Promise<T>} what fn returned; rejects if fn threw.
   */
  exclusive(fn) {
    if (this.evicting) return this.runExclusive(fn);
    const result = this.turn(() => this.runExclusive(fn));
    // Appends held off by this job resume after it.
    result.then(() => this.kick(), () => this.kick());
    return result;
  }

  /**
   * Resolves when nothing is queued, no append is in flight and the SourceBuffer is idle.
   * Rejects if the queue has stopped on
   * an error, since what is queued will then never be appended.
   */
  async drained() {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.queue.length === 0 && !this.inFlight && !this.pumping) {
        if (!this.sb.updating) return;
        await this.idle();
      } else {
        await new Promise((resolve) => this.waiters.push(resolve));
      }
    }
  }

  // ---- internals ----

  async runExclusive(fn) {
    await this.idle();
    const result = await fn();
    await this.idle();
    return result;
  }

  // Queues `job` as the next turn on the SourceBuffer.
  turn(job) {
    const result = this.turns.then(job);
    this.turns = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  // Resolves once the SourceBuffer is not updating (at once if it is idle now).
  idle() {
    return new Promise((resolve) => {
      if (!this.sb.updating) {
        resolve();
        return;
      }
      const check = () => {
        if (this.sb.updating) return;
        this.sb.removeEventListener('updateend', check);
        resolve();
      };
      this.sb.addEventListener('updateend', check);
    });
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  kick() {
    if (!this.pumping) this.pump();
  }

  async pump() {
    this.pumping = true;
    try {
      while (!this.failure && this.queue.length > 0) {
        const outcome = await this.turn(() => this.appendHead());
        // Waited outside the turn, so exclusive jobs (a splice clearing the queue) run meanwhile.
        if (outcome.retryIn > 0) await sleep(outcome.retryIn);
      }
    } finally {
      this.pumping = false;
      this.wake();
    }
  }

  // One turn: appends the head item and waits for its updateend. Returns {retryIn} in ms:
  // after a quota error the item stays at the head, to be retried after that long.
  async appendHead() {
    await this.idle();
    if (this.failure || this.queue.length === 0) return NOTHING;
    const item = this.queue[0];
    let settle;
    const ended = new Promise((resolve) => (settle = resolve));
    const onEnd = () => settle(null);
    const onError = (e) => settle(e.error ?? new Error('SourceBuffer error event'));
    this.sb.addEventListener('updateend', onEnd);
    this.sb.addEventListener('error', onError);
    const detach = () => {
      this.sb.removeEventListener('updateend', onEnd);
      this.sb.removeEventListener('error', onError);
    };
    try {
      this.sb.appendBuffer(item.bytes);
    } catch (err) {
      detach();
      if (err && err.name === QUOTA) return this.onQuota(item);
      this.fail(err);
      return NOTHING;
    }
    // The item is in the SourceBuffer's hands now: it no longer counts as pending. (A clear()
    // cannot have run since `item` was read: nothing above awaited.)
    this.queue.shift();
    this.queuedBytes -= item.bytes.byteLength;
    this.inFlight = true;
    const err = await ended;
    detach();
    this.inFlight = false;
    if (err) {
      this.fail(err);
      return NOTHING;
    }
    const detail = { meta: item.meta, byteLength: item.bytes.byteLength };
    this.dispatchEvent(new CustomEvent('appended', { detail }));
    this.quotaItem = null;
    this.wake();
    return NOTHING;
  }

  async onQuota(item) {
    let freed = false;
    this.evicting = true;
    try {
      freed = (await this.evict()) === true;
    } catch {
      freed = false; // an evict that fails freed nothing; the retry delay applies
    } finally {
      this.evicting = false;
    }
    if (this.quotaItem === item) {
      this.quotaStreak += 1;
    } else {
      this.quotaItem = item;
      this.quotaStreak = 1;
    }
    const retryIn = freed && this.quotaStreak < QUOTA_SPINS ? 0 : this.retryDelay;
    const detail = {
      freed,
      retryIn,
      attempt: this.quotaStreak,
      meta: item.meta,
      byteLength: item.bytes.byteLength,
    };
    this.dispatchEvent(new CustomEvent('quota', { detail }));
    return { retryIn };
  }

  fail(err) {
    this.failure = err;
    this.dispatchEvent(new CustomEvent('error', { detail: err }));
    this.wake();
  }
}
