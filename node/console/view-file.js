// view-file.js - "File a report" (agency, reporter): every field of the
// report form (node/form.c), the advised level, due times and destinations
// live from POST /api/v1/advise as the form changes, then the filing and
// either "received by <target>" or, while the link is down, the R-OFFLINE
// phone script. #/file/drill/NOTICEID answers a drill notice.
import { api, ApiError, clear, errorBox, fmtTime, h, isoToTaipeiInput, link, newKey, nodeNow, t,
  taipeiToIso, timeEl } from './lib.js';

export const HARM_KINDS = ['leak', 'tamper', 'outage'];
export const HARM_CLASSES = ['non_core', 'core', 'official_secret', 'sensitive', 'ci_core', 'state_secret'];
export const CATEGORIES = ['internal_malicious', 'internal_mistake', 'internal_equipment', 'external_virus',
  'external_intrusion', 'natural_typhoon', 'natural_flood', 'natural_earthquake', 'emergency_fire',
  'emergency_explosion', 'emergency_nuclear', 'emergency_epidemic'];
export const SECTORS = ['none', 'defense', 'ict', 'energy', 'transport', 'finance', 'disaster_relief',
  'health', 'public_safety', 'government'];
const DAMAGE = ['operational_impact', 'equipment_damage', 'delay', 'data_damaged', 'estimated_recovery',
  'backup_site_status'];
const RULE_OF = { report: 'R-REPORT', horiz: 'R-HORIZ', review: 'R-REVIEW', team: 'R-TEAM', control: 'R-CONTROL',
  support: 'R-SUPPORT', close: 'R-CLOSE', copy: 'R-COPY3' };

// phoneScript - the R-OFFLINE script (whom to call, what to say) from an
// incident's phone_script, in the operator's language
export function phoneScript(ps, ctx, testid) {
  const say = t('offline.say', {
    agency: ps.agency || ctx.node, id: ps.id, level: ps.level, aware: fmtTime(ps.aware_at, false) + ' ' + t('zone.taipei'),
  });
  return h('div', { class: 'phone-script', testid, role: 'alert' },
    h('h2', null, t('offline.title')),
    h('p', null, t('offline.not_received', { target: ps.target })),
    ps.link_connected === false
      ? h('p', null, t('offline.link_down'), ' ', ps.link_since ? [t('offline.since'), ' ', timeEl(ps.link_since)] : null)
      : null,
    h('p', { class: 'call' }, t('offline.call'), ' ', h('strong', { testid: 'phone-contact' }, ps.contact || ps.target)),
    h('blockquote', { class: 'say', testid: 'phone-say' }, say),
    ps.due ? h('p', null, t('offline.due'), ' ', timeEl(ps.due)) : null,
    h('p', { class: 'muted' }, t('offline.backfill')));
}

function opt(value, label, selected) {
  return h('option', { value, selected: !!selected }, label);
}

// the grid of harms: one select none/minor/severe per kind × class
function harmGrid(onChange) {
  const sel = {};
  const head = h('tr', null, h('th', null, t('harm.class')), HARM_KINDS.map((k) => h('th', null, t('harm.kind.' + k))));
  const rows = HARM_CLASSES.map((c) => h('tr', null, h('th', { scope: 'row' }, t('harm.class.' + c)),
    HARM_KINDS.map((k) => {
      const s = h('select', { testid: 'harm-' + k + '-' + c, 'aria-label': t('harm.kind.' + k) + ' / ' + t('harm.class.' + c), onchange: onChange },
        opt('', t('harm.none')),
        opt('minor', t(k === 'outage' ? 'harm.outage.minor' : 'harm.sev.minor')),
        opt('severe', t(k === 'outage' ? 'harm.outage.severe' : 'harm.sev.severe')));
      sel[k + '/' + c] = s;
      s.addEventListener('change', () => s.classList.toggle('ticked', !!s.value));
      return h('td', null, s);
    })));
  const grid = h('div', { class: 'table-wrap' }, h('table', { class: 'harm-grid', testid: 'file-harms' }, h('thead', null, head), h('tbody', null, rows)));
  grid.harms = () => Object.entries(sel).filter(([, s]) => s.value)
    .map(([key, s]) => ({ kind: key.split('/')[0], class: key.split('/')[1], severity: s.value }));
  return grid;
}

