// view-links.js - "Links": each parent and child of this node, connected or
// since when not, its outbox and held messages, clock skew and last ack.
import { clear, errorBox, h, t, table, timeEl, TIERS } from './lib.js';

function skew(l) {
  if (typeof l.clock_skew_ms !== 'number') return h('span', { class: 'none' }, '—');
  const big = Math.abs(l.clock_skew_ms) >= 60000;
  return h('span', { class: big ? 'st-warn' : null },
    t('links.skew_ms', { ms: l.clock_skew_ms }),
    l.clock_skew_measured ? [' · ', t('links.measured'), ' ', timeEl(l.clock_skew_measured)] : null);
}

function row(l) {
  const down = l.down_since || l.since;
  const conn = l.connected
    ? h('span', { class: 'st-met link-state' }, t('links.connected'))
    : h('span', { class: 'st-overdue link-state' }, t('links.disconnected'),
      down ? [' ', t('links.since'), ' ', timeEl(down)] : [' ', t('links.never')]);
  return h('tr', { testid: 'link-row', dataset: { peer: l.peer, connected: l.connected ? 'yes' : 'no' } },
    h('td', null, t(l.direction === 'up' ? 'links.parent' : 'links.child')),
    h('td', null, h('strong', null, l.peer)),
    h('td', null, conn, l.last_seen ? h('div', { class: 'muted' }, t('links.last_seen'), ' ', timeEl(l.last_seen)) : null),
    h('td', { class: l.outbox ? 'st-warn' : null }, String(l.outbox ?? '—')),
    h('td', { class: l.held ? 'st-overdue' : null }, String(l.held ?? '—')),
    h('td', null, skew(l)),
    h('td', null, timeEl(l.last_ack), typeof l.acked === 'number' ? h('div', { class: 'muted' }, t('links.acked', { n: l.acked })) : null));
}

export default {
  id: 'links',
  title: 'nav.links',
  tiers: TIERS,
  role: 'viewer',
  async render(root, params, ctx) {
    const box = h('div', { testid: 'links' });
    const note = h('div');
    root.append(h('h1', null, t('nav.links')), note, box);
    function paint(status) {
      const links = (status.links || []).slice().sort((a, b) =>
        (a.direction === 'up' ? 0 : 1) - (b.direction === 'up' ? 0 : 1) || a.peer.localeCompare(b.peer));
      clear(box).appendChild(table(['links.direction', 'links.peer', 'links.connection', 'links.outbox', 'links.held',
        'links.skew', 'links.last_ack'], links.map(row), 'links-table', 'links.none'));
    }
    paint(ctx.status);
    ctx.every(5000, async () => {
      try {
        paint(await ctx.refreshStatus());
        clear(note);
      } catch (e) {
        clear(note).appendChild(errorBox(e));
      }
    });
  },
};
