// view-support.js - R-SUPPORT at the national center: the running
// incidents whose report asks for support ("support_requested" in the
// report form), the R-SUPPORT due time (it runs from the national
// re-review), whether support was dispatched, and the dispatch form.
import { api, apiAll, countdown, h, hasRole, idShort, levelBadge, link, t, timeEl } from './lib.js';
import { cards, dueOf, head, isOpen, live, supportForm } from './supervise.js';

// what each incident's report asked for, by id (a report never changes)
const asked = new Map();

// supportAsked - the support_requested text of inc's report ('' for none)
async function supportAsked(inc) {
  if (!asked.has(inc.id)) {
    const r = await api('GET', '/api/v1/incidents/' + encodeURIComponent(inc.id));
    const rep = r.incident && r.incident.report && r.incident.report.report;
    asked.set(inc.id, (rep && rep.support_requested) || '');
  }
  return asked.get(inc.id);
}

// dispatched - when support was sent for inc, or null
function dispatched(inc) {
  const d = dueOf(inc, 'support');
  if (d && d.met) return d.met;
  const e = (inc.history || []).find((x) => x.what === 'support');
  return e ? e.at : null;
}

export default {
  id: 'support',
  title: 'nav.support',
  tiers: ['national'],
  role: 'viewer',
  async render(root, params, ctx) {
    head(root, 'nav.support', 'b.sup.lead');
    let openForm = null; // the incident whose dispatch form is open
    let reload = null;
    reload = await live(root, ctx, 10000, async () => {
      if (openForm) return undefined; // do not wipe what the operator is typing
      const { items, more } = await apiAll('/api/v1/incidents', 'incidents');
      const running = items.filter((i) => i.have_report && isOpen(i));
      const texts = await Promise.all(running.map(supportAsked));
      const rows = [];
      running.forEach((inc, k) => {
        if (!texts[k]) return;
        const due = dueOf(inc, 'support');
        const sent = dispatched(inc);
        const slot = h('div');
        const btn = hasRole(ctx.me, 'reviewer')
          ? h('button', { type: 'button', testid: 'support-open' }, t('b.sup.dispatch')) : null;
        if (btn) btn.addEventListener('click', () => {
          openForm = inc.id;
          btn.hidden = true;
          slot.appendChild(supportForm(inc, () => { openForm = null; setTimeout(() => reload && reload(), 1500); }));
        });
        rows.push(h('tr', { testid: 'support-row', dataset: { incident: inc.id, dispatched: sent ? 'yes' : 'no' } },
          h('td', null, levelBadge(inc.level), ' ', link('incident/' + encodeURIComponent(inc.id), inc.title || '—'),
            h('div', { class: 'sup-sub' }, inc.author, ' ', idShort(inc.id))),
          h('td', null, h('pre', { class: 'sup-text' }, texts[k])),
          h('td', null, inc.national_reviewed ? t('b.sup.reviewed') : h('span', { class: 'sup-down' }, t('b.sup.not_reviewed'))),
          h('td', null, sent ? [t('b.sup.sent_at'), ' ', timeEl(sent)] : due ? countdown(due) : h('span', { class: 'none' }, t('b.sup.no_clock'))),
          h('td', null, btn, slot)));
      });
      return [
        cards(['b.col.incident', 'b.sup.asked', 'b.sup.review', 'b.sup.due', 'b.sup.action'], rows, 'support-table', 'b.sup.none'),
        more ? h('p', { class: 'notice' }, t('b.more')) : null];
    });
  },
};
