// view-incident.js - one incident (#/incident/ID): the form, its levels,
// every due time, history, hops, notices and their delivery, held
// messages; at the author agency the reporter's actions (update, level
// request, closure, withdrawal). Supervisors' actions are added by other
// modules through supervisorActions.
import { api, apiAll, countdown, dueState, errorBox, field, h, hasRole, idShort, levelBadge,
  stateLabel, submitOnce, t, table, taipeiToIso, timeEl, TIERS } from './lib.js';
import { drillMark } from './view-now.js';
import { phoneScript } from './view-file.js';

// supervisorActions - functions (root, inc, ctx) => void that add the
// review / support / ... actions of other tiers to the container at the
// end of this view
export const supervisorActions = [];

const CLOSED = ['closed', 'withdrawn'];
const NOTICE_KINDS = ['copy-notice', 'horizontal-notice', 'escalation'];

function yesNo(b) { return t(b ? 'common.yes' : 'common.no'); }

function text(s) {
  return s ? h('span', { class: 'free-text' }, s) : h('span', { class: 'none' }, '—');
}

// the report form, labelled
function reportCard(rep) {
  if (!rep) return h('p', { class: 'empty' }, t('inc.no_report'));
  const dmg = rep.damage || {};
  const harms = (rep.harms || []).map((x) =>
    h('li', null, t('harm.kind.' + x.kind), ' · ', t('harm.class.' + x.class), ' · ', t('harm.sev.' + x.severity)));
  return h('div', { class: 'card', testid: 'incident-form' },
    field('form.title', text(rep.title)),
    field('form.aware_at', timeEl(rep.aware_at)),
    field('form.reported_at', timeEl(rep.reported_at)),
    field('form.level', levelBadge(rep.level)),
    field('form.category', t('cat.' + rep.category)),
    field('form.harms', h('ul', { class: 'harms' }, harms)),
    field('form.facts', text(rep.facts)),
    field('form.scope', text(rep.scope)),
    field('form.measures_taken', text(rep.measures_taken)),
    field('form.support_requested', text(rep.support_requested)),
    field('form.affected_agencies', (rep.affected_agencies || []).join(', ') || '—'),
    field('form.ci_sector', t('sector.' + (rep.ci_sector || 'none'))),
    field('form.personal_data', yesNo(rep.personal_data)),
    ['operational_impact', 'equipment_damage', 'delay', 'data_damaged', 'estimated_recovery', 'backup_site_status']
      .filter((k) => dmg[k]).map((k) => field('form.damage.' + k, text(dmg[k]))));
}

function levelCard(inc) {
  return h('div', { class: 'card levels' },
    field('inc.level_now', h('span', { testid: 'incident-level', dataset: { level: String(inc.level || 0) } }, levelBadge(inc.level))),
    field('inc.claimed', levelBadge(inc.claimed_level)),
    field('inc.advised', levelBadge(inc.advised_level),
      inc.below_advised ? h('span', { class: 'flag', testid: 'below-advised' }, ' ', t('inc.below_advised')) : null),
    field('inc.reviewed', inc.reviewed_level ? levelBadge(inc.reviewed_level) : t('inc.not_reviewed')),
    field('inc.requested', inc.requested_level ? levelBadge(inc.requested_level) : '—'));
}

function duesTable(inc) {
  const rows = (inc.dues || []).slice().sort((a, b) => Date.parse(a.due) - Date.parse(b.due)).map((d) => {
    const tr = h('tr', { testid: 'due-row', dataset: { deadline: d.deadline, state: dueState(d) } },
      h('td', null, t('deadline.' + d.deadline)),
      h('td', null, countdown(d)),
      h('td', null, timeEl(d.due)),
      h('td', null, h('code', null, d.rule)),
      h('td', null, d.judged_here ? t('common.yes') : t('common.no')));
    tr.due = d;
    return tr;
  });
  return table(['col.deadline', 'col.status', 'col.due', 'col.rule', 'col.judged_here'], rows, 'incident-dues');
}

function historyTable(inc) {
  const ev = (inc.history || []).map((e, i) => [e, i])
    .sort((a, b) => Date.parse(a[0].at) - Date.parse(b[0].at) || a[1] - b[1]).map((x) => x[0]);
  return table(['col.at', 'col.node', 'col.what', 'col.detail', 'col.msg'], ev.map((e) =>
    h('tr', { testid: 'history-row', dataset: { what: e.what } },
      h('td', null, timeEl(e.at)), h('td', null, e.node), h('td', null, t('what.' + e.what) === 'what.' + e.what ? e.what : t('what.' + e.what)),
      h('td', { class: 'free-text' }, e.detail || ''), h('td', null, idShort(e.msg)))), 'incident-history');
}

function hopsTable(inc) {
  return table(['col.node', 'col.what', 'col.at'], (inc.hops || []).map((p) =>
    h('tr', { testid: 'hop-row' }, h('td', null, p.node), h('td', null, p.what), h('td', null, timeEl(p.at)))),
  'incident-hops');
}

