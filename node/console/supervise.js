// supervise.js - what the supervisors' views share (issue 11, part B: the
// city, ministry and national views): reading every page of a list, the
// subtree below this node, an incident's next due time, and the review
// and support forms that the incident detail shows to a reviewer.
//
// SECURITY: titles, bases, texts and names from the API only ever become
// text nodes (lib.js h); nothing here parses HTML.
import { api, clear, errorBox, h, hasRole, submitOnce, t, table } from './lib.js';
import { supervisorActions } from './view-incident.js';

// fill - el with only these children (arrays flattened; null, undefined
// and false skipped, unlike Element.append, which writes "null")
export function fill(el, ...kids) {
  clear(el);
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false) el.append(k);
  return el;
}

// head - a view's title and, when leadKey is given, the line under it
export function head(root, titleKey, leadKey) {
  root.appendChild(h('h1', null, t(titleKey)));
  if (leadKey) root.appendChild(h('p', { class: 'sup-lead' }, t(leadKey)));
}

// live - a part of root that fills itself with what paint() returns (a
// node, or an array of them), now and every ms while the view is shown; an
// error takes its place until the next success; paint() returning
// undefined leaves the part as it is (e.g. while the operator types)
export async function live(root, ctx, ms, paint) {
  const body = h('div');
  root.appendChild(body);
  const load = async () => {
    try {
      const kids = await paint();
      if (kids !== undefined) fill(body, kids);
    } catch (e) {
      fill(body, errorBox(e));
    }
  };
  await load();
  ctx.every(ms, load);
  return load;
}

// cards - lib.js table(), whose rows become labelled cards on a phone
// (style.css .sup-cards): each cell carries its column's label, its
// content in one box beside it
export function cards(cols, rows, testid, emptyKey) {
  const labels = cols.map((c) => t(c));
  for (const r of rows)
    Array.from(r.children).forEach((td, i) => {
      if (!td.firstChild) return;
      if (labels[i]) td.dataset.label = labels[i];
      const box = h('div', { class: 'sup-cell' });
      while (td.firstChild) box.appendChild(td.firstChild);
      td.appendChild(box);
    });
  const w = table(cols, rows, testid, emptyKey);
  w.classList.add('sup-cards');
  return w;
}

// isOpen - an incident still running (not closed, not withdrawn)
export function isOpen(inc) {
  return inc.state !== 'closed' && inc.state !== 'withdrawn';
}

// openDues - the due times of inc still to be met, earliest first
export function openDues(inc) {
  return (inc.dues || []).filter((d) => !d.met && (d.state === 'open' || d.state === 'overdue'))
    .sort((a, b) => Date.parse(a.due) - Date.parse(b.due));
}

// dueOf - inc's due time called deadline ("review", "support", ...), or null
export function dueOf(inc, deadline) {
  return (inc.dues || []).find((d) => d.deadline === deadline) || null;
}

// isLate - inc waits in the national center's late-review queue (R-LATE-REVIEW)
export function isLate(inc) {
  return !!inc.queue && inc.queue.includes('R-LATE-REVIEW');
}

// queueKind - which review inc waits for (the queue reason of node/view.c)
export function queueKind(inc) {
  const q = inc.queue || '';
  if (q.includes('R-LATE-REVIEW')) return 'late';
  if (q.includes('R-CLOSE-REVIEW')) return 'closure';
  if (q.includes('R-LEVEL-3')) return 'request';
  return 'review';
}

// subtree - the directory entries below root (all of them below the
// national node), in directory order
export function subtree(nodes, root) {
  const below = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes)
      if (!below.has(n.id) && below.has(n.parent)) { below.add(n.id); grew = true; }
  }
  return nodes.filter((n) => n.id !== root && below.has(n.id));
}

// select - a <select> of [value, label] pairs
export function select(testid, options, value) {
  return h('select', { testid },
    options.map(([v, label]) => h('option', { value: String(v), selected: String(v) === String(value) }, label)));
}

