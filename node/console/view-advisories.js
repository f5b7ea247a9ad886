// view-advisories.js - R-ADVISORY at a city, a ministry or the national
// center: publish shared intelligence (one of the seven kinds) to this
// node's subtree, and for each advisory published here which units have
// received it and which have read it (#/advisories/ID lists every
// recipient with its delivery and read times).
import { api, apiAll, field, h, hasRole, idShort, link, submitOnce, t, timeEl } from './lib.js';
import { cards, head, live, select, subtree } from './supervise.js';

// the seven kinds of shared intelligence (RULES R-ADVISORY, proto IntelKind)
const KINDS = ['reconnaissance', 'vulnerability', 'control_bypass', 'malware', 'actual_damage',
  'mitigation', 'other_technical'];
const TIERS = ['agency', 'city', 'ministry', 'office'];
const SECTORS = ['none', 'defense', 'ict', 'energy', 'transport', 'finance', 'disaster_relief',
  'health', 'public_safety', 'government'];

// publishForm - the advisory form (node/form.c form_advisory); onDone(reply)
function publishForm(ctx, scopes, onDone) {
  const kind = select('advisory-kind', KINDS.map((k) => [k, t('b.kind.' + k)]), 'vulnerability');
  const severity = select('advisory-severity', [1, 2, 3, 4].map((l) => [l, t('b.level', { n: l })]), 2);
  const title = h('input', { testid: 'advisory-title', required: true, maxlength: 200 });
  const text = h('textarea', { testid: 'advisory-text', required: true, maxlength: 8192 });
  const scope = select('advisory-scope', scopes.map((s) => [s, s === ctx.node ? t('b.adv.scope_all', { n: s }) : s]), ctx.node);
  const tiers = TIERS.map((x) => h('input', { type: 'checkbox', value: x, testid: 'advisory-tier-' + x, checked: x === 'agency' }));
  const sector = select('advisory-sector', SECTORS.map((s) => [s, s === 'none' ? t('b.adv.every_sector') : t('sector.' + s)]), 'none');
  const form = h('form', { class: 'card sup-form', testid: 'advisory-form' },
    h('h2', null, t('b.adv.publish')),
    h('div', { class: 'sup-row' }, h('label', null, t('b.adv.kind'), ' ', kind),
      h('label', null, t('b.adv.severity'), ' ', severity)),
    h('label', null, t('b.adv.title'), title),
    h('label', null, t('b.adv.text'), text),
    h('fieldset', { class: 'sup-audience' }, h('legend', null, t('b.adv.audience')),
      h('label', null, t('b.adv.scope'), ' ', scope),
      h('div', { class: 'sup-row' }, t('b.adv.tiers'), ' ',
        tiers.map((c) => h('label', { class: 'sup-check' }, c, ' ', t('tier.' + c.value)))),
      h('label', null, t('b.adv.sector'), ' ', sector)),
    h('button', { type: 'submit', class: 'primary', testid: 'advisory-submit' }, t('b.adv.submit')));
  return submitOnce(form, async (key) => {
    const audience = { scope: scope.value, tiers: tiers.filter((c) => c.checked).map((c) => c.value) };
    if (sector.value !== 'none') audience.sector = sector.value;
    const r = await api('POST', '/api/v1/advisories', {
      kind: kind.value, severity: Number(severity.value), title: title.value, text: text.value, audience,
    }, { key });
    title.value = '';
    text.value = '';
    if (onDone) onDone(r);
    return h('div', { class: 'ok', testid: 'advisory-done', dataset: { id: r.id } },
      t('b.adv.done', { n: (r.to || []).length }), ' ', link('advisories/' + r.id, t('b.adv.open')));
  });
}

// countCell - "3 / 4" of the recipients (counts of the author's node)
function countCell(n, of) {
  if (typeof n !== 'number') return h('span', { class: 'none' }, '—');
  return h('span', { class: n === of ? 'sup-up' : null }, `${n} / ${of}`);
}

