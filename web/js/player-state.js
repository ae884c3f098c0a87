// The player's one state machine: a pure transition table, so every path the page can take
// (first connect, stalls, outages, soft restarts, stop) is written down once and unit-tested.
//
// States:
//   idle          nothing started yet (waiting for the listener's click)
//   connecting    first request on its way, nothing buffered
//   buffering     audio arriving, the element waits for enough of it
//   playing       currentTime advances
//   stalled       currentTime stopped advancing although it should (watchdog)
//   reconnecting  the connection is gone; buffered audio keeps playing while we retry
//   stopped       the listener stopped
//   error         a long outage emptied the buffer: the page offers a retry button

export const STATES = Object.freeze([
  'idle', 'connecting', 'buffering', 'playing', 'stalled', 'reconnecting', 'stopped', 'error',
]);

// event → { fromState: toState }; '*' matches any state not listed.
const TABLE = {
  start: { '*': 'connecting' },
  // The response arrived: we buffer until the element plays. A reconnection that succeeds
  // while audio is still playing goes straight back to playing.
  // The retries go on behind the error message: a server that comes back ends the error.
  connected: { connecting: 'buffering', reconnecting: 'buffering', stalled: 'buffering', error: 'buffering' },
  resumed: { reconnecting: 'playing', stalled: 'playing', connecting: 'playing', buffering: 'playing', error: 'playing' },
  playing: { connecting: 'playing', buffering: 'playing', stalled: 'playing', reconnecting: 'reconnecting', playing: 'playing' },
  waiting: { playing: 'buffering', connecting: 'connecting', reconnecting: 'reconnecting' },
  stall: { playing: 'stalled', buffering: 'stalled' },
  lost: { connecting: 'reconnecting', buffering: 'reconnecting', playing: 'reconnecting', stalled: 'reconnecting', reconnecting: 'reconnecting', error: 'error' },
  restart: { '*': 'reconnecting', idle: 'idle', stopped: 'stopped' },
  giveUp: { reconnecting: 'error', connecting: 'error', stalled: 'error', buffering: 'error' },
  stop: { '*': 'stopped' },
  fail: { '*': 'error' },
};

export const EVENTS = Object.freeze(Object.keys(TABLE));

/** The state after `event` in `state`; unknown or irrelevant events leave it unchanged. */
export function transition(state, event) {
  const row = TABLE[event];
  if (!row) return state;
  if (Object.prototype.hasOwnProperty.call(row, state)) return row[state];
  if (state === 'stopped' && event !== 'start') return state;
  return row['*'] ?? state;
}

/** A state holder that reports changes: `onChange(to, from, event, detail)`. */
export class StateMachine {
  constructor(onChange = () => {}, initial = 'idle') {
    this.state = initial;
    this.onChange = onChange;
  }

  send(event, detail) {
    const from = this.state;
    const to = transition(from, event);
    if (to !== from) {
      this.state = to;
      this.onChange(to, from, event, detail);
    }
    return to;
  }
}

/** Words the page shows for a state (what a listener understands). */
export function label(state, bufferedAhead = 0) {
  switch (state) {
    case 'idle': return 'Ready';
    case 'connecting': return 'Connecting…';
    case 'buffering': return 'Buffering…';
    case 'playing': return 'Playing';
    case 'stalled': return 'Stalled — recovering…';
    case 'reconnecting':
      return bufferedAhead > 0.5
        ? `Reconnecting — playing from buffer (${Math.floor(bufferedAhead)} s left)`
        : 'Reconnecting…';
    case 'stopped': return 'Stopped';
    case 'error': return 'Cannot reach the server';
    default: return state;
  }
}