// deliveries - each copy, horizontal notice and escalation sent about the
// incident, with who stored it (delivered) and who signed a receipt
function deliveriesTable(inc, ctx) {
  const hist = inc.history || [];
  const sent = hist.filter((e) => NOTICE_KINDS.includes(e.what));
  const marks = (msg, what) => hist.filter((e) => e.msg === msg && e.what === what)
    .map((e) => h('div', null, e.node, ' ', timeEl(e.at)));
  return table(['col.what', 'col.at', 'col.detail', 'col.delivered', 'col.receipt'], sent.map((e) => {
    const rec = marks(e.msg, 'receipt');
    return h('tr', { testid: 'delivery-row', dataset: { msg: e.msg, what: e.what, received: rec.length ? 'yes' : 'no' } },
      h('td', null, t('what.' + e.what)), h('td', null, timeEl(e.at)), h('td', { class: 'free-text' }, e.detail || ''),
      h('td', null, marks(e.msg, 'delivered').length ? marks(e.msg, 'delivered')
        // only the sender of a notice learns of its delivery
        : e.node === ctx.node ? h('span', { class: 'st-warn' }, t('inc.not_yet'))
          : h('span', { class: 'none', title: t('inc.not_known_here') }, '—')),
      h('td', null, rec.length ? rec : h('span', { class: 'none' }, '—')));
  }), 'incident-deliveries', 'inc.no_notices');
}

async function heldBox(inc) {
  const ids = new Set([inc.id, ...(inc.history || []).map((e) => e.msg)]);
  const box = h('div', { testid: 'incident-held' });
  try {
    const r = await apiAll('/api/v1/held', 'held', 5000);
    const mine = r.items.filter((x) => ids.has(x.id));
    box.appendChild(table(['col.msg', 'col.peer', 'col.reason', 'col.state', 'col.attempts', 'col.first', 'col.last'],
      mine.map((x) => h('tr', { testid: 'held-row', dataset: { id: x.id } },
        h('td', null, idShort(x.id)), h('td', null, x.peer), h('td', { class: 'free-text' }, x.reason),
        h('td', null, x.state), h('td', null, String(x.attempts)), h('td', null, timeEl(x.first)), h('td', null, timeEl(x.last)))),
      'incident-held-list', 'inc.no_held'));
  } catch (e) {
    box.appendChild(errorBox(e));
  }
  return box;
}

// ------------------------------------------------------------ actions
function sentOk(r) {
  return h('div', { class: 'ok', testid: 'action-ok' }, t('inc.sent', { id: r.id || '', to: (r.to || []).join(', ') }));
}

function actionForm(testid, titleKey, fields, build, inc, ctx) {
  const submit = h('button', { type: 'submit', class: 'primary', testid: testid.replace(/-form$/, '') + '-submit' }, t('inc.send'));
  const form = h('form', { class: 'card action', testid }, h('h3', null, t(titleKey)), fields, submit);
  return submitOnce(form, async (key) => {
    const r = await api('POST', '/api/v1/incidents/' + inc.id + '/' + build.path, build.body(), { key });
    setTimeout(() => ctx.reload(), 1200);
    return sentOk(r);
  });
}

function lbl(key, control) { return h('label', null, t(key), control); }
function check(key, testid) {
  const c = h('input', { type: 'checkbox', testid });
  return [h('label', { class: 'check' }, c, ' ', t(key)), c];
}

