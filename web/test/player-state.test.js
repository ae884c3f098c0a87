// The player's state machine: every path the page takes through its states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transition, StateMachine, STATES, EVENTS, label } from '../js/player-state.js';

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

test('stop wins from anywhere, and only start leaves stopped', () => {
  for (const s of STATES) assert.equal(transition(s, 'stop'), 'stopped');
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
