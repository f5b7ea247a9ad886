// lib.js - what every view of the console uses (issue 11): the API client,
// a DOM builder that never parses HTML, labels in two languages, times in
// Asia/Taipei, and live deadline clocks on the node's own clock.
//
// SECURITY: free text from the API (titles, facts, reasons, names) only
// ever becomes a text node. Nothing here or in a view may use innerHTML,
// outerHTML, insertAdjacentHTML or document.write with data; the page's
// Content-Security-Policy forbids inline script in any case.
import { TABLES } from './i18n.js';

// ------------------------------------------------------------ labels
let lang = localStorage.getItem('relay.lang') || 'zh-TW';
if (!TABLES[lang]) lang = 'zh-TW';

export function getLang() { return lang; }

export function setLang(l) {
  if (!TABLES[l]) return;
  lang = l;
  localStorage.setItem('relay.lang', l);
  document.documentElement.lang = l;
}

// t - the label for key in the current language; {name} parts filled from
// vars. A key missing in one language falls back to the other, then to the
// key itself (visible, so that a missing label is noticed).
export function t(key, vars) {
  let s = TABLES[lang][key];
  if (s === undefined) s = TABLES[lang === 'en' ? 'zh-TW' : 'en'][key];
  if (s === undefined) s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// ------------------------------------------------------------ the DOM
// h - an element: h('div', {class: 'x', testid: 'y', onclick: f}, child...).
// Strings and numbers become text nodes; arrays are flattened; null, undefined
// and false are skipped. Attribute "testid" is data-testid.
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'testid') e.dataset.testid = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') e[k] = v;
    else if (k === 'style' || /html/i.test(k)) throw new Error('h: attribute ' + k + ' not allowed');
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else if (c instanceof Node) e.appendChild(c);
    else e.appendChild(document.createTextNode(String(c)));
  }
}

// clear - remove every child of e
export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// ------------------------------------------------------------ the API
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let csrf = null;
export function setCsrf(token) { csrf = token; }

let onSignedOut = null;
export function onUnauthenticated(fn) { onSignedOut = fn; }

// api - one request; resolves to the JSON reply, rejects with ApiError. A
// write carries the session's CSRF token and an Idempotency-Key, so that a
// double click or a retry files once.
export async function api(method, path, body, opts) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (opts && opts.key) headers['Idempotency-Key'] = opts.key;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', t('err.network'), null);
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (res.status === 401 && onSignedOut && !path.endsWith('/login')) onSignedOut();
    throw new ApiError(res.status, err.code || 'http', err.message || res.statusText, err.field || null);
  }
  return data;
}

// newKey - a fresh Idempotency-Key (hex) for one write the operator makes
export function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// errorBox - an error shown to the operator, in their terms
export function errorBox(err) {
  const msg = err instanceof ApiError
    ? (err.field ? t('err.field', { field: err.field }) + ' ' : '') + err.message
    : String(err && err.message ? err.message : err);
  return h('div', { class: 'error', role: 'alert', testid: 'error' }, msg);
}

// ------------------------------------------------------------ times
const ZONE = 'Asia/Taipei';
const fmtParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

// fmtTime - "2026-11-29 08:30:00" in Asia/Taipei for an ISO time (UTC)
export function fmtTime(iso, withSeconds) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const p = {};
  for (const x of fmtParts.formatToParts(d)) p[x.type] = x.value;
  const s = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  return withSeconds === false ? s : s + ':' + p.second;
}

