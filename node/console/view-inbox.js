// view-inbox.js - "Advisories received": the advisories delivered here (at
// an agency, and at a city or ministry an advisory addressed to it),
// unread first; "mark read" sends a signed read receipt up to the author.
// Those this node published are in view-advisories.js, not here.
import { api, listInto, clear, errorBox, h, newKey, t, table, timeEl } from './lib.js';

function unreadInNav(n) {
  const a = document.querySelector('[data-testid=nav-inbox]');
  if (a) a.textContent = t('nav.inbox') + (n ? ' (' + n + ')' : '');
}

export default {
  id: 'inbox',
  title: 'nav.inbox',
  tiers: ['agency', 'city', 'ministry'],
  role: 'viewer',
  async render(root, params, ctx) {
    const box = h('div');
    root.append(h('h1', null, t('nav.inbox')), box);
    async function load() {
      const res = await listInto(box, '/api/v1/advisories', 'advisories', 2000);
      if (!res) return;
      const list = res.items.filter((a) => a.author !== ctx.node).sort((a, b) =>
        (a.read_at ? 1 : 0) - (b.read_at ? 1 : 0) ||
        Date.parse(b.received_at || b.created) - Date.parse(a.received_at || a.created));
      unreadInNav(list.filter((a) => !a.read_at).length);
      clear(box).appendChild(table(['col.severity', 'col.kind', 'col.title', 'col.text', 'col.from', 'inbox.received', 'inbox.read'],
        list.map((a) => row(a)), 'advisories-inbox', 'inbox.none'));
    }
    function row(a) {
      const adv = a.advisory || {};
      const read = !!a.read_at;
      const mark = h('button', { type: 'button', testid: 'advisory-mark-read', class: 'primary small' }, t('inbox.mark_read'));
      const cell = h('td', null, read ? [t('inbox.read_at'), ' ', timeEl(a.read_at)] : mark);
      mark.addEventListener('click', async () => {
        mark.disabled = true;
        try {
          await api('POST', '/api/v1/advisories/' + a.id + '/read', {}, { key: newKey() });
          await load();
        } catch (e) {
          mark.disabled = false;
          cell.appendChild(errorBox(e));
        }
      });
      return h('tr', { testid: 'advisory-row', class: read ? 'read' : 'unread', dataset: { id: a.id, read: read ? 'yes' : 'no' } },
        h('td', null, h('span', { class: 'level level-' + (adv.severity || 0) }, String(adv.severity ?? '—'))),
        h('td', null, t('intel.' + adv.kind) === 'intel.' + adv.kind ? adv.kind : t('intel.' + adv.kind), a.drill ? [' ', t('now.drill')] : null),
        h('td', { class: 'free-text', testid: 'advisory-title' }, adv.title || ''),
        h('td', { class: 'free-text adv-text' }, adv.text || ''),
        h('td', null, a.author),
        h('td', null, timeEl(a.received_at || a.created)),
        cell);
    }
    await load();
    ctx.every(15000, load);
  },
};