function adviceBox(a) {
  const dues = Object.entries(a.dues || {}).sort((x, y) => Date.parse(x[1]) - Date.parse(y[1]));
  const dest = (label, list, testid) => h('div', { class: 'field', testid },
    h('span', { class: 'label' }, t(label)), h('span', { class: 'value' }, list && list.length ? list.join(', ') : '—'));
  return [
    h('div', { class: 'advised' }, t('file.advised'), ' ',
      h('strong', { class: 'level level-' + a.advised_level, testid: 'file-advised-level' }, String(a.advised_level)),
      a.below_advised ? h('div', { class: 'error', testid: 'file-below-advised' }, t('file.below_advised', { claimed: a.claimed_level, advised: a.advised_level })) : null),
    h('h3', null, t('file.dues')),
    h('div', { class: 'table-wrap' }, h('table', { testid: 'file-advice-dues' },
      h('thead', null, h('tr', null, h('th', null, t('col.deadline')), h('th', null, t('col.rule')), h('th', null, t('col.due')))),
      h('tbody', null, dues.map(([k, iso]) => h('tr', { dataset: { deadline: k } },
        h('td', null, t('deadline.' + k)), h('td', null, h('code', null, RULE_OF[k] || k)), h('td', null, timeEl(iso))))))),
    h('h3', null, t('file.to')),
    h('div', { testid: 'file-advice-to' },
      dest('file.report_to', a.report_to, 'file-report-to'),
      dest('file.copy_to', a.copy_to ? [].concat(a.copy_to) : [], 'file-copy-to'),
      dest('file.horizontal_to', a.horizontal_to, 'file-horizontal-to'),
      dest('file.escalations', (a.escalations || []).map((e) => t('esc.' + e.kind) + ' → ' + e.to + ' (' + e.rule + ')'), 'file-escalations'),
      a.below_advised && (a.escalations_at_advised_level || []).length
        ? dest('file.escalations_advised', a.escalations_at_advised_level.map((k) => t('esc.' + k)), 'file-escalations-advised') : null),
  ];
}

// checkReceipt - the incident and its target's receipt of the report (null
// while not received); inc is null when the incident cannot be read now
async function checkReceipt(id, target) {
  try {
    const inc = (await api('GET', '/api/v1/incidents/' + id)).incident;
    const rc = (inc.history || []).find((e) => e.what === 'receipt' && e.msg === id && e.node === (inc.target || target));
    return { inc, receipt: rc || null };
  } catch (e) {
    return { inc: null, receipt: null };
  }
}

// after filing: wait up to ~8 s for the target's receipt
async function waitReceipt(id, target) {
  const until = Date.now() + 8000;
  for (;;) {
    const w = await checkReceipt(id, target);
    if (w.receipt || Date.now() > until) return w;
    await new Promise((r) => setTimeout(r, 700));
  }
}

function resultBox(id, inc, receipt, ctx, reply) {
  if (receipt) {
    return h('div', { class: 'ok result', testid: 'file-result', dataset: { received: 'yes' } },
      h('strong', { testid: 'file-received' }, t('file.received', { target: receipt.node, at: fmtTime(receipt.at) })),
      ' ', link('incident/' + id, t('file.open_incident')));
  }
  const ps = (inc && inc.phone_script) || {
    target: inc ? inc.target : (reply.to || [])[0], contact: null,
    due: ((reply.dues || []).find((d) => d.deadline === 'report') || {}).due, aware_at: inc ? inc.aware_at : null,
    level: inc ? inc.level : '', id, link_connected: ((ctx.status.links || []).find((l) => l.direction === 'up') || {}).connected,
    link_since: ((ctx.status.links || []).find((l) => l.direction === 'up') || {}).since,
  };
  return h('div', { class: 'result not-received', testid: 'file-result', dataset: { received: 'no' } },
    h('div', { class: 'error big', testid: 'file-not-received' }, t('file.stored_not_received', { target: ps.target })),
    phoneScript(ps, ctx, 'file-offline-script'),
    link('incident/' + id, t('file.open_incident')));
}

