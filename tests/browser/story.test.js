// story.test.js - issue 11 "The full story through the browser only", on
// the controlled clock of tests/browser/fed.py (every node at 2026-11-30
// 01:00 UTC, 09:00 in Taipei): an agency reporter files a level 3 report
// through the form; the city reviewer reviews it from the queue; the
// national analyst sees it with its escalations; the clock moves past a
// due time and the incident turns red on the agency's, the city's and the
// national page; a national advisory is published, shown unread at the
// agency, marked read, and the national page shows it read. Only the
// set-up and the clock use the Unix socket: every operator action is a
// click or a keystroke in chromium.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

if (L.skipIfMissing(test)) return;

let fed;
let browser;
before(async () => {
  [fed, browser] = await Promise.all([L.startFed(), L.launch()]);
});
after(async () => {
  if (browser) await browser.close();
  if (fed) await fed.close();
});

const TITLE = 'Ransomware on the patient records server';
let storyId; // the story's incident, for the tests after it

test('the full story, through the browser only', async (t) => {
  const N = fed.nodes;
  const [agency, city, nation] = await Promise.all([
    L.newPage(browser), L.newPage(browser), L.newPage(browser)]);
  await Promise.all([
    L.login(agency, N['tp-health'], 'reporter'),
    L.login(city, N.taipei, 'reviewer'),
    L.login(nation, N.ncert, 'reviewer'),
  ]);
  let id;

  await t.test('the agency files a level 3 report through the form', async () => {
    await L.open(agency, 'file');
    const f = L.tid(agency, 'file-form');
    await f.waitFor();
    await L.tid(f, 'file-title').fill(TITLE);
    await L.tid(f, 'file-facts').fill('Files on the records server were encrypted overnight.');
    // aware at 08:45 Taipei (00:45 UTC): the team is due at 09:45, the report too
    await L.tid(f, 'file-aware').fill('2026-11-30T08:45');
    await L.tid(f, 'file-category').selectOption('external_intrusion');
    await L.tid(f, 'file-level').selectOption('3');
    await L.tid(f, 'harm-outage-core').selectOption('severe');
    // the advice follows the ticked harms: level 3, and its due times
    await agency.waitForFunction(() => {
      const e = document.querySelector('[data-testid=file-advised-level]');
      return e && e.textContent.trim() === '3';
    });
    const dues = L.tid(f, 'file-advice-dues');
    await dues.waitFor();
    const times = await dues.locator('time').evaluateAll((ts) => ts.map((x) => [x.getAttribute('datetime'), x.textContent]));
    assert.ok(times.some(([iso, txt]) => Date.parse(iso) === Date.parse('2026-11-30T01:45:00Z') &&
      txt.includes('09:45')), 'the report and team are due 09:45 Taipei: ' + JSON.stringify(times));
    assert.match(await L.tid(f, 'file-advice-to').textContent(), /taipei/);
    await L.tid(f, 'file-submit').click();
    const res = agency.locator('[data-testid=file-result][data-received=yes]');
    await res.waitFor({ timeout: 30000 });
    assert.match(await L.tid(res, 'file-received').textContent(), /taipei/);
    // the incident's id, from the link the result offers
    const href = await res.locator('a[href^="#/incident/"]').first().getAttribute('href');
    id = href.split('/').pop();
    assert.match(id, /^[0-9a-f]{32}$/);
    storyId = id;
  });

  await t.test('the city reviewer sees it in the queue with its clock and reviews it', async () => {
    assert.ok(id, 'filed');
    await L.open(city, 'queue');
    const row = city.locator('[data-testid=queue-row][data-id="' + id + '"]');
    await row.waitFor({ timeout: 30000 });
    await row.locator('[data-state]').first().waitFor(); // the review's live clock
    assert.equal(await row.locator('[data-state=open], [data-state=warn]').count() > 0, true);
    await L.open(city, 'incident/' + id, 'incident');
    const form = L.tid(city, 'review-form');
    await form.waitFor();
    await L.tid(form, 'review-level').selectOption('3');
    await L.tid(form, 'review-basis').fill('The records system is a core system and it is down.');
    await L.tid(form, 'review-submit').click();
    await L.tid(city, 'review-done').waitFor();
    await fed.cmd('quiet');
  });

  await t.test('the national analyst sees it with its escalations', async () => {
    await L.open(nation, 'escalations');
    // R-ESC-CISO to the city, R-ESC-NATIONAL to the two offices: sent and delivered
    const rows = nation.locator('[data-testid=escalation-row][data-incident="' + id + '"][data-delivered=yes]');
    await rows.nth(2).waitFor({ timeout: 30000 });
    await L.open(nation, 'incident/' + id, 'incident');
    await L.tid(nation, 'incident-level').waitFor();
    assert.match(await L.tid(nation, 'incident-level').textContent(), /3/);
  });

  await t.test('past a due time the incident turns red on every tier', async () => {
    for (const p of [agency, city, nation]) {
      await L.open(p, 'now');
      await p.locator('[data-testid=incident-row][data-id="' + id + '"]').waitFor({ timeout: 30000 });
    }
    const row = (p) => p.locator('[data-testid=incident-row][data-id="' + id + '"]');
    for (const p of [agency, city, nation]) assert.notEqual(await row(p).getAttribute('data-worst'), 'overdue');
    await fed.cmd('advance 3600'); // 02:00 UTC: the team (due 01:45) is late
    // the pages learn the node's time from /api/v1/status (every 10 s)
    await Promise.all([agency, city, nation].map((p) =>
      p.locator('[data-testid=incident-row][data-id="' + id + '"][data-worst=overdue]').waitFor({ timeout: 40000 })));
  });

  let adv;
  await t.test('the national center publishes an advisory through the form', async () => {
    await L.open(nation, 'advisories');
    const form = L.tid(nation, 'advisory-form');
    await form.waitFor();
    await L.tid(form, 'advisory-kind').selectOption('vulnerability');
    await L.tid(form, 'advisory-severity').selectOption('3');
    await L.tid(form, 'advisory-title').fill('Patch the records server CMS');
    await L.tid(form, 'advisory-text').fill('A remote code execution flaw is exploited: patch today.');
    await L.tid(form, 'advisory-submit').click();
    const sent = L.tid(nation, 'advisory-sent-row').first();
    await sent.waitFor({ timeout: 30000 });
    adv = await sent.getAttribute('data-id');
    assert.match(adv, /^[0-9a-f]{32}$/);
    await fed.cmd('quiet');
  });

  await t.test('the agency sees it unread and marks it read', async () => {
    await L.open(agency, 'inbox');
    const row = agency.locator('[data-testid=advisory-row][data-id="' + adv + '"]');
    await row.waitFor({ timeout: 30000 });
    assert.equal(await row.getAttribute('data-read'), 'no');
    await L.tid(row, 'advisory-mark-read').click();
    await agency.locator('[data-testid=advisory-row][data-id="' + adv + '"][data-read=yes]').waitFor();
    await fed.cmd('quiet');
  });

  await t.test('the national advisory shows that agency read it', async () => {
    await L.open(nation, 'advisories/' + adv, 'advisories');
    await nation.locator('[data-testid=recipient-row][data-node=tp-health][data-read=yes]')
      .waitFor({ timeout: 30000 });
  });

  agency.assertClean('agency');
  city.assertClean('city');
  nation.assertClean('national');
});

