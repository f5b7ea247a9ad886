// view-drills-in.js - "Drill notices" at an agency: the R-DRILL notices
// delivered here with their 1-hour clock, answered or not; "answer" opens
// the report form as a drill report for that notice.
import { listInto, clear, countdown, h, hasRole, link, t, table, timeEl } from './lib.js';

// answered - the notice has its drill report (the node gives answered_at;
// answered_by, the report's id, where known)
function answered(n) { return !!(n.answered_at || n.answered_by); }

export default {
  id: 'drills-in',
  title: 'nav.drills_in',
  tiers: ['agency'],
  role: 'viewer',
  async render(root, params, ctx) {
    const box = h('div');
    root.append(h('h1', null, t('nav.drills_in')), h('p', { class: 'muted' }, t('drin.help')), box);
    async function load() {
      const res = await listInto(box, '/api/v1/drill-notices', 'notices', 2000);
      if (!res) return;
      const list = res.items.slice().sort((a, b) =>
        (answered(a) ? 1 : 0) - (answered(b) ? 1 : 0) || Date.parse(a.due || 0) - Date.parse(b.due || 0) ||
        ((a.notice || {}).scenario || 0) - ((b.notice || {}).scenario || 0));
      clear(box).appendChild(table(['drin.scenario', 'col.level', 'col.text', 'drin.received', 'drin.clock', 'drin.answer'],
        list.map(row), 'drill-notices', 'drin.none'));
    }
    function row(n) {
      const no = n.notice || {};
      const answer = answered(n)
        ? h('span', { class: 'st-met' }, t('drin.answered'), ' ', n.answered_at ? timeEl(n.answered_at) : null,
          n.answered_by ? [' ', link('incident/' + n.answered_by, n.answered_by.slice(0, 8) + '…')] : null)
        : hasRole(ctx.me, 'reporter')
          ? h('a', { href: '#/file/drill/' + n.id, class: 'button primary', testid: 'drill-answer' }, t('drin.answer_btn'))
          : h('span', { class: 'st-warn' }, t('drin.unanswered'));
      return h('tr', { testid: 'drill-notice-row', dataset: { id: n.id, answered: answered(n) ? 'yes' : 'no' } },
        h('td', null, String(no.scenario ?? '—')),
        h('td', null, h('span', { class: 'level level-' + (no.level || 0) }, no.level ? 'L' + no.level : '—')),
        h('td', { class: 'free-text' }, no.text || ''),
        h('td', null, timeEl(n.received_at || n.created)),
        h('td', null, answered(n) ? h('span', { class: 'none' }, '—') : countdown({ deadline: 'drill', due: n.due, met: null, state: 'open' }, 'drill-clock')),
        h('td', null, answer));
    }
    await load();
    ctx.every(10000, load);
  },
};
