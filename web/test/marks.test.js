// Tests for marks.js: the counts line shown by the now-playing title.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsText } from '../js/marks.js';

test('counts read as plays, skips and loves, singular for one', () => {
  assert.equal(countsText({ plays: 3, skips: 1, loves: 0 }), '3 plays · 1 skip · 0 loves');
  assert.equal(countsText({ plays: 1, skips: 0, loves: 1 }), '1 play · 0 skips · 1 love');
  assert.equal(countsText({}), '0 plays · 0 skips · 0 loves');
  assert.equal(countsText(null), '');
});