// fmtUtc - the same instant in UTC, for the hover text
export function fmtUtc(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// timeEl - a <time> showing Asia/Taipei, UTC on hover
export function timeEl(iso, testid) {
  if (!iso) return h('span', { class: 'none' }, '—');
  return h('time', { datetime: iso, title: fmtUtc(iso), testid }, fmtTime(iso));
}

// fmtSpan - "2 d 3 h", "1 h 5 min", "42 min", "30 s" (in the language)
export function fmtSpan(seconds) {
  let s = Math.max(0, Math.round(Math.abs(seconds)));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = [];
  if (d) parts.push(t('span.d', { n: d }));
  if (hh) parts.push(t('span.h', { n: hh }));
  if (m && !d) parts.push(t('span.min', { n: m }));
  if (!d && !hh && !m) parts.push(t('span.s', { n: s }));
  return parts.join(' ');
}

// ------------------------------------------------------------ the node's clock
// Deadlines are judged by the node's clock, not this computer's: the
// offset is taken from every /api/v1/status. A node on a controlled clock
// (tests, drills on paper) does not move between readings.
let clock = { now: Date.now(), at: Date.now(), manual: false, warn: 1800 };

export function setClock(status) {
  clock = {
    now: Date.parse(status.now),
    at: Date.now(),
    manual: status.clock === 'manual',
    warn: typeof status.warn_before_s === 'number' ? status.warn_before_s : 1800,
  };
}

// nodeNow - the node's time now, in ms since the epoch
export function nodeNow() {
  return clock.manual ? clock.now : clock.now + (Date.now() - clock.at);
}

// warnWindow - seconds before a due time when it turns amber
export function warnWindow() { return clock.warn; }

// dueState - 'met', 'late', 'missed', 'overdue', 'warn', 'open' or 'none'
// for a due time of the API ({due, met, state})
export function dueState(d) {
  if (!d || !d.due) return 'none';
  if (d.met) return Date.parse(d.met) > Date.parse(d.due) ? 'late' : 'met';
  // the node says "not met (incident closed or withdrawn)": the clock stopped unmet
  if (d.state && d.state.startsWith('not met')) return 'missed';
  if (d.state && d.state !== 'open') return d.state;
  const left = (Date.parse(d.due) - nodeNow()) / 1000;
  if (left < 0) return 'overdue';
  return left <= clock.warn ? 'warn' : 'open';
}

// countdown - a live clock for a due time ({deadline, due, met, state}):
// "in 42 min", amber inside the warning window, red "overdue by 1 h 3 min"
export function countdown(d, testid) {
  const e = h('span', { class: 'countdown', testid, title: d && d.due ? fmtUtc(d.due) : '' });
  e.dueRecord = d;
  paint(e);
  return e;
}

function paint(e) {
  const d = e.dueRecord;
  const st = dueState(d);
  e.dataset.state = st;
  e.classList.remove('st-open', 'st-warn', 'st-overdue', 'st-met', 'st-late', 'st-missed', 'st-none');
  e.classList.add('st-' + st);
  let txt;
  if (st === 'none') txt = '—';
  else if (st === 'missed') txt = t('due.missed');
  else if (st === 'met') txt = t('due.met_at', { at: fmtTime(d.met) });
  else if (st === 'late') txt = t('due.late_at', { at: fmtTime(d.met), by: fmtSpan((Date.parse(d.met) - Date.parse(d.due)) / 1000) });
  else {
    const left = (Date.parse(d.due) - nodeNow()) / 1000;
    txt = left < 0 ? t('due.overdue_by', { span: fmtSpan(-left) }) : t('due.in', { span: fmtSpan(left) });
  }
  if (e.textContent !== txt) e.textContent = txt;
}

// every second, every live clock on the page is repainted
setInterval(() => {
  for (const e of document.querySelectorAll('.countdown')) paint(e);
}, 1000);

// ------------------------------------------------------------ small pieces
export const ROLES = ['viewer', 'reporter', 'reviewer', 'admin'];
export function hasRole(me, role) {
  return ROLES.indexOf(me && me.role) >= ROLES.indexOf(role);
}

// levelBadge - "L3" with the level's colour
export function levelBadge(level) {
  return h('span', { class: 'level level-' + (level || 0) }, level ? 'L' + level : '—');
}

// label - a labelled value for detail views
export function field(labelKey, ...value) {
  return h('div', { class: 'field' }, h('span', { class: 'label' }, t(labelKey)), h('span', { class: 'value' }, ...value));
}

// table - a table from column label keys and rows of cells (each cell: a
// node, a string or an array of them); an empty list says so
export function table(cols, rows, testid, emptyKey) {
  if (!rows.length) return h('p', { class: 'empty', testid }, t(emptyKey || 'list.empty'));
  return h('div', { class: 'table-wrap' }, h('table', { testid },
    h('thead', null, h('tr', null, cols.map((c) => h('th', null, t(c))))),
    h('tbody', null, rows)));
}

// idShort - the first 8 hex digits of an id, the whole id on hover
export function idShort(id) {
  return h('code', { class: 'id', title: id }, id ? id.slice(0, 8) + '…' : '—');
}

// link - an in-console link ("#/incident/ID")
export function link(hash, ...children) {
  return h('a', { href: '#/' + hash }, ...children);
}

// apiAll - every item of a paged list (GET path, the reply's array under
// key), following `next` until max items; {items, more} (more: stopped at max)
export async function apiAll(path, key, max) {
  const items = [];
  let cursor = null;
  const sep = path.includes('?') ? '&' : '?';
  for (;;) {
    const r = await api('GET', path + sep + 'limit=1000' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    for (const x of r[key] || []) items.push(x);
    cursor = r.next;
    if (cursor === null || cursor === undefined || cursor === '') return { items, more: false };
    if (items.length >= (max || 2000)) return { items, more: true };
  }
}

// TIERS - every tier a node can have
export const TIERS = ['agency', 'city', 'ministry', 'national', 'office'];

// stateLabel - an incident's state in the operator's language
export function stateLabel(s) {
  const k = 'state.' + s;
  const v = t(k);
  return v === k ? s : v;
}

// submitOnce - wire a form: on submit, disable its buttons, run
// work(key) with a fresh Idempotency-Key, show errors in the form's
// error slot (an element with class form-msg), enable again
export function submitOnce(form, work) {
  const msg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  form.appendChild(msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const buttons = form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    clear(msg);
    try {
      const done = await work(newKey());
      if (done) msg.appendChild(done);
    } catch (e) {
      msg.appendChild(errorBox(e));
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  });
  return form;
}

// taipeiToIso - an <input type=datetime-local> value ("2026-11-29T08:30")
// read as Asia/Taipei (UTC+8, no summer time) → ISO UTC, or null
export function taipeiToIso(v) {
  if (!v) return null;
  const d = new Date(v + (v.length === 16 ? ':00' : '') + '+08:00');
  return isNaN(d) ? null : d.toISOString().replace(/\.\d+Z$/, 'Z');
}

// isoToTaipeiInput - the other way: ms since the epoch → "2026-11-29T08:30"
export function isoToTaipeiInput(ms) {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16);
}

// listInto - apiAll, or null with the error shown in box (cleared first)
export async function listInto(box, path, key, max) {
  try {
    return await apiAll(path, key, max);
  } catch (e) {
    clear(box).appendChild(errorBox(e));
    return null;
  }
}
