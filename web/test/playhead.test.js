// Tests for playhead.js on a fake clock: a moving play head is never frozen, a still one counts
// up, and a gap between ticks (a frozen page) does not count towards a stall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { playheadTracker } from '../js/playhead.js';

test('frozen time counts only while the page runs', () => {
  let clock = 0;
  const audio = { currentTime: 0, paused: false };
  const step = playheadTracker(() => clock);
  const tick = (ms, move) => {
    clock += ms;
    if (move) audio.currentTime += ms / 1000;
    return step(audio);
  };
  const seen = [tick(250, true), tick(250, false), tick(250, false), tick(60000, false), tick(250, false)];
  assert.deepEqual(seen.map((t) => [t.moving, t.frozenMs]), [[true, 0], [false, 250], [false, 500], [false, 0], [false, 250]]);
  audio.paused = true;
  assert.equal(tick(250, true).moving, false, 'a paused element does not move');
});