// supportForm - R-SUPPORT: the national center dispatches technical
// support ({text}: what, who, when); onDone(reply) after success
export function supportForm(inc, onDone) {
  const text = h('textarea', { testid: 'support-text', required: true, maxlength: 8192,
    placeholder: t('b.support.placeholder') });
  const form = h('form', { class: 'card sup-form', testid: 'support-form' },
    h('h2', null, t('b.support.title')),
    h('label', null, t('b.support.text'), text),
    h('button', { type: 'submit', class: 'primary', testid: 'support-submit' }, t('b.support.submit')));
  return submitOnce(form, async (key) => {
    const r = await api('POST', '/api/v1/incidents/' + encodeURIComponent(inc.id) + '/support',
      { text: text.value }, { key });
    text.value = '';
    if (onDone) onDone(r);
    return h('div', { class: 'ok', testid: 'support-done' }, t('b.support.done', { to: (r.to || []).join(', ') }));
  });
}

// reviewable - whether this node's reviewer may review inc now: in this
// node's queue (R-REVIEW, R-LEVEL-3, R-CLOSE-REVIEW, R-LATE-REVIEW), or at
// the national node any running incident (its re-review, R-LEVEL-3)
export function reviewable(inc, ctx) {
  if (!inc.have_report || !isOpen(inc)) return false;
  return !!inc.queue || ctx.tier === 'national';
}

// reviewForm - the review decision (node/form.c form_review): level 1-4
// (the verdict follows: the same level confirms, another changes it),
// basis (required), a closure review when the closure awaits it, and
// follow-up actions; onDone(reply) after success
export function reviewForm(inc, ctx, onDone) {
  const closing = inc.state === 'closing';
  const level = select('review-level', [1, 2, 3, 4].map((l) => [l, t('b.level', { n: l })]),
    inc.requested_level || inc.level || 1);
  const verdict = h('span', { class: 'sup-verdict', testid: 'review-verdict' });
  const paintVerdict = () => {
    verdict.textContent = Number(level.value) === inc.level ? t('b.review.confirm') : t('b.review.change');
  };
  level.addEventListener('change', paintVerdict);
  paintVerdict();
  const basis = h('textarea', { testid: 'review-basis', required: true, maxlength: 8192 });
  const closure = h('input', { type: 'checkbox', testid: 'review-closure', checked: closing, disabled: !closing });
  const follow = h('textarea', { testid: 'review-follow-up', maxlength: 8192 });
  const why = inc.queue ? h('p', { class: 'sup-why', testid: 'review-why' }, t('b.review.why'), ' ', t('b.queue.why.' + queueKind(inc))) : null;
  const form = h('form', { class: 'card sup-form', testid: 'review-form' },
    h('h2', null, closing ? t('b.review.title_closure') : t('b.review.title')),
    why,
    h('div', { class: 'sup-row' }, h('label', null, t('b.review.level'), ' ', level), verdict),
    h('label', null, t('b.review.basis'), basis),
    h('label', { class: 'sup-check' }, closure, ' ', t('b.review.closure')),
    h('label', null, t('b.review.follow_up'), follow),
    h('button', { type: 'submit', class: 'primary', testid: 'review-submit' }, t('b.review.submit')));
  return submitOnce(form, async (key) => {
    const body = {
      verdict: Number(level.value) === inc.level ? 'confirm' : 'change',
      level: Number(level.value), basis: basis.value, closure: closure.checked,
    };
    if (follow.value) body.follow_up = follow.value;
    const r = await api('POST', '/api/v1/incidents/' + encodeURIComponent(inc.id) + '/reviews', body, { key });
    if (onDone) onDone(r);
    return h('div', { class: 'ok', testid: 'review-done' }, t('b.review.done', { to: (r.to || []).join(', ') }));
  });
}

// supervisorAction - the incident detail's part for a reviewer here: the
// review form, and at the national node the support dispatch form
export function supervisorAction(root, inc, ctx) {
  if (!hasRole(ctx.me, 'reviewer')) return;
  if (reviewable(inc, ctx)) root.appendChild(reviewForm(inc, ctx));
  if (ctx.tier === 'national' && inc.have_report && isOpen(inc)) root.appendChild(supportForm(inc));
}

supervisorActions.push(supervisorAction);
