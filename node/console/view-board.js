// view-board.js - the subtree board of a city, a ministry or the national
// center: every unit below this node (from the directory), its incidents
// and their next due time, and whether the link to it is down and since
// when (status.links down_since, for this node's own children). Filters by unit,
// level and state, and a search over title, unit and id.
import { api, apiAll, clear, countdown, errorBox, h, idShort, levelBadge, link, stateLabel, t, timeEl } from './lib.js';
import { cards, head, isOpen, openDues, select, subtree } from './supervise.js';

const STATES = ['reported', 'reviewed', 'recovered', 'closing', 'closed', 'withdrawn'];

// matches - whether inc passes the level and state filters
function matches(inc, f) {
  if (f.level && String(inc.level) !== f.level) return false;
  return f.state === 'open' ? isOpen(inc) : f.state === 'all' || inc.state === f.state;
}

// found - whether the search text is in inc's title, unit or id
function found(inc, q) {
  return [inc.title, inc.author, inc.id].some((s) => (s || '').toLowerCase().includes(q));
}

// linkCell - the link to a child of this node: connected, or down since when
function linkCell(l) {
  if (!l) return h('span', { class: 'none', title: t('b.board.not_child') }, '—');
  if (l.connected) return h('span', { class: 'sup-up' }, t('b.board.connected'));
  return h('span', { class: 'sup-down', testid: 'board-offline' }, t('b.board.offline'),
    l.down_since ? [' ', t('b.board.since'), ' ', timeEl(l.down_since)] : null);
}

// incidentItem - one incident under its unit: level, state, next due, title
function incidentItem(inc) {
  const next = isOpen(inc) ? openDues(inc)[0] : null;
  return h('li', { testid: 'board-incident', dataset: { id: inc.id } },
    levelBadge(inc.level), ' ', h('span', { class: 'sup-state' }, stateLabel(inc.state)), ' ',
    next ? countdown(next) : null, ' ',
    link('incident/' + encodeURIComponent(inc.id), inc.drill ? t('now.drill') + ' ' : '', inc.title || '—'),
    ' ', idShort(inc.id));
}

export default {
  id: 'board',
  title: 'nav.board',
  tiers: ['city', 'ministry', 'national'],
  role: 'viewer',
  async render(root, params, ctx) {
    head(root, 'nav.board');
    const [dir, list] = await Promise.all([api('GET', '/api/v1/directory'),
      apiAll('/api/v1/incidents', 'incidents')]);
    let incidents = list.items;
    const units = subtree(dir.nodes, ctx.node).filter((n) => n.tier !== 'office');
    const f = { agency: '', level: '', state: 'open', q: '' };
    const fAgency = select('board-filter-agency', [['', t('b.board.all_units')]].concat(units.map((u) => [u.id, u.id])), '');
    const fLevel = select('board-filter-level', [['', t('b.board.all_levels')]].concat([1, 2, 3, 4].map((l) => [l, t('b.level', { n: l })])), '');
    const fState = select('board-filter-state', [['open', t('b.board.open')], ['all', t('b.board.all_states')]]
      .concat(STATES.map((s) => [s, stateLabel(s)])), 'open');
    const search = h('input', { type: 'search', testid: 'board-search', placeholder: t('b.board.search') });
    root.appendChild(h('div', { class: 'filters' },
      h('label', null, t('b.col.unit'), ' ', fAgency), h('label', null, t('col.level'), ' ', fLevel),
      h('label', null, t('col.state'), ' ', fState), h('label', null, search)));
    const body = h('div');
    const foot = h('p', { class: 'notice' }, t('b.more'));
    foot.hidden = !list.more;
    root.append(body, foot);

    const paint = () => {
      const links = new Map((ctx.status.links || []).filter((l) => l.direction === 'down').map((l) => [l.peer, l]));
      // a unit stays without incidents unless a level or a state is asked for
      const narrowed = f.level || f.state !== 'open';
      const rows = [];
      for (const u of units) {
        if (f.agency && u.id !== f.agency) continue;
        const named = !f.q || u.id.toLowerCase().includes(f.q);
        const mine = incidents.filter((i) => i.author === u.id && matches(i, f) && (named || found(i, f.q)));
        if ((narrowed || !named) && !mine.length) continue;
        const open = mine.filter(isOpen);
        const next = open.flatMap(openDues).sort((a, b) => Date.parse(a.due) - Date.parse(b.due))[0];
        const l = links.get(u.id);
        rows.push(h('tr', { testid: 'board-row', dataset: { agency: u.id, offline: l && !l.connected ? 'yes' : 'no' } },
          h('td', null, h('strong', null, u.id), h('div', { class: 'sup-sub' }, t('tier.' + u.tier),
            u.parent && u.parent !== ctx.node ? ' · ' + t('b.board.under', { p: u.parent }) : '')),
          h('td', { class: 'sup-num' }, String(open.length)),
          h('td', null, next ? countdown(next, 'board-next') : h('span', { class: 'none' }, '—')),
          h('td', null, linkCell(l)),
          h('td', null, mine.length ? h('ul', { class: 'sup-incidents' }, mine.map(incidentItem)) : null)));
      }
      clear(body).appendChild(cards(['b.col.unit', 'b.col.open', 'b.col.next', 'b.col.link', 'b.col.incidents'],
        rows, 'board-table', 'b.board.empty'));
    };
    const onFilter = () => {
      f.agency = fAgency.value; f.level = fLevel.value; f.state = fState.value;
      f.q = search.value.trim().toLowerCase();
      paint();
    };
    for (const e of [fAgency, fLevel, fState]) e.addEventListener('change', onFilter);
    search.addEventListener('input', onFilter);
    paint();
    ctx.every(10000, async () => {
      try {
        const again = await apiAll('/api/v1/incidents', 'incidents');
        incidents = again.items;
        foot.hidden = !again.more;
        paint();
      } catch (e) {
        clear(body).appendChild(errorBox(e));
      }
    });
  },
};