test('while the city is down the agency is told whom to phone, and then that it was received', async () => {
  // R-OFFLINE: the report is stored at the agency, but its target cannot
  // have it; the console says so at once, with the phone script built from
  // the directory's contact, and changes to "received" when the city is back
  const agency = await L.newPage(browser);
  await L.login(agency, fed.nodes['tp-health'], 'reporter');
  await fed.cmd('stop taipei');
  try {
    await L.open(agency, 'links');
    await agency.locator('[data-testid=link-row][data-peer=taipei][data-connected=no]')
      .waitFor({ timeout: 40000 });
    await L.open(agency, 'file');
    const f = L.tid(agency, 'file-form');
    await f.waitFor();
    await L.tid(f, 'file-title').fill('Phishing mail opened at the front desk');
    await L.tid(f, 'file-facts').fill('One desktop ran an attachment; it is isolated.');
    await L.tid(f, 'file-aware').fill('2026-11-30T09:50'); // the clock is at 10:00 Taipei
    await L.tid(f, 'file-category').selectOption('external_intrusion');
    await L.tid(f, 'file-level').selectOption('1');
    await L.tid(f, 'harm-outage-non_core').selectOption('minor');
    await agency.waitForFunction(() => {
      const e = document.querySelector('[data-testid=file-advised-level]');
      return e && e.textContent.trim() === '1';
    });
    await L.tid(f, 'file-submit').click();
    const res = agency.locator('[data-testid=file-result][data-received=no]');
    await res.waitFor({ timeout: 30000 });
    const script = L.tid(res, 'file-offline-script');
    assert.match(await L.tid(script, 'phone-contact').textContent(), /Taipei DoIT security window \+886-2-0000-0003/);
    const say = await L.tid(script, 'phone-say').textContent();
    assert.match(say, /tp-health/);
    assert.match(say, /[0-9a-f]{32}/, 'the incident id to read out');
    assert.match(say, /09:50/, 'the awareness time in Taipei time');
  } finally {
    await fed.cmd('start taipei');
  }
  await agency.locator('[data-testid=file-result][data-received=yes]').waitFor({ timeout: 40000 });
  assert.match(await L.tid(agency, 'file-received').textContent(), /taipei/);
  agency.assertClean('agency, offline filing');
});

