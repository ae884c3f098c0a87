// Support for property tests of the page's stream parsers: a small seeded PRNG, random bytes,
// mutations of valid input (bit flips, truncation, insertion, duplicated and deleted spans,
// length fields gone wild) and random split points. No dependency; every case reproduces from
// the seed a failure names. DRIFT_FUZZ_CASES=N runs N cases per property, DRIFT_FUZZ_SEED=S
// replays one (the same variables as the server's property tests).

/** mulberry32: a tiny 32-bit generator, plenty for test input. */
export function prng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const rng = {
    next,
    /** An integer in [0, n). */
    int: (n) => Math.floor((next() / 2 ** 32) * n),
    /** An integer in [lo, hi]. */
    range: (lo, hi) => lo + rng.int(hi - lo + 1),
    bool: (p = 0.5) => next() / 2 ** 32 < p,
    pick: (list) => list[rng.int(list.length)],
  };
  return rng;
}

/** Runs `fn(rng, seed)` for each seed; a failure is re-thrown naming its seed. */
export function property(name, cases, fn) {
  const replay = process.env.DRIFT_FUZZ_SEED;
  const count = Number(process.env.DRIFT_FUZZ_CASES) || cases;
  const seeds = replay !== undefined ? [Number(replay)] : [...Array(count).keys()];
  for (const seed of seeds) {
    try {
      fn(prng(seed), seed);
    } catch (e) {
      e.message = `${name}: seed ${seed} (replay: DRIFT_FUZZ_SEED=${seed}): ${e.message}`;
      throw e;
    }
  }
}

const SPECIAL = [0x00, 0xff, 0xfb, 0x7f, 0x80, 0xe0];

/** Random bytes, up to `maxLen`, often dense in values parsers treat specially. */
export function randomBytes(rng, maxLen) {
  const out = new Uint8Array(rng.range(0, maxLen));
  const special = rng.bool();
  for (let i = 0; i < out.length; i++) {
    out[i] = special && rng.bool(0.3) ? rng.pick(SPECIAL) : rng.int(256);
  }
  return out;
}

/** `data` with one to four random mutations (a new array; `data` is left alone). */
export function mutate(rng, data) {
  let d = Array.from(data);
  const ops = rng.range(1, 4);
  for (let k = 0; k < ops; k++) {
    const at = rng.int(d.length + 1);
    const op = rng.int(7);
    if (op === 0 && at < d.length) d[at] ^= 1 << rng.int(8);
    else if (op === 1 && at < d.length) d[at] = rng.pick([0x00, 0xff, 0x7f, 0x80]);
    else if (op === 2) d = d.slice(0, at);
    else if (op === 3) d.splice(at, 0, ...randomBytes(rng, 16));
    else if (op === 4 && d.length > 0) {
      const [from, len] = span(rng, d.length);
      d.splice(rng.int(d.length + 1), 0, ...d.slice(from, from + len));
    } else if (op === 5 && d.length > 0) {
      const [from, len] = span(rng, d.length);
      d.splice(from, len);
    } else if (op === 6 && at + 4 <= d.length) {
      const v = rng.pick([0xffffffff, 0x80000000, 0x7fffffff, 1, 0, rng.next()]);
      d.splice(at, 4, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    }
  }
  return Uint8Array.from(d);
}

// A random span of a buffer of `len > 0` bytes: [start, length], at most 4 KiB.
function span(rng, len) {
  const from = rng.int(len);
  return [from, rng.range(1, Math.min(len - from, 4096))];
}

/** `data` cut at random boundaries into views (empty pieces included). */
export function randomPieces(rng, data) {
  const cuts = Array.from({ length: rng.int(12) }, () => rng.int(data.length + 1));
  cuts.sort((a, b) => a - b);
  const pieces = [];
  let from = 0;
  for (const c of [...cuts, data.length]) {
    pieces.push(data.subarray(from, c));
    from = c;
  }
  return pieces;
}
