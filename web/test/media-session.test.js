// Tests for media-session.js with a fake navigator: the lock screen's buttons reach the page's
// actions, and what plays is shown with its artwork; without the API nothing breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaSession, generatedCover } from '../js/media-session.js';

test('buttons call the page\'s actions; show() and playing() set what the lock screen shows', () => {
  const handlers = {};
  const nav = { mediaSession: { setActionHandler: (a, fn) => { handlers[a] = fn; } } };
  const calls = [];
  const s = new MediaSession(nav, { play: () => calls.push('play'), pause: () => calls.push('pause'), stop: () => calls.push('stop'), next: () => calls.push('next') });
  for (const a of ['play', 'pause', 'stop', 'nexttrack']) handlers[a]();
  assert.deepEqual(calls, ['play', 'pause', 'stop', 'next']);
  globalThis.MediaMetadata = class { constructor(init) { Object.assign(this, init); } };
  try {
    s.show({ title: 'Tide', artist: 'Ada' }, { src: '/api/tracks/abc/cover', sizes: '600x600' });
    assert.deepEqual({ ...nav.mediaSession.metadata }, { title: 'Tide', artist: 'Ada', album: '', artwork: [{ src: '/api/tracks/abc/cover', sizes: '600x600' }] });
  } finally {
    delete globalThis.MediaMetadata;
  }
  s.playing(true);
  assert.equal(nav.mediaSession.playbackState, 'playing');
  // Without art: the generated cover, drawn once however often the track is shown.
  let drawn = 0;
  const doc = { createElement: () => ({ getContext: () => ({ createLinearGradient: () => ({ addColorStop() {} }), fillRect() {}, fillText() {} }), toDataURL: () => `data:image/png;base64,${++drawn}` }) };
  const g = new MediaSession(nav, { play() {}, pause() {}, stop() {}, next() {} }, { doc });
  globalThis.MediaMetadata = class { constructor(init) { Object.assign(this, init); } };
  try {
    g.show({ title: 'Tide', artist: 'Ada' });
    g.show({ title: 'Tide', artist: 'Ada' });
    assert.deepEqual(nav.mediaSession.metadata.artwork, [{ src: 'data:image/png;base64,1', sizes: '256x256', type: 'image/png' }]);
    assert.equal(drawn, 1);
  } finally {
    delete globalThis.MediaMetadata;
  }
  s.playing(false);
  assert.equal(nav.mediaSession.playbackState, 'paused');
});

test('a browser without the API or an action: nothing thrown, nothing shown', () => {
  const s = new MediaSession({}, { play() {}, pause() {}, stop() {}, next() {} });
  s.show({ title: 'x' }, []);
  s.playing(true);
  const picky = { mediaSession: { setActionHandler: (a) => { if (a === 'nexttrack') throw new TypeError('unsupported'); } } };
  assert.doesNotThrow(() => new MediaSession(picky, { play() {}, pause() {}, stop() {}, next() {} }));
  assert.equal(generatedCover({}, { title: 'x' }, () => 0), null, 'no canvas: no generated cover');
});
