// Tests for icy.js: ICY blocks are stripped and parsed identically however the response is
// split into chunks, and metadata text with quotes, semicolons and UTF-8 parses exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcyStripper, parseIcyMetadata } from '../js/icy.js';
import { concatBytes } from '../js/bytes.js';
import { block, icyStream } from './stream-build.js';

const utf8 = new TextEncoder();

// Deterministic audio bytes (a run of values that no block boundary could hide).
function audioBytes(n, seed = 7) {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const concat = (list) => (list.length ? concatBytes(list) : new Uint8Array(0));

// Runs a stripper over `chunks`, gathering all audio and all meta entries.
function run(metaint, chunks) {
  const s = new IcyStripper(metaint);
  const audio = [];
  const meta = [];
  for (const c of chunks) {
    const out = s.push(c);
    assert.ok(out.audio instanceof Uint8Array);
    audio.push(out.audio);
    meta.push(...out.meta);
  }
  return { audio: concat(audio), meta };
}

const METAINT = 100;
const AUDIO = audioBytes(650);
const BLOCKS = [
  "StreamTitle='Artist - One';",
  null, // L = 0: nothing changed
  "StreamTitle='Don’t Stop – Café Ünïcode';StreamUrl='http://x.test/a?b=1;c=2';",
  "StreamTitle='Rock';n';Roll';",
  new Uint8Array(16), // L = 1 but only padding: no entry
  "StreamTitle='exactly 32 bytes!';", // two whole units: no padding at all
];
const STREAM = icyStream(AUDIO, METAINT, BLOCKS);
const EXPECTED_META = [
  { audioOffset: 100, title: 'Artist - One', fields: { StreamTitle: 'Artist - One' } },
  {
    audioOffset: 300,
    title: 'Don’t Stop – Café Ünïcode',
    fields: { StreamTitle: 'Don’t Stop – Café Ünïcode', StreamUrl: 'http://x.test/a?b=1;c=2' },
  },
  { audioOffset: 400, title: "Rock';n';Roll", fields: { StreamTitle: "Rock';n';Roll" } },
  { audioOffset: 600, title: 'exactly 32 bytes!', fields: { StreamTitle: 'exactly 32 bytes!' } },
];

test('the generated stream has the layout the tests rely on', () => {
  assert.equal(utf8.encode(BLOCKS[0]).length, 27); // 2 units, 5 bytes of padding
  assert.equal(utf8.encode(BLOCKS[2]).length, 83); // 6 units (’ – é Ü ï are multi-byte)
  assert.equal(utf8.encode(BLOCKS[5]).length, 32);
  // 650 audio + blocks: 1+32, 1, 1+96, 1+32, 1+16, 1+32
  assert.equal(STREAM.length, 650 + 33 + 1 + 97 + 33 + 17 + 33);
});

test('one chunk: audio without blocks, meta at the audio offsets where blocks fell', () => {
  const { audio, meta } = run(METAINT, [STREAM]);
  assert.deepEqual(audio, AUDIO);
  assert.deepEqual(meta, EXPECTED_META);
});

test('split into two chunks at every byte boundary gives the same audio and meta', () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const { audio, meta } = run(METAINT, [STREAM.subarray(0, cut), STREAM.subarray(cut)]);
    assert.deepEqual(audio, AUDIO, `audio differs when cut at ${cut}`);
    assert.deepEqual(meta, EXPECTED_META, `meta differs when cut at ${cut}`);
  }
});

test('1-byte chunks give the same audio and meta', () => {
  const chunks = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
  const { audio, meta } = run(METAINT, chunks);
  assert.deepEqual(audio, AUDIO);
  assert.deepEqual(meta, EXPECTED_META);
});

test('three chunks at every pair of boundaries near a block give the same result', () => {
  // The third block sits after 300 audio bytes plus the earlier blocks (33 + 1 bytes).
  const start = 300 + 34 - 3;
  for (let a = start; a < start + 100; a++) {
    for (let b = a; b < start + 100; b++) {
      const chunks = [STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)];
      const { audio, meta } = run(METAINT, chunks);
      assert.deepEqual(audio, AUDIO);
      assert.deepEqual(meta, EXPECTED_META);
    }
  }
});

test('a meta entry comes out with the chunk that completes its block', () => {
  const s = new IcyStripper(METAINT);
  const first = s.push(STREAM.subarray(0, 110)); // 100 audio, length byte, 9 of 32 block bytes
  assert.deepEqual(first.audio, AUDIO.subarray(0, 100));
  assert.deepEqual(first.meta, []);
  const second = s.push(STREAM.subarray(110, 136)); // rest of the block, then 3 audio bytes
  assert.deepEqual(second.audio, AUDIO.subarray(100, 103));
  assert.deepEqual(second.meta, [EXPECTED_META[0]]);
});