function actions(inc, ctx) {
  const [teamL, team] = check('upd.team', 'update-team');
  const [ctlL, ctl] = check('upd.controlled', 'update-controlled');
  const [recL, rec] = check('upd.recovered', 'update-recovered');
  const [subL, sub] = check('upd.subjects_notified', 'update-subjects');
  const utext = h('textarea', { testid: 'update-text', maxlength: 4000 });
  const update = actionForm('update-form', 'upd.title', [teamL, ctlL, recL, inc.personal_data ? subL : null, lbl('upd.text', utext)], {
    path: 'updates',
    body: () => {
      // a fact already reported stays ticked and greyed: it is not sent again
      const now = (c) => c.checked && !c.disabled;
      const b = { team_formed: now(team), damage_controlled: now(ctl), recovered: now(rec), text: utext.value };
      if (inc.personal_data) b.subjects_notified = sub.checked;
      return b;
    },
  }, inc, ctx);
  for (const [c, done] of [[team, inc.team_formed], [ctl, inc.damage_controlled], [rec, inc.recovered]])
    if (done) { c.checked = true; c.disabled = true; }

  const lvl = h('select', { testid: 'level-level' }, [1, 2, 3, 4].map((n) => h('option', { value: String(n) }, 'L' + n)));
  lvl.value = String(Math.min(4, (inc.level || 1) + 1));
  const lreason = h('textarea', { testid: 'level-reason', required: true, maxlength: 4000 });
  const level = actionForm('level-form', 'lreq.title', [lbl('lreq.level', lvl), lbl('lreq.reason', lreason)], {
    path: 'level-requests', body: () => ({ level: Number(lvl.value), reason: lreason.value }),
  }, inc, ctx);

  const cf = {};
  const cfields = [];
  const ev = h('input', { type: 'datetime-local', testid: 'closure-event_at' });
  cfields.push(lbl('close.event_at', ev));
  for (const k of ['source_ips', 'target_ips']) {
    cf[k] = h('input', { testid: 'closure-' + k, placeholder: '192.0.2.1, 198.51.100.7' });
    cfields.push(lbl('close.' + k, cf[k]));
  }
  for (const k of ['attacker_location', 'attack_method', 'impact_analysis', 'remediation', 'root_cause',
    'improve_short', 'improve_mid', 'improve_long']) {
    cf[k] = h('textarea', { testid: 'closure-' + k, maxlength: 4000, required: k === 'root_cause' });
    cfields.push(lbl('close.' + k, cf[k]));
  }
  const closure = actionForm('closure-form', 'close.title', cfields, {
    path: 'closure',
    body: () => {
      const b = {};
      if (ev.value) b.event_at = taipeiToIso(ev.value);
      for (const k of ['source_ips', 'target_ips']) b[k] = cf[k].value.split(/[\s,]+/).filter(Boolean);
      for (const k of Object.keys(cf)) if (!Array.isArray(b[k]) && cf[k].value) b[k] = cf[k].value;
      return b;
    },
  }, inc, ctx);

  const wreason = h('textarea', { testid: 'withdraw-reason', required: true, maxlength: 4000 });
  const withdraw = actionForm('withdraw-form', 'wd.title', [lbl('wd.reason', wreason)], {
    path: 'withdrawal', body: () => ({ reason: wreason.value }),
  }, inc, ctx);

  return h('div', { class: 'actions', testid: 'incident-actions' }, h('h2', null, t('inc.actions')),
    h('div', { class: 'action-grid' }, update, level, closure, withdraw));
}

function section(titleKey, ...body) {
  return h('section', { class: 'inc-section' }, h('h2', null, t(titleKey)), ...body);
}

export default {
  id: 'incident',
  title: 'nav.incident',
  tiers: TIERS,
  role: 'viewer',
  nav: false,
  async render(root, params, ctx) {
    const id = params[0] || '';
    const r = await api('GET', '/api/v1/incidents/' + encodeURIComponent(id));
    const inc = r.incident;
    ctx.reload = async () => {
      const fresh = h('section', { class: root.className, testid: root.dataset.testid });
      root.replaceWith(fresh);
      try { await this.render(fresh, params, ctx); } catch (e) { fresh.appendChild(errorBox(e)); }
    };
    const mine = ctx.tier === 'agency' && inc.author === ctx.node && hasRole(ctx.me, 'reporter') &&
      !CLOSED.includes(inc.state);
    root.append(
      h('h1', { class: 'inc-title' }, drillMark(inc), h('span', { testid: 'incident-heading' }, inc.title || '—')),
      h('div', { class: 'card inc-head' },
        field('col.id', h('code', { class: 'id-full' }, inc.id)),
        field('col.author', inc.author),
        field('col.target', inc.target || '—'),
        field('col.state', h('span', { testid: 'incident-state', dataset: { state: inc.state } }, stateLabel(inc.state))),
        inc.queue ? field('inc.queue', inc.queue) : null,
        field('inc.progress', [
          t('upd.team') + ': ' + yesNo(inc.team_formed), ' · ',
          t('upd.controlled') + ': ' + yesNo(inc.damage_controlled), ' · ',
          t('upd.recovered') + ': ' + yesNo(inc.recovered)]),
        inc.escalated && inc.escalated.length ? field('inc.escalated', inc.escalated.join(', ')) : null,
        // required but not sent, with why: never shown as if sent
        (inc.escalations_not_sent || []).length
          ? field('inc.not_sent', h('span', { class: 'st-missed', testid: 'escalations-not-sent' },
            inc.escalations_not_sent.map((e) => e.kind + ' (' + e.rule + '): ' + e.why).join('; ')))
          : null));
    if (inc.phone_script) root.appendChild(phoneScript(inc.phone_script, ctx, 'incident-phone-script'));
    root.append(
      section('inc.levels', levelCard(inc)),
      section('inc.dues', duesTable(inc)),
      section('inc.form', reportCard(inc.report && inc.report.report)),
      section('inc.history', historyTable(inc)),
      section('inc.hops', hopsTable(inc)),
      section('inc.deliveries', deliveriesTable(inc, ctx)),
      section('inc.held', await heldBox(inc)));
    if (mine) root.appendChild(actions(inc, ctx));
    const sup = h('div', { testid: 'incident-actions-supervisor' });
    root.appendChild(sup);
    for (const fn of supervisorActions) {
      try { fn(sup, inc, ctx); } catch (e) { sup.appendChild(errorBox(e)); }
    }
    ctx.every(1000, () => {
      for (const tr of root.querySelectorAll('[data-testid=due-row]')) {
        const s = dueState(tr.due);
        if (tr.dataset.state !== s) tr.dataset.state = s;
      }
    });
  },
};