test('the agency reports its team and closes; the city reviews the closure', async () => {
  // the incident page's forms (R-TEAM, R-CLOSE-FORM, R-CLOSE-REVIEW), in the browser
  assert.ok(storyId, 'the story filed its incident');
  const agency = await L.newPage(browser);
  const city = await L.newPage(browser);
  await Promise.all([L.login(agency, fed.nodes['tp-health'], 'reporter'),
    L.login(city, fed.nodes.taipei, 'reviewer')]);
  await L.open(agency, 'incident/' + storyId, 'incident');
  const upd = L.tid(agency, 'update-form');
  await upd.waitFor();
  await L.tid(upd, 'update-team').check();
  await L.tid(upd, 'update-controlled').check();
  await L.tid(upd, 'update-text').fill('Team formed; the server is isolated and restored from backup.');
  await L.tid(upd, 'update-submit').click();
  await L.tid(upd, 'action-ok').waitFor();
  // the team was due 09:45 and the clock is past 10:00: met, but late
  await agency.locator('[data-testid=due-row][data-deadline=team][data-state=late]').waitFor({ timeout: 30000 });
  const cl = L.tid(agency, 'closure-form');
  await cl.waitFor();
  await L.tid(cl, 'closure-attack_method').fill('Phishing mail, then a <b>remote desktop</b> login');
  await L.tid(cl, 'closure-remediation').fill('Server rebuilt, passwords reset.');
  await L.tid(cl, 'closure-root_cause').fill('Remote desktop open to the <b>internet</b>.');
  await L.tid(cl, 'closure-submit').click();
  await L.tid(cl, 'action-ok').waitFor();
  await fed.cmd('quiet');
  await L.open(city, 'incident/' + storyId, 'incident');
  await city.locator('[data-testid=incident-state][data-state=closing]').waitFor({ timeout: 30000 });
  const rv = L.tid(city, 'review-form');
  await rv.waitFor();
  assert.equal(await L.tid(rv, 'review-closure').isChecked(), true, 'a closure review');
  await L.tid(rv, 'review-level').selectOption('3');
  await L.tid(rv, 'review-basis').fill('Root cause found and removed.');
  await L.tid(rv, 'review-submit').click();
  await L.tid(city, 'review-done').waitFor();
  await fed.cmd('quiet');
  await L.open(agency, 'incident/' + storyId, 'incident');
  await agency.locator('[data-testid=incident-state][data-state=closed]').waitFor({ timeout: 30000 });
  // the closure's free text (its root cause, in the history) is text on
  // the page, never markup
  await L.tid(agency, 'incident-history').getByText('open to the <b>internet</b>', { exact: false }).waitFor();
  assert.equal(await agency.locator('main b').count(), 0);
  agency.assertClean('agency, closure');
  city.assertClean('city, closure review');
});