test('Drift’s real interval: offsets count audio bytes since the start of the response', () => {
  const audio = audioBytes(40000, 3);
  const stream = icyStream(audio, 16000, ["StreamTitle='A - B';", "StreamTitle='C - D';"]);
  const expected = [
    { audioOffset: 16000, title: 'A - B', fields: { StreamTitle: 'A - B' } },
    { audioOffset: 32000, title: 'C - D', fields: { StreamTitle: 'C - D' } },
  ];
  for (const size of [1, 7, 4096, 16000, 16001, 65536]) {
    const chunks = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
    const got = run(16000, chunks);
    assert.deepEqual(got.audio, audio, `chunk size ${size}`);
    assert.deepEqual(got.meta, expected, `chunk size ${size}`);
  }
});

test('metaint 0, null or undefined passes every byte through as audio', () => {
  for (const metaint of [0, null, undefined]) {
    const s = new IcyStripper(metaint);
    const a = s.push(STREAM.subarray(0, 150));
    const b = s.push(STREAM.subarray(150));
    assert.deepEqual(concat([a.audio, b.audio]), STREAM);
    assert.deepEqual(a.meta, []);
    assert.deepEqual(b.meta, []);
  }
});

test('an invalid metaint is refused', () => {
  assert.throws(() => new IcyStripper(-1), RangeError);
  assert.throws(() => new IcyStripper(1.5), RangeError);
  assert.throws(() => new IcyStripper('16000'), RangeError);
});

test('an empty chunk yields empty audio and no meta', () => {
  const s = new IcyStripper(METAINT);
  const out = s.push(new Uint8Array(0));
  assert.equal(out.audio.length, 0);
  assert.deepEqual(out.meta, []);
});

test('a block without StreamTitle gives title null and its fields', () => {
  const stream = icyStream(audioBytes(20), 10, ["StreamUrl='http://a.test/';"]);
  const { meta } = run(10, [stream]);
  assert.deepEqual(meta, [
    { audioOffset: 10, title: null, fields: { StreamUrl: 'http://a.test/' } },
  ]);
});

test('Latin-1 metadata (not valid UTF-8) decodes byte for byte', () => {
  const text = Uint8Array.from([...utf8.encode("StreamTitle='Caf"), 0xe9, ...utf8.encode("';")]);
  const stream = icyStream(audioBytes(20), 10, [text]);
  const { meta } = run(10, [stream]);
  assert.equal(meta.length, 1);
  assert.equal(meta[0].title, 'Café');
});

test('parseIcyMetadata: plain pairs', () => {
  assert.deepEqual(parseIcyMetadata("StreamTitle='Artist - Title';"), {
    StreamTitle: 'Artist - Title',
  });
  assert.deepEqual(parseIcyMetadata("StreamTitle='A';StreamUrl='http://u.test/';"), {
    StreamTitle: 'A',
    StreamUrl: 'http://u.test/',
  });
});

test('parseIcyMetadata: quotes and semicolons inside values', () => {
  assert.deepEqual(parseIcyMetadata("StreamTitle='Don't Stop';"), { StreamTitle: "Don't Stop" });
  assert.deepEqual(parseIcyMetadata("StreamTitle='a;b';"), { StreamTitle: 'a;b' });
  assert.deepEqual(parseIcyMetadata("StreamTitle='It';s';StreamUrl='x';"), {
    StreamTitle: "It';s",
    StreamUrl: 'x',
  });
  assert.deepEqual(parseIcyMetadata("StreamTitle='O'Neil - ';-)';"), {
    StreamTitle: "O'Neil - ';-)",
  });
});

test('parseIcyMetadata: empty, unquoted, unterminated and padded text', () => {
  assert.deepEqual(parseIcyMetadata(''), {});
  assert.deepEqual(parseIcyMetadata('\0\0\0'), {});
  assert.deepEqual(parseIcyMetadata("StreamTitle='';"), { StreamTitle: '' });
  assert.deepEqual(parseIcyMetadata('StreamTitle=bare words;Other=1;'), {
    StreamTitle: 'bare words',
    Other: '1',
  });
  assert.deepEqual(parseIcyMetadata("StreamTitle='no semicolon'"), {
    StreamTitle: 'no semicolon',
  });
  assert.deepEqual(parseIcyMetadata("StreamTitle='cut off mid"), { StreamTitle: 'cut off mid' });
  assert.deepEqual(parseIcyMetadata("StreamTitle='x';\0\0\0\0"), { StreamTitle: 'x' });
  assert.deepEqual(parseIcyMetadata("  StreamTitle='spaced';  StreamUrl='u';"), {
    StreamTitle: 'spaced',
    StreamUrl: 'u',
  });
});
