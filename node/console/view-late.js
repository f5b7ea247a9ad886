// view-late.js - the national center's late-review queue (R-LATE-REVIEW):
// incidents whose supervisor let the R-REVIEW due time pass without a
// review, which the national center may now review itself (node/view.c
// view_queue_reason marks them). Each row says how late the supervisor is.
import { apiAll, h, link, t } from './lib.js';
import { cards, head, isLate, live } from './supervise.js';
import { byDue, QUEUE_COLS, queueRow } from './view-queue.js';

export default {
  id: 'late',
  title: 'nav.late',
  tiers: ['national'],
  role: 'viewer',
  async render(root, params, ctx) {
    head(root, 'nav.late', 'b.late.lead');
    await live(root, ctx, 10000, async () => {
      const { items, more } = await apiAll('/api/v1/incidents?filter=queue', 'incidents');
      const late = items.filter(isLate).sort(byDue);
      return [
        cards(QUEUE_COLS.concat(['b.col.supervisor']),
          late.map((i) => {
            const row = queueRow(i, 'late-row');
            row.appendChild(h('td', null, i.target || '—'));
            return row;
          }), 'late-table', 'b.late.empty'),
        more ? h('p', { class: 'notice' }, t('b.more')) : null,
        h('p', null, link('queue', t('nav.queue')))];
    });
  },
};
