// view-queue.js - the review queue of a city, a ministry or the national
// center (R-REVIEW, R-LEVEL-3, R-CLOSE-REVIEW; at the national node also
// R-LATE-REVIEW): what waits for this node's reviewer, with the time left on
// each review. The review itself is made on the incident's page.
import { apiAll, countdown, h, idShort, levelBadge, link, t } from './lib.js';
import { cards, dueOf, head, isLate, live, queueKind } from './supervise.js';

// queueDue - the clock of a queued incident: its review due time while
// unmet (a closure review has no clock of its own)
export function queueDue(inc) {
  const d = dueOf(inc, 'review');
  return inc.state !== 'closing' && d && !d.met ? d : null;
}

// queueRow - one row of a queue table (also used by the late-review view)
export function queueRow(inc, testid) {
  const due = queueDue(inc);
  return h('tr', { testid, dataset: { id: inc.id } },
    h('td', null, due ? countdown(due, 'queue-clock') : h('span', { class: 'none' }, t('b.queue.no_clock'))),
    h('td', null, levelBadge(inc.level),
      inc.requested_level ? h('span', { class: 'sup-req' }, ' → ', levelBadge(inc.requested_level)) : null),
    h('td', null, inc.author),
    h('td', null, link('incident/' + encodeURIComponent(inc.id),
      inc.drill ? h('span', { class: 'sup-drill' }, t('now.drill'), ' ') : null,
      h('span', { testid: 'queue-title' }, inc.title || '—')), ' ', idShort(inc.id)),
    h('td', null, t('b.queue.why.' + queueKind(inc))));
}

// byDue - the most urgent review first; closure reviews last
export function byDue(a, b) {
  const da = queueDue(a), db = queueDue(b);
  if (!da || !db) return (da ? -1 : 0) + (db ? 1 : 0);
  return Date.parse(da.due) - Date.parse(db.due);
}

export const QUEUE_COLS = ['b.col.left', 'col.level', 'col.author', 'col.title', 'b.col.review'];

export default {
  id: 'queue',
  title: 'nav.queue',
  tiers: ['city', 'ministry', 'national'],
  role: 'viewer',
  async render(root, params, ctx) {
    head(root, 'nav.queue', ctx.tier === 'national' ? 'b.queue.lead_national' : 'b.queue.lead');
    await live(root, ctx, 10000, async () => {
      const { items, more } = await apiAll('/api/v1/incidents?filter=queue', 'incidents');
      items.sort(byDue);
      return [
        h('p', { class: 'sup-count', testid: 'queue-count' }, t('b.queue.count', { n: items.length })),
        cards(QUEUE_COLS, items.map((i) => queueRow(i, 'queue-row')), 'queue-table', 'b.queue.empty'),
        more ? h('p', { class: 'notice' }, t('b.more')) : null,
        ctx.tier === 'national' && items.some(isLate) ? h('p', null, link('late', t('b.queue.see_late'))) : null];
    });
  },
};
