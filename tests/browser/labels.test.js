// labels.test.js - issue 11: every label the console shows exists in
// Traditional Chinese and in English. The two tables have the same keys,
// no empty label, the same {placeholders} in both languages, and every
// t('literal key') in node/console/*.js names a key of the tables (a
// missing one would show the raw key to an operator). No browser needed.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const DIR = path.join(__dirname, '..', '..', 'node', 'console');

test('both languages have every label, with the same placeholders', async () => {
  const { TABLES } = await import(pathToFileURL(path.join(DIR, 'i18n.js')).href);
  const zh = TABLES['zh-TW'];
  const en = TABLES.en;
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort(), 'the same keys');
  const holes = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const k of Object.keys(zh)) {
    assert.ok(zh[k].trim() && en[k].trim(), 'empty label ' + k);
    assert.deepEqual(holes(zh[k]), holes(en[k]), 'placeholders of ' + k);
  }
  // zh-TW labels are Chinese where the English one is a word (not an id)
  const untranslated = Object.keys(zh).filter((k) => /[a-z]{4,} [a-z]{3,}/i.test(zh[k]) &&
    !/[\u4e00-\u9fff]/.test(zh[k]));
  assert.deepEqual(untranslated, [], 'zh-TW labels left in English');
});

test('every literal t() key used by the console exists', async () => {
  const { TABLES } = await import(pathToFileURL(path.join(DIR, 'i18n.js')).href);
  const missing = [];
  let seen = 0;
  for (const f of fs.readdirSync(DIR).filter((n) => n.endsWith('.js'))) {
    const src = fs.readFileSync(path.join(DIR, f), 'utf8');
    for (const m of src.matchAll(/\bt\(\s*'([^'\\]+)'\s*[,)]/g))
      if (++seen && !(m[1] in TABLES.en)) missing.push(f + ': ' + m[1]);
  }
  assert.ok(seen > 100, 'the scan found the labels (' + seen + ')');
  assert.deepEqual(missing, []);
});
