// views.test.js - every view of every tier opens without a page error,
// console error or CSP violation at 1280x800 and at 390x844 (a phone); the
// screenshots of each tier's main views go to docs/screenshots/ (the
// README links them); the language switch changes the labels; a time is
// shown in Taipei time with UTC in its title.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

if (L.skipIfMissing(test)) return;

// the tiers, the node of each that the tests open, the incident its
// detail view shows, and the views whose screenshots the README shows
// (besides Now)
const TIERS = [
  { tier: 'agency', node: 'tp-health', incident: 'l3', main: ['file'], prepare: { file: fillReport } },
  { tier: 'city', node: 'taipei', incident: 'l3', main: ['queue'] },
  { tier: 'ministry', node: 'moe', incident: 'school', main: ['queue'] },
  { tier: 'national', node: 'ncert', incident: 'l3', main: ['escalations', 'board'] },
];

// fillReport - a report form half filled in, for its screenshot: the
// advice beside it shows the level and the due times
async function fillReport(page) {
  const f = L.tid(page, 'file-form');
  await L.tid(f, 'file-title').fill('Ransomware on the patient records server');
  await L.tid(f, 'file-level').selectOption('3');
  await L.tid(f, 'harm-outage-core').selectOption('severe');
  await page.waitForFunction(() => {
    const e = document.querySelector('[data-testid=file-advised-level]');
    return e && e.textContent.trim() === '3';
  });
  await L.settle(page);
}

const SIZES = [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 390, height: 844 }];

let fed;
let browser;
const incidents = {};
let advisory;
let drill;

// file - a report filed at node over its Unix socket (set-up); its id
async function file(node, form) {
  const r = await fed.api(node, 'POST', '/api/v1/reports', form);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.incident;
}

before(async () => {
  [fed, browser] = await Promise.all([L.startFed(), L.launch()]);
  // something to show (set-up over the Unix socket): a level 3 incident at
  // tp-health with its escalations, a level 1 at tp-school (reports to
  // moe), a level 2 at tp-transport whose team is already late, an advisory,
  // a drill of the city's agencies
  incidents.l3 = await file('tp-health', L.form('Ransomware on the file server', {
    level: 3, category: 'external_intrusion', affected_agencies: ['tp-transport'],
    harms: [{ kind: 'outage', class: 'core', severity: 'severe' }],
  }));
  incidents.school = await file('tp-school', L.form('Phishing mail to teachers',
    { aware_at: '2026-11-30T00:50:00Z' }));
  incidents.late = await file('tp-transport', L.form('Ticket machines defaced', {
    level: 2, aware_at: '2026-11-29T21:00:00Z', category: 'external_intrusion',
  }));
  const a = await fed.api('ncert', 'POST', '/api/v1/advisories', {
    kind: 'vulnerability', severity: 3, title: 'CMS flaw exploited',
    text: 'Patch the content management system today.', audience: { scope: 'ncert', tiers: ['agency'] },
  });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  advisory = a.body.id;
  const d = await fed.api('taipei', 'POST', '/api/v1/drills', {});
  assert.equal(d.status, 200, JSON.stringify(d.body));
  drill = d.body.drill;
  await fed.cmd('quiet');
  await fed.cmd('advance 1500'); // 01:25 UTC: the level 3 team clock (due 01:30) is amber
});
after(async () => {
  if (browser) await browser.close();
  if (fed) await fed.close();
});

// menu - the ids of the menu's views, in order
async function menu(page) {
  return L.tid(page, 'nav').locator('a[data-testid^="nav-"]').evaluateAll(
    (as) => as.map((a) => a.dataset.testid.slice(4)));
}

// the tiers side by side: a view mostly waits for its node
describe('every view of every tier', { concurrency: true }, () => {
  for (const T of TIERS) {
    test(T.tier + ': every view opens cleanly at 1280x800 and at 390x844', async () => {
      const page = await L.newPage(browser, SIZES[0]);
      await L.login(page, fed.nodes[T.node], 'admin');
      const ids = await menu(page);
      assert.ok(ids.includes('now'), 'Now is in the menu: ' + ids);
      // and the views reached by links, not from the menu
      const hashes = ids.concat(['incident/' + incidents[T.incident]]);
      if (T.tier === 'national') hashes.push('advisories/' + advisory);
    if (T.tier === 'city') hashes.push('drills/' + drill);
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        for (const hash of hashes) {
          const what = T.tier + ' #/' + hash + ' at ' + size.width + 'x' + size.height;
          await L.open(page, hash, hash.split('/')[0]);
          await L.settle(page);
          assert.equal(await L.tid(page, 'error').count(), 0,
            what + ': ' + (await L.tid(page, 'error').allTextContents()).join(' | '));
          page.assertClean(what);
          // nothing wider than the screen: wide tables scroll in their own box
          const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(over <= 1, what + ': the page is ' + over + ' px wider than the screen');
          if (hash === 'now' || (T.main.includes(hash) && size.name === 'desktop')) {
            if (T.prepare && T.prepare[hash]) await T.prepare[hash](page);
            await L.shot(page, T.tier + '-' + hash + (size.name === 'phone' ? '-phone' : ''));
          }
        }
      }
      await page.context().close();
    });
  }
});

test('the language switch changes the labels, zh-TW and English', async () => {
  const page = await L.newPage(browser);
  await L.login(page, fed.nodes.taipei, 'viewer');
  const nav = () => L.tid(page, 'nav').allTextContents();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-TW');
  const zh = await nav();
  assert.match(zh.join(' '), /[\u4e00-\u9fff]/, 'Chinese labels by default: ' + zh);
  await L.tid(page, 'lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const en = await nav();
  assert.notDeepEqual(en, zh);
  assert.doesNotMatch(en.join(' '), /[\u4e00-\u9fff]/, 'English labels: ' + en);
  await L.tid(page, 'lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-TW');
  assert.deepEqual(await nav(), zh);
  page.assertClean();
  await page.context().close();
});

test('a time shows Taipei time, with UTC in its title', async () => {
  // the browser runs in UTC (lib.js): Taipei time is the console's doing
  const page = await L.newPage(browser);
  await L.login(page, fed.nodes['tp-health'], 'viewer');
  await L.open(page, 'incident/' + incidents.l3, 'incident');
  const t = page.locator('main time[datetime]').first();
  await t.waitFor();
  const iso = await t.getAttribute('datetime');
  const taipei = new Date(Date.parse(iso) + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
  assert.equal((await t.textContent()).trim(), taipei, 'shown in Asia/Taipei (UTC+8)');
  const utc = new Date(iso).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  assert.equal(await t.getAttribute('title'), utc, 'UTC on hover');
  page.assertClean();
  await page.context().close();
});
