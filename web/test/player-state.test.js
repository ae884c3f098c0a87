// The player's state machine: every path the page takes through its states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transition, StateMachine, STATES, EVENTS, WAITING, label, intentAfter, autostart } from '../js/player-state.js';

const run = (events, from = 'idle') => events.reduce((s, e) => transition(s, e), from);

test('first play: idle → connecting → buffering → playing', () => {
  assert.equal(transition('idle', 'start'), 'connecting');
  assert.equal(transition('connecting', 'connected'), 'buffering');
  assert.equal(transition('buffering', 'playing'), 'playing');
  assert.equal(run(['start', 'connected', 'playing']), 'playing');
});

test('an outage while playing: reconnecting, and buffered audio playing does not leave it', () => {
  const s = run(['start', 'connected', 'playing', 'lost']);
  assert.equal(s, 'reconnecting');
  assert.equal(transition(s, 'playing'), 'reconnecting', 'buffer still plays: still reconnecting');
  assert.equal(transition(s, 'resumed'), 'playing', 'back without a gap');
  assert.equal(transition(s, 'connected'), 'buffering', 'back after the buffer ran dry');
});

test('a long outage gives up to error, and a later connection recovers from it', () => {
  const s = run(['start', 'connected', 'playing', 'lost', 'giveUp']);
  assert.equal(s, 'error');
  assert.equal(transition(s, 'lost'), 'error');
  assert.equal(transition(s, 'start'), 'connecting', 'the retry button starts over');
  assert.equal(transition(s, 'connected'), 'buffering', 'background retries still end the error');
  assert.equal(transition(s, 'resumed'), 'playing');
});

test('stalls: detected while playing or buffering, then recovered or lost', () => {
  assert.equal(transition('playing', 'stall'), 'stalled');
  assert.equal(transition('buffering', 'stall'), 'stalled');
  assert.equal(transition('stalled', 'playing'), 'playing');
  assert.equal(transition('stalled', 'lost'), 'reconnecting');
  assert.equal(transition('idle', 'stall'), 'idle', 'nothing to stall before playing');
});

test('restart notices reconnect a running player but do not start a stopped one', () => {
  assert.equal(transition('playing', 'restart'), 'reconnecting');
  assert.equal(transition('buffering', 'restart'), 'reconnecting');
  assert.equal(transition('stopped', 'restart'), 'stopped');
  assert.equal(transition('idle', 'restart'), 'idle');
});

test('stop wins from anywhere the player runs, and only start leaves stopped', () => {
  for (const s of STATES.filter((s) => !WAITING.includes(s))) assert.equal(transition(s, 'stop'), 'stopped');
  for (const s of WAITING) assert.equal(transition(s, 'stop'), s, 'stop while waiting only drops the intent');
  for (const e of EVENTS.filter((e) => e !== 'start' && e !== 'stop')) {
    assert.equal(transition('stopped', e), 'stopped', `${e} must not leave stopped`);
  }
  assert.equal(transition('stopped', 'start'), 'connecting');
});

test('waiting for data while playing shows buffering; unknown events change nothing', () => {
  assert.equal(transition('playing', 'waiting'), 'buffering');
  assert.equal(transition('playing', 'no-such-event'), 'playing');
  for (const s of STATES) for (const e of EVENTS) assert.ok(STATES.includes(transition(s, e)), `${s} + ${e}`);
});

test('StateMachine reports each change once, with the event and its reason', () => {
  const seen = [];
  const m = new StateMachine((to, from, event, detail) => seen.push([from, to, event, detail]));
  m.send('start');
  m.send('connected');
  m.send('connected'); // no change, no report
  m.send('lost', 'the stream ended');
  assert.deepEqual(seen, [
    ['idle', 'connecting', 'start', undefined],
    ['connecting', 'buffering', 'connected', undefined],
    ['buffering', 'reconnecting', 'lost', 'the stream ended'],
  ]);
  assert.equal(m.state, 'reconnecting');
});

test('labels say what a listener needs to know', () => {
  assert.equal(label('playing'), 'Playing');
  assert.equal(label('buffering'), 'Buffering…');
  assert.match(label('reconnecting', 12.4), /playing from buffer \(12 s left\)/);
  assert.equal(label('reconnecting', 0), 'Reconnecting…');
});

test('before a station: loading, then preparing / unreachable / unavailable, then ready → idle', () => {
  assert.equal(run(['preparing'], 'loading'), 'preparing');
  assert.equal(run(['unreachable'], 'loading'), 'unreachable');
  assert.equal(run(['unreachable', 'preparing', 'unavailable', 'preparing'], 'loading'), 'preparing');
  for (const s of WAITING) assert.equal(transition(s, 'ready'), 'idle');
  assert.equal(run(['preparing', 'ready', 'start', 'connected', 'playing'], 'loading'), 'playing');
});