export default {
  id: 'file',
  title: 'nav.file',
  tiers: ['agency'],
  role: 'reporter',
  async render(root, params, ctx) {
    const drillOf = params[0] === 'drill' && params[1] ? params[1] : null;
    let agencies = [];
    try {
      const d = await api('GET', '/api/v1/directory');
      agencies = (d.nodes || []).filter((n) => n.tier === 'agency' && n.id !== ctx.node && !n.revoked).map((n) => n.id);
    } catch (e) { root.appendChild(errorBox(e)); }

    const title = h('input', { testid: 'file-title', required: true, maxlength: 200, name: 'title' });
    const aware = h('input', { type: 'datetime-local', testid: 'file-aware', required: true,
      value: isoToTaipeiInput(nodeNow()), max: isoToTaipeiInput(nodeNow() + 60000) });
    const level = h('select', { testid: 'file-level' }, [1, 2, 3, 4].map((n) => opt(String(n), 'L' + n)));
    const category = h('select', { testid: 'file-category' }, CATEGORIES.map((c) => opt(c, t('cat.' + c))));
    const facts = h('textarea', { testid: 'file-facts', required: true, maxlength: 8000 });
    const scope = h('textarea', { testid: 'file-scope', maxlength: 8000 });
    const measures = h('textarea', { testid: 'file-measures', maxlength: 8000 });
    const support = h('textarea', { testid: 'file-support', maxlength: 8000 });
    const sector = h('select', { testid: 'file-ci-sector' }, SECTORS.map((s) => opt(s, t('sector.' + s))));
    const personal = h('input', { type: 'checkbox', testid: 'file-personal-data' });
    const affected = agencies.map((a) => h('input', { type: 'checkbox', value: a, testid: 'file-affected-' + a }));
    const damage = Object.fromEntries(DAMAGE.map((k) => [k, h('input', { testid: 'file-damage-' + k, maxlength: 2000 })]));
    const advice = h('div', { class: 'advice card', testid: 'file-advice', 'aria-live': 'polite' }, t('file.advice_wait'));
    const grid = harmGrid(() => schedule());
    const inline = h('div', { class: 'advice-inline', 'aria-hidden': 'true' });
    const submit = h('button', { type: 'submit', class: 'primary big', testid: 'file-submit' }, t(drillOf ? 'file.submit_drill' : 'file.submit'));
    const msg = h('div', { testid: 'file-msg' });
    const result = h('div');

    const L = (key, control, cls) => h('label', { class: cls || null }, h('span', { class: 'label' }, t(key)), control);
    const form = h('form', { class: 'file-form', testid: 'file-form', novalidate: true },
      drillOf ? h('div', { class: 'notice', testid: 'file-drill' }, t('file.drill_banner', { id: drillOf })) : null,
      h('div', { class: 'file-cols' },
        h('div', { class: 'file-main' },
          L('form.title', title),
          h('div', { class: 'row3' }, L('form.aware_at_tpe', aware), L('form.level', level), L('form.category', category)),
          h('fieldset', null, h('legend', null, t('form.harms')), h('p', { class: 'muted' }, t('file.harms_help')), grid, inline),
          L('form.facts', facts), L('form.scope', scope), L('form.measures_taken', measures), L('form.support_requested', support),
          h('fieldset', { testid: 'file-affected' }, h('legend', null, t('form.affected_agencies')),
            affected.length ? affected.map((c) => h('label', { class: 'check' }, c, ' ', c.value)) : h('span', { class: 'none' }, '—')),
          h('div', { class: 'row3' }, L('form.ci_sector', sector), h('label', { class: 'check' }, personal, ' ', t('form.personal_data'))),
          h('fieldset', null, h('legend', null, t('form.damage')), DAMAGE.map((k) => L('form.damage.' + k, damage[k]))),
          submit, msg),
        h('aside', { class: 'file-side' }, h('h2', null, t('file.advice')), advice)));
    root.append(h('h1', null, t(drillOf ? 'file.title_drill' : 'nav.file')), result, form);
    if (drillOf) {
      // a drill report: the scenario's level and number from its notice
      try {
        const m = (await api('GET', '/api/v1/messages/' + encodeURIComponent(drillOf))).message || {};
        const n = m.notice || {};
        if (n.level) level.value = String(n.level);
        if (n.scenario && !title.value) title.value = t('file.drill_title', { n: n.scenario });
      } catch (e) { /* the operator fills them in */ }
    }

    function body(forAdvice) {
      const b = {
        title: title.value, aware_at: taipeiToIso(aware.value), level: Number(level.value), category: category.value,
        harms: grid.harms(), facts: facts.value, scope: scope.value, measures_taken: measures.value,
        support_requested: support.value, affected_agencies: affected.filter((c) => c.checked).map((c) => c.value),
        ci_sector: sector.value, personal_data: personal.checked,
      };
      const dmg = {};
      for (const k of DAMAGE) if (damage[k].value) dmg[k] = damage[k].value;
      if (Object.keys(dmg).length) b.damage = dmg;
      if (drillOf) { b.drill = true; b.drill_of = drillOf; }
      if (forAdvice) {
        // the advice needs only the harms, level and destinations: fill what is not typed yet
        if (!b.title) b.title = '-';
        if (!b.facts) b.facts = '-';
        if (!b.aware_at) b.aware_at = new Date(nodeNow()).toISOString();
      }
      for (const k of ['scope', 'measures_taken', 'support_requested']) if (!b[k]) delete b[k];
      return b;
    }

    let timer = null, seq = 0;
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refreshAdvice, 300);
    }
    async function refreshAdvice() {
      const b = body(true);
      const mine = ++seq;
      if (!b.harms.length) { clear(advice).appendChild(h('p', { class: 'muted' }, t('file.tick_harm'))); return; }
      try {
        const a = await api('POST', '/api/v1/advise', b);
        if (mine !== seq) return;
        clear(advice).append(...adviceBox(a));
        // on a phone the advice sits below the form: its gist under the harms too
        clear(inline).append(t('file.advised'), ' L' + a.advised_level,
          a.below_advised ? h('span', { class: 'flag' }, ' ⚠ R-LEVEL-2') : null);
      } catch (e) {
        if (mine === seq) clear(advice).appendChild(errorBox(e));
      }
    }
    form.addEventListener('input', schedule);
    form.addEventListener('change', schedule);
    schedule();

    async function file(again) {
      clear(msg); clear(result);
      submit.disabled = true;
      try {
        const r = await api('POST', '/api/v1/reports' + (again ? '?again=1' : ''), body(false), { key: newKey() });
        msg.appendChild(h('div', { class: 'notice', testid: 'file-waiting' }, t('file.stored_waiting', { id: r.incident })));
        const w = await waitReceipt(r.incident, (r.to || [])[0]);
        clear(msg);
        result.appendChild(resultBox(r.incident, w.inc, w.receipt, ctx, r));
        result.scrollIntoView({ block: 'start' });
        if (!w.receipt) {
          // the phone script stays until the target has the report: then
          // the box says so ("received by taipei at ...")
          let done = false;
          ctx.every(3000, async () => {
            if (done) return;
            const w2 = await checkReceipt(r.incident, (r.to || [])[0]);
            if (!w2.receipt || done) return;
            done = true;
            clear(result).appendChild(resultBox(r.incident, w2.inc, w2.receipt, ctx, r));
          });
        }
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && /same form/.test(e.message || '')) {
          const again1 = h('button', { type: 'button', class: 'primary', testid: 'file-again' }, t('file.again'));
          again1.addEventListener('click', () => file(true));
          const first = /incident ([0-9a-f]{32})/.exec(e.message || '');
          msg.appendChild(h('div', { class: 'notice', testid: 'file-duplicate' }, t('file.duplicate'), ' ',
            first ? link('incident/' + first[1], t('file.open_first')) : null, ' ', again1));
        } else {
          msg.appendChild(errorBox(e));
          const bad = e instanceof ApiError && e.field ? form.querySelector('[data-testid=file-' + e.field.replace(/_/g, '-') + ']') : null;
          if (bad) bad.focus();
        }
      } finally {
        submit.disabled = false;
      }
    }
    form.addEventListener('submit', (ev) => { ev.preventDefault(); file(false); });
  },
};