// sentRow - one advisory published here
function sentRow(m) {
  const a = m.advisory || {};
  const of = typeof m.recipients === 'number' ? m.recipients : (m.to || []).length;
  return h('tr', { testid: 'advisory-sent-row', dataset: { id: m.id } },
    h('td', null, timeEl(m.created)),
    h('td', null, t('b.kind.' + a.kind)),
    h('td', null, h('span', { class: 'level level-' + a.severity }, 'S' + a.severity)),
    h('td', null, link('advisories/' + encodeURIComponent(m.id), a.title || '—'), ' ', idShort(m.id)),
    h('td', { class: 'sup-num' }, String(of)),
    h('td', { class: 'sup-num', testid: 'advisory-delivered' }, countCell(m.delivered, of)),
    h('td', { class: 'sup-num', testid: 'advisory-read' }, countCell(m.read, of)));
}

// renderDetail - one advisory and every recipient's delivery and reading
async function renderDetail(root, id, ctx) {
  root.appendChild(h('p', null, link('advisories', '← ' + t('nav.advisories'))));
  await live(root, ctx, 5000, async () => {
    const r = await api('GET', '/api/v1/advisories/' + encodeURIComponent(id));
    const m = r.advisory || {};
    const a = m.advisory || {};
    const aud = a.audience || {};
    const rows = (r.recipients || []).map((x) => h('tr', {
      testid: 'recipient-row',
      dataset: { node: x.node, delivered: x.delivered_at ? 'yes' : 'no', read: x.read_at ? 'yes' : 'no' },
    }, h('td', null, x.node), h('td', null, timeEl(x.delivered_at)), h('td', null, timeEl(x.read_at))));
    return [
      h('h1', { testid: 'advisory-detail-title' }, a.title || '—'),
      h('div', { class: 'card' },
        field('b.adv.kind', t('b.kind.' + a.kind)),
        field('b.adv.severity', String(a.severity)),
        field('b.adv.author', m.author || '—'),
        field('b.adv.created', timeEl(m.created)),
        field('b.adv.audience', (aud.scope || m.author || '') + ' · ' +
          ((aud.tiers && aud.tiers.length ? aud.tiers : ['agency']).map((x) => t('tier.' + x)).join(', ')) +
          (aud.sector && aud.sector !== 'none' ? ' · ' + t('sector.' + aud.sector) : '')),
        m.drill ? field('b.adv.drill', t('now.drill')) : null,
        h('pre', { class: 'sup-text' }, a.text || '')),
      h('h2', null, t('b.adv.recipients'), ' ',
        h('span', { class: 'sup-sub' }, t('b.adv.summary', {
          d: rows.filter((x) => x.dataset.delivered === 'yes').length,
          r: rows.filter((x) => x.dataset.read === 'yes').length, n: rows.length }))),
      m.author && m.author !== ctx.node ? h('p', { class: 'notice' }, t('b.adv.not_here')) : null,
      cards(['b.col.unit', 'col.delivered', 'b.col.read'], rows, 'advisory-recipients', 'b.adv.no_recipients')];
  });
}

export default {
  id: 'advisories',
  title: 'nav.advisories',
  tiers: ['city', 'ministry', 'national'],
  role: 'viewer',
  async render(root, params, ctx) {
    if (params[0]) return renderDetail(root, params[0], ctx);
    head(root, 'nav.advisories');
    let reload = null;
    if (hasRole(ctx.me, 'reviewer')) {
      const dir = await api('GET', '/api/v1/directory');
      const scopes = [ctx.node].concat(subtree(dir.nodes, ctx.node)
        .filter((n) => n.tier === 'city' || n.tier === 'ministry').map((n) => n.id));
      root.appendChild(publishForm(ctx, scopes, () => reload && reload()));
    }
    root.appendChild(h('h2', null, t('b.adv.sent')));
    reload = await live(root, ctx, 5000, async () => {
      const { items, more } = await apiAll('/api/v1/advisories', 'advisories');
      const mine = items.filter((m) => m.author === ctx.node)
        .sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
      return [
        cards(['b.col.created', 'b.adv.kind', 'b.adv.severity', 'col.title', 'b.col.recipients',
          'col.delivered', 'b.col.read'], mine.map(sentRow), 'advisories-sent', 'b.adv.none'),
        more ? h('p', { class: 'notice' }, t('b.more')) : null];
    });
  },
};
