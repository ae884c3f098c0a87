// Checks what a page appended against what the server streams at the same positions: the
// frames a page holds (its "save" history, keyed by stream frame index) are fetched again from
// the server with `?from=` and compared — bytes where the same server rendered them, decoded
// PCM (ffmpeg) where a restarted server re-rendered them from its checkpoint.
import { execFileSync } from 'node:child_process';
import { FrameSplitter } from '../js/mp3-frames.js';
import { posOf, FRAME_SECS } from '../js/frame-history.js';

/** The page's held frames as [{ idx, bytes: Uint8Array }]. */
export async function pageFrames(page) {
  const frames = await page.evaluate(() => window.drift.ctl.history.frames.map((f) => [f.idx, Array.from(f.bytes)]));
  return frames.map(([idx, bytes]) => ({ idx, bytes: Uint8Array.from(bytes) }));
}

/** `count` frames of session `fp` from frame `first` on, as the server streams them now. */
export async function serverFrames(base, fp, first, count) {
  const ac = new AbortController();
  const r = await fetch(`${base}/stream/${fp}?from=${(posOf(first) + FRAME_SECS / 4).toFixed(6)}`, { signal: ac.signal });
  if (!r.ok) throw new Error(`server answered ${r.status} for frame ${first}`);
  const start = Math.round(parseFloat(r.headers.get('x-drift-position')) / FRAME_SECS);
  const split = new FrameSplitter(posOf(start));
  const out = [];
  const reader = r.body.getReader();
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const f of split.push(value)) out.push({ idx: start + out.length, bytes: f.bytes });
  }
  ac.abort();
  return out.slice(0, count);
}

function decode(frames) {
  const mp3 = Buffer.concat(frames.map((f) => Buffer.from(f.bytes)));
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-f', 'mp3', '-i', 'pipe:0', '-f', 's16le', '-ac', '2', '-ar', '44100', 'pipe:1'], { input: mp3, maxBuffer: 1 << 28 });
  return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
}

/** Signal-to-difference ratio (dB) of two decodings, skipping `skip` samples at the start. */
export function snrDb(a, b, skip = 0) {
  let sig = 0;
  let diff = 0;
  const n = Math.min(a.length, b.length);
  for (let i = skip; i < n; i++) {
    sig += a[i] * a[i];
    diff += (a[i] - b[i]) ** 2;
  }
  return diff === 0 ? Infinity : 10 * Math.log10(sig / diff);
}

/**
 * The shift (in sample frames, within ±`maxLag`) at which `b` best matches `a` over the span
 * after `skip` samples, and the SNR there: a gap or a repeat at a junction shows as a lag.
 */
export function bestLag(a, b, skip, maxLag) {
  let best = { lag: 0, snr: -Infinity };
  const n = Math.min(a.length, b.length) - 2 * maxLag;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sig = 0;
    let diff = 0;
    for (let i = skip + 2 * maxLag; i < n; i += 2) {
      const x = a[i];
      const y = b[i + 2 * lag];
      sig += x * x;
      diff += (x - y) ** 2;
    }
    const snr = diff === 0 ? Infinity : 10 * Math.log10(sig / diff);
    if (snr > best.snr) best = { lag, snr };
  }
  return best;
}

/**
 * Compares the page's frames in [first, last] with the server's: how many are byte-identical,
 * which differ, and the decoded SNR of the whole span (a shifted or repeated span would be
 * near 0 dB; a fresh encoder re-rendering the same PCM stays well above 20 dB).
 */
export async function compareWithServer(page, base, fp, first, last, junction = last) {
  const mine = (await pageFrames(page)).filter((f) => f.idx >= first && f.idx <= last);
  if (!mine.length || mine[0].idx !== first || mine[mine.length - 1].idx !== last) {
    throw new Error(`the page does not hold frames ${first}..${last}`);
  }
  for (let i = 1; i < mine.length; i++) {
    if (mine[i].idx !== mine[i - 1].idx + 1) throw new Error(`the page's frames jump at ${mine[i].idx}`);
  }
  const theirs = await serverFrames(base, fp, first, mine.length);
  let identical = 0;
  const differing = [];
  for (let i = 0; i < mine.length; i++) {
    if (theirs[i] && Buffer.compare(Buffer.from(mine[i].bytes), Buffer.from(theirs[i].bytes)) === 0) identical++;
    else differing.push(mine[i].idx);
  }
  // The decoder's first frame depends on the bit reservoir before it: compare after one frame.
  const [pcmTheirs, pcmMine] = [decode(theirs), decode(mine)];
  const snr = snrDb(pcmTheirs, pcmMine, 2 * 1152 * 2);
  // Alignment of the span before the junction alone (after it the bytes are compared).
  const before = Math.max(8, mine.findIndex((f) => f.idx >= junction));
  const lag = bestLag(decode(theirs.slice(0, before)), decode(mine.slice(0, before)), 2 * 1152 * 2, 1152);
  return { frames: mine.length, identical, differing, snr, lag };
}
