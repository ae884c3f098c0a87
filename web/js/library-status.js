// The library's progress in words: turns the server's library status (`GET /api/library`, or
// the `library` of a 503 "preparing" answer) into what the page shows — the headline and the
// progress bar while a first scan has nothing to play yet, and the small line while the library
// keeps growing under music that already plays. Pure: values in, strings and numbers out.
//
// The status object: { known, analysed, failed, pending, tracks, scanning, phase, rate,
// etaSeconds } — known = audio files found, analysed = analysed and playable, failed = cannot
// play, pending = still to analyse, tracks = distinct playable tracks, phase = "starting" |
// "walking" | "analysing" | "idle", rate = files analysed a second (0 = unknown), etaSeconds =
// null when unknown, error = why the last scan stopped early (a folder missing), if it did.
// Any field may be missing (an older server, a partial answer). "N of M analysed" counts the
// files that cannot play as analysed too (as the server's own message does), so it reaches M.

const number = new Intl.NumberFormat('en');
const count = (n) => number.format(Math.max(0, Math.round(n)));
const finite = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** "about 7 min left", "about 1 h 5 min left", "under a minute left"; null when unknown. */
export function timeLeft(seconds) {
  const s = finite(seconds);
  if (s === null || s < 0) return null;
  if (s < 60) return 'under a minute left';
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `about ${h} h${m ? ` ${m} min` : ''} left`;
}

/** "4.2 files a second", "one file every 3 s"; null when the rate is not known yet. */
export function speed(rate) {
  const r = finite(rate);
  if (r === null || r <= 0) return null;
  if (r >= 10) return `${count(r)} files a second`;
  if (r >= 1) return `${(Math.round(r * 10) / 10).toString()} file${r === 1 ? '' : 's'} a second`;
  return `one file every ${Math.round(1 / r)} s`;
}

/** Normalises a status object: numbers where numbers belong, derived fields filled in. */
export function normalise(lib = {}) {
  const known = finite(lib.known) ?? 0;
  const analysed = finite(lib.analysed) ?? 0;
  const failed = finite(lib.failed) ?? 0;
  const pending = finite(lib.pending) ?? Math.max(0, known - analysed - failed);
  const tracks = finite(lib.tracks) ?? analysed;
  const phase = typeof lib.phase === 'string' ? lib.phase : (lib.scanning ? 'analysing' : 'idle');
  const scanning = typeof lib.scanning === 'boolean' ? lib.scanning : phase !== 'idle';
  const error = typeof lib.error === 'string' && lib.error ? lib.error : null;
  return { known, analysed, failed, pending, tracks, scanning, phase, rate: finite(lib.rate) ?? 0, etaSeconds: finite(lib.etaSeconds), error };
}

/**
 * What the page shows while nothing can play yet:
 * `{ headline, fraction, detail, done }` — `fraction` in [0, 1], or null while the number of
 * files is not known yet (an indeterminate bar); `detail` is the secondary line (speed, time
 * left, files that cannot play), possibly empty; `done` says the scan ended with nothing
 * playable (an empty library, or nothing in it that plays).
 */
export function preparing(status) {
  const lib = normalise(status);
  const { known, analysed, failed, phase } = lib;
  const details = [];
  let headline;
  let fraction = null;
  let done = false;
  if (!lib.scanning && known === 0) {
    headline = 'No music found in your library yet';
    details.push(lib.error ?? 'Drift looks again when files are added.');
    done = true;
  } else if (!lib.scanning && lib.tracks === 0 && lib.pending === 0) {
    headline = `None of the ${count(known)} files in your library can be played`;
    done = true;
  } else if (phase === 'starting' || known === 0) {
    headline = 'Preparing your library — looking for music…';
  } else if (phase === 'walking') {
    headline = `Preparing your library — ${count(known)} file${known === 1 ? '' : 's'} found so far`;
  } else {
    headline = `Preparing your library — ${count(analysed + failed)} of ${count(known)} analysed`;
    fraction = known > 0 ? Math.min(1, Math.max(0, (analysed + failed) / known)) : null;
    const rate = speed(lib.rate);
    const left = timeLeft(lib.etaSeconds);
    if (rate) details.push(rate);
    if (left) details.push(left);
    if (!rate && !left && failed === 0) details.push('Measuring each file’s loudness, tempo and key');
  }
  if (failed > 0) details.push(`${count(failed)} cannot be played`);
  if (lib.error && !details.includes(lib.error)) details.push(lib.error);
  return { headline, fraction, detail: details.join(' · '), done };
}

/**
 * The small line under music that already plays while the library keeps growing:
 * "Library: 340 of 2,000 analysed", or null once there is nothing left to analyse.
 */
export function growing(status) {
  const lib = normalise(status);
  if (!lib.scanning || lib.pending === 0) return null;
  if (lib.phase === 'starting' || lib.phase === 'walking') return `Library: looking for music (${count(lib.known)} files found)`;
  return `Library: ${count(lib.analysed + lib.failed)} of ${count(lib.known)} analysed`;
}

/** The bar's width as a CSS percentage, with a sliver shown as soon as work has started. */
export function percent(fraction) {
  if (fraction === null || !Number.isFinite(fraction)) return null;
  return Math.max(1.5, Math.min(100, fraction * 100));
}
