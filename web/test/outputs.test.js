// The Icecast output form's pure parts: the address it posts and the counters it shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeUrl, countersText } from '../js/outputs.js';

test('the password goes into the address, escaped, with source as the default user', () => {
  assert.equal(composeUrl(' icecast://ice.example:8000/drift.mp3 ', 'p@ss:w,rd'),
    'icecast://source:p%40ss%3Aw%2Crd@ice.example:8000/drift.mp3');
  assert.equal(composeUrl('icecast://dj@h:8000/m', 'pw'), 'icecast://dj:pw@h:8000/m');
  // A password typed into the address is replaced by the one in the password field.
  assert.equal(composeUrl('icecast://source:old@h/m', 'new'), 'icecast://source:new@h/m');
});

test('a malformed address or no password is a clear error', () => {
  assert.throws(() => composeUrl('http://h/m', 'pw'), /icecast:\/\/HOST:PORT\/MOUNT/);
  assert.throws(() => composeUrl('icecast://h:8000', 'pw'), /icecast:\/\//);
  assert.throws(() => composeUrl('icecast://h:8000/m', ''), /password/);
});

test('counters read as a person would say them', () => {
  assert.equal(countersText({ bytesSent: 2_400_000, reconnects: 1 }), '2.4 MB sent · 1 reconnect');
  assert.equal(countersText({ bytesSent: 12_000, reconnects: 0 }), '12 kB sent · 0 reconnects');
  assert.equal(countersText({}), '0 kB sent · 0 reconnects');
});
