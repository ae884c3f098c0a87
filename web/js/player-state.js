// The player's one state machine: a pure transition table, so every path the page can take
// (first connect, stalls, outages, soft restarts, stop) is written down once and unit-tested.
//
// States:
//   idle          the station can play; nothing started yet (waiting for the listener's click)
//   connecting    first request on its way, nothing buffered
//   buffering     audio arriving, the element waits for enough of it
//   playing       currentTime advances
//   stalled       currentTime stopped advancing although it should (watchdog)
//   reconnecting  the connection is gone; buffered audio keeps playing while we retry
//   stopped       the listener stopped
//   error         a long outage emptied the buffer: the page offers a retry button
//
// Before there is a station to play, the page waits in one of these (it starts in `loading`):
//   loading       the page has not heard from the server yet
//   preparing     the server answers, but its library has nothing playable yet (a first scan)
//   unreachable   no answer from the server at all (a failed fetch); the page retries
//   unavailable   the server answers with an error (shown as it says it); the page retries
// `ready` leaves them for `idle`. Play pressed while waiting is the *play intent*: the machine
// keeps it (`intent`), Stop drops it, `start` consumes it, and `autostart` tells the page to
// start the audio by itself the moment the station is ready.

export const STATES = Object.freeze([
  'idle', 'connecting', 'buffering', 'playing', 'stalled', 'reconnecting', 'stopped', 'error',
  'loading', 'preparing', 'unreachable', 'unavailable',
]);

/** The states in which nothing can play yet because the page has no station. */
export const WAITING = Object.freeze(['loading', 'preparing', 'unreachable', 'unavailable']);

/** The states in which the player runs (it was started and not stopped). */
export const ACTIVE = Object.freeze(['connecting', 'buffering', 'playing', 'stalled', 'reconnecting', 'error']);

/** The states in which the connection is lost and the player keeps trying to get it back. */
export const RECOVERING = Object.freeze(['reconnecting', 'error']);

export const isActive = (state) => ACTIVE.includes(state);
export const isRecovering = (state) => RECOVERING.includes(state);

// Each of the waiting events moves between the waiting states only: once the page has its
// station it never goes back to waiting (its player has its own recovery path).
const waitingTo = (to) => Object.fromEntries(WAITING.map((s) => [s, to]));
const stay = Object.fromEntries(WAITING.map((s) => [s, s]));

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
  restart: { '*': 'reconnecting', idle: 'idle', stopped: 'stopped', ...stay },
  giveUp: { reconnecting: 'error', connecting: 'error', stalled: 'error', buffering: 'error' },
  // Stop while waiting only drops the play intent: the page is still waiting.
  stop: { '*': 'stopped', ...stay },
  fail: { '*': 'error', ...stay },
  preparing: waitingTo('preparing'),
  unreachable: waitingTo('unreachable'),
  unavailable: waitingTo('unavailable'),
  ready: waitingTo('idle'),
  // The listener pressed Play before anything could play: no state change, the intent is kept.
  wantPlay: {},
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

/**
 * The play intent after `event` arrived in state `from`: Play pressed while waiting sets it,
 * Stop drops it, and starting the player consumes it.
 */
export function intentAfter(intent, from, event) {
  if (event === 'wantPlay') return WAITING.includes(from);
  if (event === 'stop' || event === 'start') return false;
  return intent;
}

/** True when the page should start the audio by itself: the listener asked, and it can play. */
export function autostart(state, intent) {
  return intent === true && state === 'idle';
}

/**
 * The player's state: the state itself, the play intent, and since when the connection has
 * been lost (`troubleSince`, ms, while recovering; else null). Reports every change of state or
 * intent: `onChange(to, from, event, detail)`. `now` is injectable for tests.
 */
export class StateMachine {
  constructor(onChange = () => {}, initial = 'idle', now = () => Date.now()) {
    this.state = initial;
    this.intent = false;
    this.troubleSince = null;
    this.onChange = onChange;
    this.now = now;
  }

  get active() { return isActive(this.state); }
  get recovering() { return isRecovering(this.state); }

  send(event, detail) {
    const from = this.state;
    const to = transition(from, event);
    const intent = intentAfter(this.intent, from, event);
    if (to !== from || intent !== this.intent) {
      this.state = to;
      this.intent = intent;
      if (!isRecovering(to)) this.troubleSince = null;
      else if (!isRecovering(from)) this.troubleSince = this.now();
      this.onChange(to, from, event, detail);
    }
    return to;
  }
}

/**
 * Words the page shows for a state (what a listener understands). Never "Ready" unless
 * something can play, and never "cannot reach" when the server `answered` (with an error).
 */
export function label(state, bufferedAhead = 0, intent = false, answered = false) {
  switch (state) {
    case 'loading': return 'Connecting…';
    case 'preparing': return intent ? 'Preparing — plays when ready' : 'Preparing';
    case 'unreachable': return 'No answer — retrying';
    case 'unavailable': return 'Unavailable — retrying';
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
    case 'error': return answered ? 'Unavailable — retrying' : 'Cannot reach the server';
    default: return state;
  }
}
