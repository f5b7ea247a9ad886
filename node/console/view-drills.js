// view-drills.js - R-DRILL at a city, a ministry or the national center:
// start a notification drill (drill notices to a random share of this
// node's agencies), the drills started here, and each drill's timing record
// (#/drills/ID) filling in as the agencies answer: notice sent, received,
// report, response, closure, within the window or not.
import { api, apiAll, clear, countdown, errorBox, fmtSpan, h, hasRole, idShort, link, newKey, t, timeEl } from './lib.js';
import { cards, head, live } from './supervise.js';

// summaryText - "2 pass · 1 fail · 7 pending"
function summaryText(s) {
  return t('b.drill.summary', { pass: s.pass, fail: s.fail, pending: s.pending });
}

// drillRow - one drill of the list
function drillRow(d) {
  const agencies = new Set((d.scenarios || []).map((s) => s.agency));
  return h('tr', { testid: 'drill-row', dataset: { id: d.id } },
    h('td', null, link('drills/' + encodeURIComponent(d.id), timeEl(d.started)), ' ', idShort(d.id)),
    h('td', { class: 'sup-num' }, String((d.scenarios || []).length)),
    h('td', null, Array.from(agencies).join(', ')),
    h('td', null, fmtSpan(d.window_s)),
    h('td', { testid: 'drill-summary' }, summaryText(d.summary)));
}

// step - one time of a scenario's record, late ones marked
function step(at, end) {
  if (!at) return h('span', { class: 'none' }, '—');
  const e = timeEl(at);
  if (Date.parse(at) > end) e.classList.add('sup-late');
  return e;
}

// scenarioRow - one scenario of the timing record
function scenarioRow(d, s) {
  const end = s.sent ? Date.parse(s.sent) + d.window_s * 1000 : NaN;
  return h('tr', { testid: 'drill-scenario-row', dataset: { scenario: String(s.scenario), agency: s.agency, result: s.result } },
    h('td', { class: 'sup-num' }, String(s.scenario)),
    h('td', null, s.agency),
    h('td', null, h('span', { class: 'level level-' + s.level }, 'L' + s.level),
      h('div', { class: 'sup-sub' }, t('b.drill.solvable.' + s.solvable_by))),
    h('td', null, step(s.sent, end)),
    h('td', null, step(s.received, end)),
    h('td', null, step(s.report, end),
      s.incident ? h('div', null, link('incident/' + encodeURIComponent(s.incident), idShort(s.incident))) : null),
    h('td', null, step(s.response, end)),
    h('td', null, step(s.closure, end)),
    h('td', null, h('span', { class: 'sup-result sup-' + s.result }, t('b.drill.result.' + s.result)),
      s.result === 'pending' && s.sent
        ? h('div', null, countdown({ due: new Date(end).toISOString(), met: null, state: 'open' })) : null));
}

// renderDetail - a drill's timing record, refreshed every 5 s
async function renderDetail(root, id, ctx) {
  root.appendChild(h('p', null, link('drills', '← ' + t('nav.drills'))));
  await live(root, ctx, 5000, async () => {
    const d = (await api('GET', '/api/v1/drills/' + encodeURIComponent(id))).drill;
    return [
      h('h1', null, t('b.drill.record'), ' ', idShort(d.id)),
      h('div', { class: 'card' },
        h('p', null, t('b.drill.started_by', { node: d.supervisor }), ' ', timeEl(d.started), ' · ',
          t('b.drill.window', { span: fmtSpan(d.window_s) })),
        h('p', { testid: 'drill-record-summary' }, summaryText(d.summary))),
      cards(['b.col.scenario', 'b.col.unit', 'col.level', 'b.drill.sent', 'b.drill.received', 'b.drill.report',
        'b.drill.response', 'b.drill.closure', 'b.drill.result'],
      (d.scenarios || []).map((x) => scenarioRow(d, x)), 'drill-record', 'list.empty')];
  });
}

export default {
  id: 'drills',
  title: 'nav.drills',
  tiers: ['city', 'ministry', 'national'],
  role: 'viewer',
  async render(root, params, ctx) {
    if (params[0]) return renderDetail(root, params[0], ctx);
    head(root, 'nav.drills', 'b.drill.lead');
    if (hasRole(ctx.me, 'reviewer')) {
      const err = h('div');
      const btn = h('button', { type: 'button', class: 'primary', testid: 'drill-start' }, t('b.drill.start'));
      btn.addEventListener('click', async () => {
        clear(err);
        btn.disabled = true;
        try {
          const r = await api('POST', '/api/v1/drills', {}, { key: newKey() });
          ctx.go('drills/' + r.drill);
        } catch (e) {
          err.appendChild(errorBox(e));
          btn.disabled = false;
        }
      });
      root.appendChild(h('div', { class: 'card' }, btn, err));
    }
    await live(root, ctx, 5000, async () => {
      const { items, more } = await apiAll('/api/v1/drills', 'drills');
      items.sort((a, b) => Date.parse(b.started) - Date.parse(a.started));
      return [
        cards(['b.drill.started', 'b.col.scenarios', 'b.col.units', 'b.drill.window_col', 'b.drill.result'],
          items.map(drillRow), 'drills-table', 'b.drill.none'),
        more ? h('p', { class: 'notice' }, t('b.more')) : null];
    });
  },
};
