// lib.js - what the browser tests of the console share (issue 11): the
// federation (fed.py, driven over its stdin), Debian's chromium launched
// through playwright-core, pages that fail the test on any page error,
// console error or CSP violation the test did not expect, signing in
// through the login form, selecting by data-testid, and screenshots.
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'docs', 'screenshots');
// the launch the issue prescribes; the last three keep a test run quiet and local
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

// missing - why the browser tests cannot run here, or null. CI installs
// chromium (tools/setup.sh), so there they always run.
function missing() {
  if (!fs.existsSync(CHROMIUM)) return CHROMIUM + ' is missing (apt-get install chromium)';
  try {
    require.resolve('playwright-core');
  } catch (e) {
    return 'playwright-core is missing (tools/setup.sh runs npm ci in tests/browser)';
  }
  return null;
}

// skipIfMissing - when the tests cannot run, say so (ctest's skip pattern)
// and register one skipped test; returns true then
function skipIfMissing(test) {
  const why = missing();
  if (!why) return false;
  console.log('browser tests skipped: ' + why);
  test('browser', { skip: why }, () => {});
  return true;
}

// ------------------------------------------------------------ the federation
// startFed - run fed.py; resolves to {nodes, clock, cmd(line), close()} once
// every node is up with its accounts. fed.py stops every node when its stdin
// closes, so a test process that dies takes the federation with it.
function startFed() {
  const env = Object.assign({}, process.env);
  const py = spawn('/usr/bin/python3', [path.join(__dirname, 'fed.py')],
    { stdio: ['pipe', 'pipe', 'inherit'], env });
  const rl = readline.createInterface({ input: py.stdout });
  const queue = [];
  const waiting = [];
  let ended = false;
  rl.on('line', (line) => {
    let obj;
    try { obj = JSON.parse(line); } catch (e) { obj = { ok: false, error: 'not JSON: ' + line }; }
    const w = waiting.shift();
    if (w) w.resolve(obj); else queue.push(obj);
  });
  const exited = new Promise((resolve) => py.on('exit', (code) => {
    ended = true;
    for (const w of waiting.splice(0)) w.reject(new Error('fed.py exited with ' + code));
    resolve(code);
  }));
  function next(ms) {
    if (queue.length) return Promise.resolve(queue.shift());
    if (ended) return Promise.reject(new Error('fed.py has exited'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fed.py: no answer within ' + ms + ' ms')), ms);
      waiting.push({
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }
  let chain = Promise.resolve();
  const fed = {
    // cmd - one command ("advance 3600", "quiet", "api NODE METHOD PATH JSON"); its answer
    cmd(line) {
      const run = chain.then(async () => {
        py.stdin.write(line + '\n');
        const r = await next(30000);
        if (!r.ok) throw new Error('fed.py ' + line.split(' ')[0] + ': ' + JSON.stringify(r));
        return r;
      });
      chain = run.catch(() => {});
      return run;
    },
    // api - one request over a node's Unix socket (set-up only): {status, body}
    api(node, method, p, body) {
      return fed.cmd(['api', node, method, p].join(' ') + (body === undefined ? '' : ' ' + JSON.stringify(body)));
    },
    async close() {
      if (!ended) {
        py.stdin.end('quit\n');
        const t = setTimeout(() => py.kill('SIGTERM'), 20000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  return next(90000).then((first) => {
    if (!first.ok) {
      py.stdin.end();
      throw new Error('fed.py: ' + JSON.stringify(first));
    }
    return Object.assign(fed, { nodes: first.nodes, clock: first.clock });
  }, (e) => { py.kill('SIGTERM'); throw e; });
}

// ------------------------------------------------------------ the browser
// launch - Debian's chromium, headless, with the flags
async function launch() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
}

// newPage - a page (own context: own cookies) that records every page
// error, console error and CSP violation. page.expectProblem(re) allows
// the ones matching re; page.assertClean() fails the test on any other.
// page.cspReports lists every violation seen.
async function newPage(browser, opts) {
  const o = Object.assign({ width: 1280, height: 800 }, opts || {});
  const context = await browser.newContext({
    viewport: { width: o.width, height: o.height }, locale: o.locale || 'zh-TW',
    timezoneId: 'UTC', deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(o.timeout || 20000); // a busy CI machine is slow; these only bound a wait
  const page = await context.newPage();
  const allowed = [
    // the shell asks for the session at load: 401 until signed in
    { re: /status of 401/, url: /\/api\/v1\/session$/ },
  ];
  page.problems = [];
  page.seen = []; // every error and violation, expected or not
  page.cspReports = [];
  page.inflight = 0;
  page.on('request', () => { page.inflight++; });
  page.on('requestfinished', () => { page.inflight--; });
  page.on('requestfailed', () => { page.inflight--; });
  const ok = (text, url) => allowed.some((a) => a.re.test(text) && (!a.url || a.url.test(url || '')));
  page.expectProblem = (re, url) => { allowed.push({ re, url }); };
  page.on('pageerror', (e) => {
    const text = 'page error: ' + (e && e.message);
    page.seen.push(text);
    if (!ok(text)) page.problems.push(text);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location() && m.location().url;
    const text = 'console error: ' + m.text();
    page.seen.push(text);
    if (!ok(text, url)) page.problems.push(text + (url ? ' (' + url + ')' : ''));
  });
  await page.exposeBinding('__relayCspViolation', (source, v) => {
    page.cspReports.push(v);
    const text = 'CSP violation: ' + v.directive + ' blocked ' + v.blocked + ' ' + v.sample;
    page.seen.push(text);
    if (!ok(text)) page.problems.push(text);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__relayCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI,
        sample: e.sample || '' });
    }, true);
  });
  // page.waitSeen - until an error or violation matching re was seen
  page.waitSeen = async (re, ms) => {
    const end = Date.now() + (ms || 20000);
    while (!page.seen.some((x) => re.test(x))) {
      if (Date.now() > end) throw new Error('never seen: ' + re + '; seen: ' + JSON.stringify(page.seen));
      await page.waitForTimeout(50);
    }
  };
  page.assertClean = (what) => {
    assert.deepEqual(page.problems, [], (what ? what + ': ' : '') + 'unexpected errors in the page');
  };
  return page;
}

// tid - the element(s) with data-testid id, optionally inside a locator
function tid(scope, id) {
  return scope.locator('[data-testid="' + id + '"]');
}

// login - sign in at node (an entry of fed.nodes) as role through the
// login form; resolves once the first view is shown
async function login(page, node, role) {
  const acc = node.accounts[role];
  await page.goto(node.url);
  await tid(page, 'login-form').waitFor();
  await tid(page, 'login-name').fill(acc.name);
  await tid(page, 'login-password').fill(acc.password);
  await tid(page, 'login-submit').click();
  await page.locator('[data-testid=main] > section[data-testid^="view-"]').waitFor({ timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=who]').textContent !== '');
}

// open - show the view at hash ("incident/ID") and wait until it is there
async function open(page, hash, viewId) {
  await page.evaluate((h) => { location.hash = '#/' + h; }, hash);
  const id = viewId || hash.split('/')[0];
  await tid(page, 'view-' + id).waitFor();
}

// settle - until no request has been in flight for 150 ms (a view has
// drawn what its first requests brought)
async function settle(page, ms) {
  const end = Date.now() + (ms || 10000);
  let quietSince = Date.now();
  while (Date.now() < end) {
    if (page.inflight > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 150) return;
    await page.waitForTimeout(25);
  }
  throw new Error('settle: requests still in flight after ' + (ms || 10000) + ' ms');
}

// shot - save a screenshot of the page to docs/screenshots/NAME.png
async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name + '.png');
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// form - a level-3-ish report form for API set-up (title given)
function form(title, extra) {
  return Object.assign({
    title, aware_at: '2026-11-30T00:30:00Z', level: 1, category: 'external_virus',
    harms: [{ kind: 'outage', class: 'non_core', severity: 'minor' }],
    facts: 'Filed over the Unix socket by the browser tests.',
  }, extra || {});
}

module.exports = { CHROMIUM, ARGS, SHOTS, missing, skipIfMissing, startFed, launch, newPage, tid,
  login, open, settle, shot, form };
