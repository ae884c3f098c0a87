// Stand-ins for the browser's media objects, for the tests of the append queue and the sinks:
// a SourceBuffer that refuses overlapping operations as a real one does, a (Managed)MediaSource,
// an audio element whose buffered ranges and play head the test sets, and TimeRanges.

// A SourceBuffer stand-in: operations throw InvalidStateError while updating (as in MSE), each
// update ends asynchronously with 'updateend', and appends can be made to hit the quota.
export class FakeSourceBuffer extends EventTarget {
  constructor({ quota = 0, delay = () => 0, failWith = null, errorEventOn = -1 } = {}) {
    super();
    this.updating = false;
    this.quota = quota; // how many appendBuffer calls throw QuotaExceededError next
    this.delay = delay; // ms an update takes, per operation
    this.failWith = failWith; // an error appendBuffer throws (not quota)
    this.errorEventOn = errorEventOn; // index of the append that fails with an 'error' event
    this.appended = []; // bytes accepted, in order
    this.log = []; // every operation, in order
    this.overlaps = 0; // operations attempted while updating
    this.offset = 0;
  }

  get timestampOffset() {
    return this.offset;
  }

  set timestampOffset(v) {
    this.busyCheck('timestampOffset');
    this.log.push(['offset', v]);
    this.offset = v;
  }

  busyCheck(op) {
    if (this.updating) {
      this.overlaps += 1;
      throw new DOMException(`${op} while updating`, 'InvalidStateError');
    }
  }

  appendBuffer(bytes) {
    this.busyCheck('appendBuffer');
    if (this.failWith) throw this.failWith;
    if (this.quota > 0) {
      this.quota -= 1;
      this.log.push(['quota', bytes[0]]);
      throw new DOMException('The SourceBuffer is full', 'QuotaExceededError');
    }
    const index = this.appended.length;
    this.appended.push(bytes);
    this.log.push(['append', bytes[0]]);
    this.update(index === this.errorEventOn);
  }

  remove(start, end) {
    this.busyCheck('remove');
    this.log.push(['remove', start, end]);
    this.update(false);
  }

  abort() {
    this.log.push(['abort']);
  }

  update(failing) {
    this.updating = true;
    setTimeout(() => {
      if (failing) this.dispatchEvent(new Event('error'));
      this.updating = false;
      this.dispatchEvent(new Event('updateend'));
    }, this.delay());
  }
}

/** TimeRanges over [[start, end], …]. */
export function timeRanges(list) {
  return { length: list.length, start: (i) => list[i][0], end: (i) => list[i][1] };
}

/** A MediaSource (or, with `managed`, a ManagedMediaSource): the test fires `sourceopen`. */
export class FakeMediaSource extends EventTarget {
  constructor() {
    super();
    this.readyState = 'closed';
    this.buffers = [];
  }

  addSourceBuffer(mime) {
    const sb = new FakeSourceBuffer();
    sb.mime = mime;
    this.buffers.push(sb);
    return sb;
  }

  open() {
    this.readyState = 'open';
    this.dispatchEvent(new Event('sourceopen'));
  }

  endOfStream() {
    this.readyState = 'ended';
  }
}

/** An <audio> element: `ranges` ([[start, end], …]) and `currentTime` are the test's to set. */
export class FakeAudio extends EventTarget {
  constructor() {
    super();
    this.ranges = [];
    this.currentTime = 0;
    this.paused = true;
    this.plays = 0;
    this.attrs = {};
    this.playResult = () => Promise.resolve();
  }

  get buffered() { return timeRanges(this.ranges); }
  set src(v) { this.attrs.src = v; }
  get src() { return this.attrs.src ?? ''; }
  getAttribute(name) { return this.attrs[name] ?? null; }
  removeAttribute(name) { delete this.attrs[name]; }

  play() {
    this.plays += 1;
    const r = this.playResult();
    r.then(() => { this.paused = false; }, () => {});
    return r;
  }

  pause() { this.paused = true; }
  load() {}
}

/** Object URLs for anything (node's URL.createObjectURL takes Blobs only), for `fn`'s run. */
export async function withObjectUrls(fn) {
  const { createObjectURL, revokeObjectURL } = URL;
  let n = 0;
  URL.createObjectURL = () => `blob:fake/${++n}`;
  URL.revokeObjectURL = () => {};
  try {
    return await fn();
  } finally {
    Object.assign(URL, { createObjectURL, revokeObjectURL });
  }
}
