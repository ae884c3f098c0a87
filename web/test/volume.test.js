// Volume and mute: what is remembered per browser, and the arrow keys' steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVolume, saveVolume, nudge } from '../js/volume.js';

const memory = () => {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v) };
};

test('volume and mute are remembered; nothing or garbage stored means full and unmuted', () => {
  const s = memory();
  assert.deepEqual(loadVolume(s), { volume: 1, muted: false });
  saveVolume(s, { volume: 0.35, muted: true });
  assert.deepEqual(loadVolume(s), { volume: 0.35, muted: true });
  for (const bad of ['{', '"x"', '{"volume":"loud"}', '{"volume":7}', '{"volume":-1,"muted":"yes"}']) {
    s.setItem('drift.volume', bad);
    const v = loadVolume(s);
    assert.ok(v.volume >= 0 && v.volume <= 1 && typeof v.muted === 'boolean', `${bad} → ${JSON.stringify(v)}`);
  }
  // No storage at all (or one that throws): defaults, and saving does not throw.
  assert.deepEqual(loadVolume(undefined), { volume: 1, muted: false });
  const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); } };
  assert.deepEqual(loadVolume(broken), { volume: 1, muted: false });
  saveVolume(broken, { volume: 0.5, muted: false });
});

test('the arrow keys move the volume by a tenth, within 0 and 1, on whole percents', () => {
  assert.equal(nudge(0.5, 0.1), 0.6);
  assert.equal(nudge(0.7, 0.1), 0.8); // not 0.7999999999999999
  assert.equal(nudge(0.95, 0.1), 1);
  assert.equal(nudge(0.05, -0.1), 0);
});
