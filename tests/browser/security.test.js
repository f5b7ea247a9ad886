// security.test.js - issue 11 "Security in the browser": a viewer can
// neither see nor use the file-report form; a title carrying an <img
// onerror> is shown as text; the CSP (and no framing) is on every reply and
// blocks an injected inline script; without a session the login page loads
// and the API answers 401.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

if (L.skipIfMissing(test)) return;

let fed;
let browser;
let agency;
before(async () => {
  [fed, browser] = await Promise.all([L.startFed(), L.launch()]);
  agency = fed.nodes['tp-health'];
});
after(async () => {
  if (browser) await browser.close();
  if (fed) await fed.close();
});

// cspOf - the CSP directives of a reply as {name: 'value ...'}
function cspOf(res) {
  const v = res.headers.get('content-security-policy');
  assert.ok(v, res.url + ': no Content-Security-Policy header');
  const out = {};
  for (const part of v.split(';')) {
    const [name, ...vals] = part.trim().split(/\s+/);
    if (name) out[name] = vals.join(' ');
  }
  return out;
}

test('the CSP and no-framing headers are on the console, its files and API replies', async () => {
  for (const p of ['/console/', '/console/index.html', '/console/app.js', '/console/lib.js',
    '/console/style.css', '/api/v1/status', '/api/v1/session']) {
    const res = await fetch(agency.base + p, { redirect: 'manual' });
    const csp = cspOf(res);
    assert.equal(csp['default-src'], "'none'", p);
    assert.equal(csp['script-src'], "'self'", p + ': scripts only from the node, no inline, no eval');
    assert.equal(csp['style-src'], "'self'", p);
    assert.equal(csp['frame-ancestors'], "'none'", p);
    assert.equal(csp['base-uri'], "'none'", p);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', p);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', p);
  }
});

test('another page cannot frame the console', async () => {
  const page = await L.newPage(browser);
  const refused = /Framing '[^']*' violates the following Content Security Policy directive: "frame-ancestors 'none'"/;
  page.expectProblem(refused);
  await page.setContent('<iframe src="' + agency.url + '"></iframe>');
  await page.waitSeen(refused);
  const frame = page.frames()[1];
  assert.ok(frame, 'the iframe exists');
  assert.equal(await frame.locator('[data-testid=login-form]').count(), 0, 'the console is not shown in a frame');
  page.assertClean();
  await page.context().close();
});

test('without a session the login page loads and the API answers 401', async () => {
  for (const p of ['/api/v1/status', '/api/v1/session', '/api/v1/incidents']) {
    const res = await fetch(agency.base + p);
    assert.equal(res.status, 401, p);
    const body = await res.json();
    assert.equal(body.error.code, 'unauthenticated', p);
  }
  const res = await fetch(agency.base + '/api/v1/reports', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(L.form('x')),
  });
  assert.equal(res.status, 401, 'POST /api/v1/reports without a session');
  const page = await L.newPage(browser);
  await page.goto(agency.url);
  await L.tid(page, 'login-form').waitFor();
  assert.equal(await L.tid(page, 'nav').locator('a').count(), 0, 'no menu before signing in');
  // a wrong password is refused in the form, not by an error page
  await L.tid(page, 'login-name').fill('viewer');
  await L.tid(page, 'login-password').fill('not-the-password');
  page.expectProblem(/status of 401/, /\/api\/v1\/login$/);
  await L.tid(page, 'login-submit').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=login-error]').textContent !== '');
  assert.equal(await L.tid(page, 'nav').locator('a').count(), 0);
  page.assertClean();
  await page.context().close();
});

test('a viewer can neither see nor use the file-report form', async () => {
  const page = await L.newPage(browser);
  await L.login(page, agency, 'viewer');
  assert.equal(await L.tid(page, 'nav-file').count(), 0, 'a viewer has no "file a report" in the menu');
  await page.evaluate(() => { location.hash = '#/file'; });
  await L.tid(page, 'not-allowed').waitFor();
  assert.equal(await L.tid(page, 'file-form').count(), 0, 'no form at #/file for a viewer');
  // the API refuses it too, when made from the page with the session and its CSRF token
  page.expectProblem(/status of 403/, /\/api\/v1\/reports$/);
  const status = await page.evaluate(async (form) => {
    const s = await (await fetch('/api/v1/session')).json();
    const r = await fetch('/api/v1/reports', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
      body: JSON.stringify(form),
    });
    return { status: r.status, role: s.role, body: await r.json() };
  }, L.form('Filed by a viewer'));
  assert.equal(status.role, 'viewer');
  assert.equal(status.status, 403, JSON.stringify(status.body));
  assert.equal(status.body.error.code, 'forbidden');
  // a reporter does see the form (so the check above is about the role)
  const rep = await L.newPage(browser);
  await L.login(rep, agency, 'reporter');
  await L.tid(rep, 'nav-file').waitFor();
  await L.open(rep, 'file');
  await L.tid(rep, 'file-form').waitFor();
  page.assertClean('viewer');
  rep.assertClean('reporter');
  await page.context().close();
  await rep.context().close();
});

test('a title carrying <img onerror> is shown as text on the Now and incident pages', async () => {
  const title = '<img src=x onerror="window.__pwned=1"> Ransomware <script>window.__pwned=2</script>';
  const r = await fed.api('tp-health', 'POST', '/api/v1/reports', L.form(title));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = r.body.incident;
  const page = await L.newPage(browser);
  await L.login(page, agency, 'viewer');
  await L.open(page, 'now');
  const row = page.locator('[data-testid=incident-row][data-id="' + id + '"]');
  await row.waitFor();
  const shown = await L.tid(row, 'incident-title').textContent();
  assert.ok(shown.includes(title), 'the title, as text: ' + shown);
  assert.equal(await page.locator('main img').count(), 0, 'no <img> made from the title');
  await L.open(page, 'incident/' + id, 'incident');
  await page.waitForFunction((t) => document.querySelector('[data-testid=view-incident]').textContent.includes(t), title);
  assert.equal(await page.locator('main img, main script').count(), 0, 'no <img> or <script> made from the title');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the handler never ran');
  assert.deepEqual(page.cspReports, [], 'nothing was even tried (no CSP violation)');
  page.assertClean();
  await page.context().close();
});

test('an inline script injected into the page is blocked by the CSP', async () => {
  const page = await L.newPage(browser);
  await L.login(page, agency, 'viewer');
  page.expectProblem(/CSP violation: script-src/);
  page.expectProblem(/Executing inline (script|event handler) violates the following Content Security Policy directive 'script-src/);
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1;';
    document.body.appendChild(s);
    const b = document.createElement('button');
    b.setAttribute('onclick', 'window.__inline = 2;');
    document.body.appendChild(b);
    b.click();
  });
  // the page's own securitypolicyviolation events, for the <script> and the onclick
  await page.waitSeen(/^CSP violation: script-src-elem blocked inline/);
  await page.waitSeen(/^CSP violation: script-src-attr blocked inline/);
  assert.equal(await page.evaluate(() => window.__inline), undefined, 'the inline script did not run');
  page.assertClean();
  await page.context().close();
});
