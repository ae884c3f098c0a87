// The library's progress in words: every phase of a first scan, the line under music that
// plays while the library grows, and odd or partial status objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preparing, growing, timeLeft, speed, percent, normalise } from '../js/library-status.js';

const status = (over = {}) => ({
  known: 2000, analysed: 120, failed: 0, pending: 1880, tracks: 118, scanning: true,
  phase: 'analysing', rate: 4.2, etaSeconds: 446, ...over,
});

test('while analysing: "Preparing your library — N of M analysed", a bar, speed and time left', () => {
  const p = preparing(status());
  assert.equal(p.headline, 'Preparing your library — 120 of 2,000 analysed');
  assert.equal(p.fraction, 120 / 2000);
  assert.equal(p.detail, '4.2 files a second · about 7 min left');
  assert.equal(p.done, false);
});

test('files that cannot play count as analysed (as the server says it), and the detail says how many', () => {
  const p = preparing(status({ analysed: 100, failed: 20, pending: 1880 }));
  assert.equal(p.headline, 'Preparing your library — 120 of 2,000 analysed');
  assert.equal(p.fraction, 120 / 2000);
  assert.match(p.detail, /20 cannot be played$/);
});

test('unknown rate and time left are left out, not shown as zero: the detail says what happens', () => {
  const p = preparing(status({ analysed: 0, rate: 0, etaSeconds: null }));
  assert.equal(p.headline, 'Preparing your library — 0 of 2,000 analysed');
  assert.equal(p.detail, 'Measuring each file’s loudness, tempo and key');
  assert.equal(preparing(status({ rate: 0, etaSeconds: 60 })).detail, 'about 1 min left');
  assert.equal(p.fraction, 0);
});

test('before the files are counted the bar is indeterminate', () => {
  const starting = preparing(status({ phase: 'starting', known: 0, analysed: 0, pending: 0 }));
  assert.equal(starting.headline, 'Preparing your library — looking for music…');
  assert.equal(starting.fraction, null);
  const walking = preparing(status({ phase: 'walking', known: 1234, analysed: 0, pending: 1234 }));
  assert.equal(walking.headline, 'Preparing your library — 1,234 files found so far');
  assert.equal(walking.fraction, null);
  assert.equal(preparing(status({ phase: 'walking', known: 1 })).headline, 'Preparing your library — 1 file found so far');
});

test('a scan that ended with nothing playable says so instead of promising music', () => {
  const empty = preparing({ known: 0, analysed: 0, failed: 0, pending: 0, tracks: 0, scanning: false, phase: 'idle' });
  assert.equal(empty.headline, 'No music found in your library yet');
  assert.equal(empty.done, true);
  const broken = preparing({ known: 3, analysed: 0, failed: 3, pending: 0, tracks: 0, scanning: false, phase: 'idle' });
  assert.equal(broken.headline, 'None of the 3 files in your library can be played');
  assert.equal(broken.done, true);
  assert.equal(broken.detail, '3 cannot be played');
  const missing = preparing({ known: 0, scanning: false, phase: 'idle', error: 'library folder /music is missing' });
  assert.equal(missing.detail, 'library folder /music is missing', 'why the scan stopped, as the server says it');
  assert.match(preparing(status({ error: 'folder gone' })).detail, /· folder gone$/);
});

test('time left reads like a person would say it', () => {
  assert.equal(timeLeft(null), null);
  assert.equal(timeLeft(undefined), null);
  assert.equal(timeLeft(-1), null);
  assert.equal(timeLeft(Number.NaN), null);
  assert.equal(timeLeft(0), 'under a minute left');
  assert.equal(timeLeft(59), 'under a minute left');
  assert.equal(timeLeft(60), 'about 1 min left');
  assert.equal(timeLeft(446), 'about 7 min left');
  assert.equal(timeLeft(3600), 'about 1 h left');
  assert.equal(timeLeft(3600 + 5 * 60), 'about 1 h 5 min left');
});

test('speed: files a second, or one file every N seconds when slow', () => {
  assert.equal(speed(0), null);
  assert.equal(speed(null), null);
  assert.equal(speed(1), '1 file a second');
  assert.equal(speed(4.25), '4.3 files a second');
  assert.equal(speed(42.4), '42 files a second');
  assert.equal(speed(1234.5), '1,235 files a second');
  assert.equal(speed(0.25), 'one file every 4 s');
});

test('the growing line: shown while analysis is pending, gone when done', () => {
  assert.equal(growing(status({ analysed: 340 })), 'Library: 340 of 2,000 analysed');
  assert.equal(growing(status({ analysed: 330, failed: 10 })), 'Library: 340 of 2,000 analysed');
  assert.equal(growing(status({ scanning: false, phase: 'idle', pending: 0 })), null);
  assert.equal(growing(status({ pending: 0 })), null, 'nothing left to analyse');
  assert.equal(growing(status({ phase: 'walking', known: 500, pending: 500 })), 'Library: looking for music (500 files found)');
});

test('percent: a sliver as soon as work has started, never over 100, null when unknown', () => {
  assert.equal(percent(null), null);
  assert.equal(percent(Number.NaN), null);
  assert.equal(percent(0), 1.5);
  assert.equal(percent(0.5), 50);
  assert.equal(percent(2), 100);
});

test('partial or odd status objects still read sensibly', () => {
  assert.deepEqual(normalise({}), {
    known: 0, analysed: 0, failed: 0, pending: 0, tracks: 0, scanning: false, phase: 'idle', rate: 0, etaSeconds: null, error: null,
  });
  const n = normalise({ known: 10, analysed: 4, failed: 1, scanning: true });
  assert.equal(n.pending, 5, 'pending derived from the counts');
  assert.equal(n.phase, 'analysing');
  const p = preparing({ known: 10, analysed: 4, scanning: true, rate: 'fast', etaSeconds: 'soon' });
  assert.equal(p.headline, 'Preparing your library — 4 of 10 analysed');
  assert.doesNotMatch(p.detail, /fast|soon|NaN|undefined/);
  assert.equal(preparing(undefined).headline, 'No music found in your library yet');
  assert.ok(preparing(status({ analysed: 3000 })).fraction <= 1);
});