test('a player with a station never goes back to waiting', () => {
  for (const s of STATES.filter((s) => !WAITING.includes(s))) {
    for (const e of ['preparing', 'unreachable', 'unavailable', 'ready', 'wantPlay']) {
      assert.equal(transition(s, e), s, `${s} + ${e}`);
    }
  }
});

test('the player\'s own events do not move a waiting page', () => {
  for (const s of WAITING) {
    for (const e of ['connected', 'resumed', 'playing', 'waiting', 'stall', 'lost', 'restart', 'giveUp', 'fail']) {
      assert.equal(transition(s, e), s, `${s} + ${e}`);
    }
  }
});

test('play intent: Play while waiting is kept, Stop drops it, start consumes it', () => {
  for (const s of WAITING) assert.equal(intentAfter(false, s, 'wantPlay'), true);
  assert.equal(intentAfter(false, 'idle', 'wantPlay'), false, 'with a station, Play just plays');
  assert.equal(intentAfter(true, 'preparing', 'preparing'), true, 'progress keeps it');
  assert.equal(intentAfter(true, 'preparing', 'unreachable'), true, 'a server away keeps it');
  assert.equal(intentAfter(true, 'preparing', 'ready'), true);
  assert.equal(intentAfter(true, 'preparing', 'stop'), false);
  assert.equal(intentAfter(true, 'idle', 'start'), false);
  assert.equal(autostart('idle', true), true);
  assert.equal(autostart('idle', false), false);
  for (const s of WAITING) assert.equal(autostart(s, true), false, 'nothing to play yet');
});

test('StateMachine: Play pressed during a first scan starts the audio once ready, by itself', () => {
  const seen = [];
  const m = new StateMachine((to, from, event) => seen.push([from, to, event, m.intent]), 'loading');
  m.send('preparing');
  m.send('wantPlay');
  m.send('preparing'); // more progress: no report
  m.send('unreachable');
  m.send('preparing');
  m.send('ready');
  assert.equal(autostart(m.state, m.intent), true);
  m.send('start');
  assert.equal(m.intent, false);
  assert.deepEqual(seen, [
    ['loading', 'preparing', 'preparing', false],
    ['preparing', 'preparing', 'wantPlay', true],
    ['preparing', 'unreachable', 'unreachable', true],
    ['unreachable', 'preparing', 'preparing', true],
    ['preparing', 'idle', 'ready', true],
    ['idle', 'connecting', 'start', false],
  ]);
});

test('StateMachine: Play then Stop while preparing: nothing starts when ready', () => {
  const m = new StateMachine(() => {}, 'preparing');
  m.send('wantPlay');
  m.send('stop');
  assert.equal(m.state, 'preparing');
  m.send('ready');
  assert.equal(autostart(m.state, m.intent), false);
  assert.equal(m.state, 'idle');
});

test('the pill never says Ready while nothing can play', () => {
  for (const s of WAITING) {
    assert.notEqual(label(s), 'Ready', s);
    assert.notEqual(label(s, 0, true), 'Ready', s);
  }
  assert.equal(label('preparing'), 'Preparing');
  assert.equal(label('preparing', 0, true), 'Preparing — plays when ready');
  assert.equal(label('loading'), 'Connecting…');
  assert.doesNotMatch(label('unavailable'), /reach/i, 'a server that answers is reachable');
  assert.equal(label('idle'), 'Ready');
  assert.equal(label('error'), 'Cannot reach the server');
  assert.doesNotMatch(label('error', 0, false, true), /reach/i, 'the server answered: it is reachable');
});

test('StateMachine owns whether the player runs, recovers, and since when it is in trouble', () => {
  let clock = 1000;
  const m = new StateMachine(() => {}, 'idle', () => clock);
  assert.deepEqual([m.active, m.recovering, m.troubleSince], [false, false, null]);
  m.send('start');
  m.send('connected');
  m.send('playing');
  assert.deepEqual([m.state, m.active, m.recovering], ['playing', true, false]);
  clock = 2000;
  m.send('lost', 'the stream ended');
  assert.deepEqual([m.state, m.recovering, m.troubleSince], ['reconnecting', true, 2000]);
  clock = 9000;
  m.send('giveUp'); // still the same trouble: its start stays
  assert.deepEqual([m.state, m.recovering, m.troubleSince], ['error', true, 2000]);
  m.send('connected');
  assert.deepEqual([m.state, m.recovering, m.troubleSince], ['buffering', false, null]);
  m.send('stop');
  assert.deepEqual([m.active, m.recovering], [false, false]);
});