test('a drill: the city starts it, the agency answers it in the hour, the timing record fills in', async () => {
  // R-DRILL through the browser: start, notice with its clock, drill report,
  // response update and closure at the agency, "pass" in the city's record
  const city = await L.newPage(browser);
  await L.login(city, fed.nodes.taipei, 'reviewer');
  await L.open(city, 'drills');
  await L.tid(city, 'drill-start').click();
  // the console opens the new drill's timing record
  await city.waitForFunction(() => /^#\/drills\/[0-9a-f]{32}$/.test(location.hash), null, { timeout: 30000 });
  const did = (await city.evaluate(() => location.hash)).split('/').pop();
  await L.tid(city, 'drill-scenario-row').first().waitFor({ timeout: 30000 });
  // which agency the random draw chose, and its first scenario (a read, not an action)
  const rec = (await fed.api('taipei', 'GET', '/api/v1/drills/' + did)).body.drill;
  const sc = rec.scenarios[0];
  assert.ok(fed.nodes[sc.agency], 'the drilled agency has a console: ' + sc.agency);
  await fed.cmd('quiet');
  const agency = await L.newPage(browser);
  await L.login(agency, fed.nodes[sc.agency], 'reporter');
  await L.open(agency, 'drills-in');
  const nrow = agency.locator('[data-testid=drill-notice-row][data-id="' + sc.notice + '"][data-answered=no]');
  await nrow.waitFor({ timeout: 30000 });
  assert.ok(await nrow.locator('.countdown').count() > 0, 'the notice shows its one-hour clock');
  await L.tid(nrow, 'drill-answer').click();
  const f = L.tid(agency, 'file-form');
  await f.waitFor();
  await L.tid(agency, 'file-drill').waitFor();
  await L.tid(f, 'file-facts').fill('Drill: a desktop shows a ransom note.');
  await L.tid(f, 'file-category').selectOption('external_intrusion');
  await L.tid(f, 'harm-outage-non_core').selectOption('minor');
  await agency.waitForFunction(() => {
    const e = document.querySelector('[data-testid=file-advised-level]');
    return e && /\d/.test(e.textContent);
  });
  await L.tid(f, 'file-submit').click();
  const res = agency.locator('[data-testid=file-result][data-received=yes]');
  await res.waitFor({ timeout: 30000 });
  const href = await res.locator('a[href^="#/incident/"]').first().getAttribute('href');
  await L.open(agency, href.slice(2), 'incident');
  const upd = L.tid(agency, 'update-form');
  await upd.waitFor();
  await L.tid(upd, 'update-team').check();
  await L.tid(upd, 'update-submit').click();
  await L.tid(upd, 'action-ok').waitFor();
  const cl = L.tid(agency, 'closure-form');
  await cl.waitFor({ timeout: 30000 });
  await L.tid(cl, 'closure-root_cause').fill('Drill: none.');
  await L.tid(cl, 'closure-submit').click();
  await L.tid(cl, 'action-ok').waitFor();
  await fed.cmd('quiet');
  await L.open(city, 'drills/' + did, 'drills');
  await city.locator('[data-testid=drill-scenario-row][data-scenario="' + sc.scenario + '"][data-result=pass]')
    .waitFor({ timeout: 30000 });
  await L.open(agency, 'drills-in');
  await agency.locator('[data-testid=drill-notice-row][data-id="' + sc.notice + '"][data-answered=yes]')
    .waitFor({ timeout: 30000 });
  agency.assertClean('agency, drill');
  city.assertClean('city, drill');
});
