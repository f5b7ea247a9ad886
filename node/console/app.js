// app.js - the console's shell (issue 11): sign-in, the menu for this
// node's tier and the operator's role, a hash router, the language switch,
// and the node's clock in the header. Views live in view-*.js and are
// listed in views.js.
import { api, ApiError, clear, errorBox, getLang, h, hasRole, onUnauthenticated, setClock,
  setCsrf, setLang, t, fmtTime, nodeNow } from './lib.js';
import { VIEWS } from './views.js';
import './views-all.js';

const main = document.getElementById('main');
const ctx = { me: null, status: null, tier: null, node: null, timers: [] };

// ctx.every - run fn every ms while the current view is shown
ctx.every = (ms, fn) => { ctx.timers.push(setInterval(fn, ms)); };
// ctx.go - show another view
ctx.go = (hash) => { location.hash = '#/' + hash; };
// ctx.refreshStatus - read /api/v1/status again (the clock, links, counts)
ctx.refreshStatus = async () => {
  ctx.status = await api('GET', '/api/v1/status');
  setClock(ctx.status);
  paintClock();
  return ctx.status;
};

function stopTimers() {
  for (const id of ctx.timers) clearInterval(id);
  ctx.timers = [];
}

function paintClock() {
  const c = document.querySelector('[data-testid=node-clock]');
  if (!ctx.status) { c.textContent = ''; return; }
  const iso = new Date(nodeNow()).toISOString();
  c.textContent = fmtTime(iso, false) + ' ' + t('zone.taipei') +
    (ctx.status.clock === 'manual' ? ' · ' + t('clock.manual') : '');
  c.title = iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
setInterval(paintClock, 1000);

// visible - the views this operator may open on this node
function visible() {
  return VIEWS.filter((v) => v.tiers.includes(ctx.tier) && hasRole(ctx.me, v.role));
}

function paintHeader() {
  const signed = !!ctx.me;
  document.querySelector('[data-testid=node-name]').textContent =
    signed && ctx.status ? ctx.status.node + ' · ' + t('tier.' + ctx.status.tier) : '';
  document.querySelector('[data-testid=who]').textContent =
    signed ? ctx.me.name + ' (' + t('role.' + ctx.me.role) + ')' : '';
  const out = document.querySelector('[data-testid=sign-out]');
  out.hidden = !signed;
  out.textContent = t('nav.signout');
  document.querySelector('[data-testid=lang-switch]').textContent = getLang() === 'en' ? '中文' : 'English';
  const nav = clear(document.querySelector('[data-testid=nav]'));
  if (!signed) return;
  const cur = (location.hash.slice(2) || '').split('/')[0];
  for (const v of visible().filter((x) => x.nav !== false))
    nav.appendChild(h('a', { href: '#/' + v.id, testid: 'nav-' + v.id,
      class: v.id === cur ? 'active' : null }, t(v.title)));
}

// route - show the view the address names
async function route() {
  stopTimers();
  document.body.classList.remove('menu-open');
  paintHeader();
  if (!ctx.me) return showLogin();
  const parts = (location.hash.slice(2) || '').split('/').map(decodeURIComponent);
  const views = visible();
  let v = views.find((x) => x.id === parts[0]);
  if (!v) {
    if (parts[0] && VIEWS.find((x) => x.id === parts[0])) {
      clear(main).appendChild(h('div', { class: 'error', testid: 'not-allowed' },
        t('err.not_allowed')));
      return;
    }
    v = views[0];
    if (!v) { clear(main).appendChild(h('p', null, t('err.no_views'))); return; }
  }
  const root = h('section', { class: 'view view-' + v.id, testid: 'view-' + v.id });
  clear(main).appendChild(root);
  document.title = t(v.title) + ' · ' + (ctx.status ? ctx.status.node : 'Relay');
  try {
    await v.render(root, parts.slice(1), ctx);
  } catch (e) {
    root.appendChild(errorBox(e));
  }
}

function showLogin(message) {
  stopTimers();
  ctx.me = null;
  setCsrf(null);
  paintHeader();
  const err = h('div', { class: 'login-error', role: 'alert', testid: 'login-error' }, message || '');
  const name = h('input', { name: 'name', autocomplete: 'username', required: true, testid: 'login-name', maxlength: 32 });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, testid: 'login-password' });
  const form = h('form', { class: 'login', testid: 'login-form' },
    h('h1', null, t('login.title')),
    h('label', null, t('login.name'), name),
    h('label', null, t('login.password'), pw),
    h('button', { type: 'submit', testid: 'login-submit' }, t('login.submit')),
    err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const r = await api('POST', '/api/v1/login', { name: name.value, password: pw.value });
      pw.value = '';
      setCsrf(r.csrf);
      await start();
    } catch (e) {
      err.textContent = e instanceof ApiError && e.status === 429
        ? t('login.locked') : e instanceof ApiError && e.status === 401 ? t('login.wrong') : e.message;
    }
  });
  clear(main).appendChild(form);
  name.focus();
}

// start - read the session and the node's status, then show the view
async function start() {
  try {
    const s = await api('GET', '/api/v1/session');
    ctx.me = { name: s.name, role: s.role };
    setCsrf(s.csrf);
    await ctx.refreshStatus();
    ctx.tier = ctx.status.tier;
    ctx.node = ctx.status.node;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin();
    clear(main).appendChild(errorBox(e));
    return;
  }
  await route();
}

onUnauthenticated(() => showLogin(t('login.expired')));
window.addEventListener('hashchange', () => { if (ctx.me) route(); });
document.querySelector('[data-testid=lang-switch]').addEventListener('click', () => {
  setLang(getLang() === 'en' ? 'zh-TW' : 'en');
  if (ctx.me) route(); else showLogin();
});
document.querySelector('[data-testid=menu-toggle]').addEventListener('click', () => {
  document.body.classList.toggle('menu-open');
});
document.querySelector('[data-testid=sign-out]').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/logout', {}); } catch (e) { /* signed out either way */ }
  location.hash = '';
  showLogin();
});
// the node's clock and links refresh every 10 s whatever the view
setInterval(() => { if (ctx.me) ctx.refreshStatus().catch(() => {}); }, 10000);
document.documentElement.lang = getLang();
start();
