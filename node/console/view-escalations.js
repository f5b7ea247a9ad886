// view-escalations.js - the escalations the national center sent
// (R-ESC-CISO, R-ESC-NATIONAL, R-ESC-CI, R-PDPA): for each incident with
// "escalated" set, each escalation notice from its history, to whom, when,
// and when the recipient stored it (the "delivered" and "receipt" events of
// the same message).
import { apiAll, h, idShort, levelBadge, link, t, timeEl } from './lib.js';
import { cards, head, live } from './supervise.js';

// escalations - the escalation notices of inc, each with its recipient
// and delivery times, in time order
export function escalations(inc) {
  const hist = inc.history || [];
  return hist.filter((e) => e.what === 'escalation').map((e) => {
    const later = hist.filter((x) => x.msg === e.msg && x.what !== 'escalation');
    const delivered = later.find((x) => x.what === 'delivered');
    const receipt = later.find((x) => x.what === 'receipt');
    return {
      msg: e.msg, at: e.at, detail: e.detail || '',
      rule: (e.detail || '').split(':')[0],
      to: (delivered || receipt || {}).node || null,
      delivered: delivered ? delivered.at : null,
      receipt: receipt ? receipt.at : null,
    };
  }).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

// escalationRows - the rows of one incident
function escalationRows(inc) {
  return escalations(inc).map((e, i) => h('tr', {
    testid: 'escalation-row',
    dataset: { incident: inc.id, msg: e.msg, delivered: e.delivered || e.receipt ? 'yes' : 'no' },
  },
  h('td', null, i === 0 ? [levelBadge(inc.level), ' ',
    link('incident/' + encodeURIComponent(inc.id), inc.drill ? t('now.drill') + ' ' : '', inc.title || '—'),
    h('div', { class: 'sup-sub' }, inc.author, ' ', idShort(inc.id))] : null),
  h('td', null, h('strong', null, e.rule), h('div', { class: 'sup-sub' }, e.detail)),
  h('td', null, e.to || h('span', { class: 'none' }, t('b.esc.not_yet'))),
  h('td', null, timeEl(e.at)),
  h('td', null, e.delivered || e.receipt ? timeEl(e.delivered || e.receipt)
    : h('span', { class: 'sup-down' }, t('b.esc.waiting')))));
}

export default {
  id: 'escalations',
  title: 'nav.escalations',
  tiers: ['national'],
  role: 'viewer',
  async render(root, params, ctx) {
    head(root, 'nav.escalations', 'b.esc.lead');
    await live(root, ctx, 10000, async () => {
      const { items, more } = await apiAll('/api/v1/incidents', 'incidents');
      const esc = items.filter((i) => (i.escalated || []).length)
        .sort((a, b) => Date.parse(b.reported_at) - Date.parse(a.reported_at));
      return [
        cards(['b.col.incident', 'b.esc.rule', 'b.esc.to', 'b.esc.sent', 'col.delivered'],
          esc.flatMap(escalationRows), 'escalations-table', 'b.esc.none'),
        more ? h('p', { class: 'notice' }, t('b.more')) : null];
    });
  },
};
