// The sinks' heartbeat: four times a second, whether the element's play head moves and for how
// long it has stood still. Only time the page ran counts: ticks far apart mean the page was
// frozen (a hidden tab, Page Lifecycle) and the browser paused the element, not that
// playback stalled.

const TICK_MS = 250;
// A gap between ticks this long (ms) means the page was frozen, not that playback stalled.
const THAWED_MS = 2000;

/**
 * A play-head tracker: each call with the element gives { now, time, moving, frozenMs } at the
 * time `now()` says. Pure apart from the clock it is given.
 */
export function playheadTracker(now = () => Date.now()) {
  let lastTime = -1;
  let frozenSince = now();
  let lastTick = frozenSince;
  return (audio) => {
    const at = now();
    if (at - lastTick > THAWED_MS) frozenSince = at;
    lastTick = at;
    const time = audio.currentTime;
    const moving = time !== lastTime && !audio.paused;
    if (moving) frozenSince = at;
    lastTime = time;
    return { now: at, time, moving, frozenMs: at - frozenSince };
  };
}

/** Calls `tick(state)` every 250 ms for `audio` (see playheadTracker); returns the interval id. */
export function watchPlayhead(audio, tick) {
  const step = playheadTracker();
  return setInterval(() => tick(step(audio)), TICK_MS);
}
