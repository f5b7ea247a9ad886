// view-now.js - "Now": every open incident held here with its live
// deadline clocks, overdue first, then amber, then by the next due time;
// counts by level and state. Every node.
import { listInto, clear, dueState, h, levelBadge, stateLabel, t, TIERS, countdown, idShort } from './lib.js';

const CLOSED = ['closed', 'withdrawn'];
const RANK = { overdue: 0, warn: 1, open: 2, none: 3 };

// openDues - the due times of inc that still run, the next one first
export function openDues(inc) {
  return (inc.dues || []).filter((d) => ['overdue', 'warn', 'open'].includes(dueState(d)))
    .sort((a, b) => Date.parse(a.due) - Date.parse(b.due));
}

// worstOf - 'overdue', 'warn', 'open' or 'none': the worst of inc's open due times
export function worstOf(inc) {
  let w = 'none';
  for (const d of openDues(inc)) {
    const s = dueState(d);
    if (RANK[s] < RANK[w]) w = s;
  }
  return w;
}

// drillMark - "[演練]" / "[DRILL]" before a drill's title
export function drillMark(inc) {
  return inc.drill ? h('span', { class: 'drill-mark', testid: 'drill-mark' }, t('now.drill') + ' ') : null;
}

function sortKey(inc) {
  const next = openDues(inc)[0];
  return [RANK[worstOf(inc)], next ? Date.parse(next.due) : Infinity];
}

function row(inc, ctx) {
  const dues = openDues(inc);
  const clocks = h('div', { class: 'now-clocks' }, dues.length
    ? dues.map((d) => h('div', { class: 'now-clock' },
      h('span', { class: 'deadline', title: d.rule }, t('deadline.' + d.deadline)), ' ', countdown(d)))
    : h('span', { class: 'none' }, t('now.no_open_dues')));
  const tr = h('tr', { testid: 'incident-row', class: 'now-row', dataset: { id: inc.id, worst: worstOf(inc) } },
    h('td', { class: 'now-clock-cell' }, clocks),
    h('td', null, levelBadge(inc.level)),
    h('td', null, stateLabel(inc.state)),
    h('td', null, inc.author),
    h('td', { testid: 'incident-title', class: 'now-title' },
      drillMark(inc), h('a', { href: '#/incident/' + inc.id }, inc.title || '—'), ' ', idShort(inc.id)));
  tr.incident = inc;
  tr.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) return;
    ctx.go('incident/' + inc.id);
  });
  return tr;
}

function counts(list) {
  const byLevel = {}, byState = {};
  for (const inc of list) {
    byLevel[inc.level || 0] = (byLevel[inc.level || 0] || 0) + 1;
    byState[inc.state] = (byState[inc.state] || 0) + 1;
  }
  const c = (label, n, key) => h('span', { class: 'count', dataset: { key } }, label, ' ', h('strong', null, String(n)));
  return [
    c(t('now.total'), list.length, 'total'),
    c(t('now.overdue'), list.filter((i) => worstOf(i) === 'overdue').length, 'overdue'),
    list.length ? h('span', { class: 'count-group' }, t('col.level')) : null,
    Object.keys(byLevel).sort().map((l) => c(l === '0' ? t('now.level_none') : 'L' + l, byLevel[l], 'level-' + l)),
    list.length ? h('span', { class: 'count-group' }, t('col.state')) : null,
    Object.keys(byState).sort().map((s) => c(stateLabel(s), byState[s], 'state-' + s)),
  ];
}

export default {
  id: 'now',
  title: 'nav.now',
  tiers: TIERS,
  role: 'viewer',
  async render(root, params, ctx) {
    const countsBox = h('div', { class: 'counts', testid: 'now-counts' });
    const note = h('div');
    const body = h('tbody');
    const tbl = h('div', { class: 'table-wrap' }, h('table', { testid: 'now-incidents', class: 'now-table' },
      h('thead', null, h('tr', null, ['now.clocks', 'col.level', 'col.state', 'col.author', 'col.title']
        .map((k) => h('th', null, t(k))))), body));
    const empty = h('p', { class: 'empty', testid: 'now-empty', hidden: true }, t('now.none'));
    root.append(h('h1', null, t('nav.now')), countsBox, note, tbl, empty);

    async function load() {
      const res = await listInto(note, '/api/v1/incidents', 'incidents', 2000);
      if (!res) return;
      clear(note);
      if (res.more) note.appendChild(h('div', { class: 'notice' }, t('now.more', { n: res.items.length })));
      const list = res.items.filter((i) => !CLOSED.includes(i.state));
      list.sort((a, b) => {
        const ka = sortKey(a), kb = sortKey(b);
        return ka[0] - kb[0] || ka[1] - kb[1] || String(a.id).localeCompare(String(b.id));
      });
      clear(countsBox).append(...counts(list).flat().filter(Boolean));
      clear(body).append(...list.map((i) => row(i, ctx)));
      empty.hidden = list.length > 0;
      tbl.hidden = list.length === 0;
    }
    // every second: the worst state of each row follows the node's clock
    function tick() {
      let overdue = 0;
      for (const tr of body.children) {
        const w = worstOf(tr.incident);
        if (tr.dataset.worst !== w) tr.dataset.worst = w;
        if (w === 'overdue') overdue++;
      }
      const n = countsBox.querySelector('[data-key=overdue] strong');
      if (n && n.textContent !== String(overdue)) n.textContent = String(overdue);
    }
    await load();
    ctx.every(10000, load);
    ctx.every(1000, tick);
  },
};
