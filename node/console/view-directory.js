// view-directory.js - the signed directory in force at this node: every
// node, its tier, parent, city, sector, office role, contact, key
// fingerprint and validity. Enrolment, rotation and revocation need the
// national root key, which no node holds: they stay in relayctl, run
// offline, and this view says which commands.
import { api, h, nodeNow, t, timeEl } from './lib.js';
import { cards, head } from './supervise.js';

// fingerprint - the first 16 hex digits of a key, in groups of four
function fingerprint(key) {
  return (key || '').slice(0, 16).replace(/(.{4})(?=.)/g, '$1 ');
}

// validity - the entry's validity period, when its key took effect, and
// whether it is revoked or expired (on the node's clock)
function validity(n) {
  if (n.revoked) return h('span', { class: 'sup-down' }, t('b.dir.revoked'), ' ', timeEl(n.revoked));
  if (n.valid_until && Date.parse(n.valid_until) < nodeNow())
    return h('span', { class: 'sup-down' }, t('b.dir.expired'), ' ', timeEl(n.valid_until));
  return h('span', null, h('span', { class: 'sup-up' }, t('b.dir.valid')),
    n.valid_from ? h('div', { class: 'sup-sub' }, t('b.dir.from'), ' ', timeEl(n.valid_from)) : null,
    n.valid_until ? h('div', { class: 'sup-sub' }, t('b.dir.until'), ' ', timeEl(n.valid_until)) : null,
    n.key_from ? h('div', { class: 'sup-sub' }, t('b.dir.key_from'), ' ', timeEl(n.key_from)) : null);
}

const COMMANDS = [
  'relayctl keygen /etc/relay/ag-new.key',
  'relayctl -c ncert.conf enrol --root /secure/root.key --id ag-new --tier agency --parent taipei --city taipei --key <public key> --out ag-new.directory',
  'relayctl -c ncert.conf rotate --root /secure/root.key --id ag-x --key <new public key>',
  'relayctl -c ncert.conf revoke --root /secure/root.key --id ag-x',
  'relayctl -c any.conf dir list',
];

export default {
  id: 'directory',
  title: 'nav.directory',
  tiers: ['agency', 'city', 'ministry', 'national', 'office'],
  role: 'viewer',
  async render(root, params, ctx) {
    head(root, 'nav.directory');
    const dir = await api('GET', '/api/v1/directory');
    root.appendChild(h('p', { class: 'sup-lead', testid: 'directory-seq' }, t('b.dir.seq', { seq: dir.seq, n: dir.nodes.length })));
    const rows = dir.nodes.map((n) => h('tr', { testid: 'directory-row', dataset: { node: n.id, tier: n.tier } },
      h('td', null, h('strong', null, n.id), n.id === ctx.node ? h('span', { class: 'sup-sub' }, ' ', t('b.dir.self')) : null),
      h('td', null, t('tier.' + n.tier)),
      h('td', null, n.parent || '—'),
      h('td', null, n.city || '—'),
      h('td', null, n.sector && n.sector !== 'none' ? t('sector.' + n.sector) : '—'),
      h('td', null, n.role && n.role !== 'none' ? t('b.role.' + n.role) : '—'),
      h('td', null, n.contact || '—'),
      h('td', null, h('code', { class: 'sup-key', title: n.key }, fingerprint(n.key)),
        n.old_keys ? h('div', { class: 'sup-sub' }, t('b.dir.old_keys', { n: n.old_keys })) : null),
      h('td', null, validity(n))));
    root.appendChild(cards(['col.node', 'b.dir.tier', 'b.dir.parent', 'b.dir.city', 'b.dir.sector', 'b.dir.role',
      'b.dir.contact', 'b.dir.key', 'b.dir.validity'], rows, 'directory-table'));
    root.appendChild(h('div', { class: 'card sup-relayctl', testid: 'directory-relayctl' },
      h('h2', null, t('b.dir.changes')),
      h('p', null, t('b.dir.changes_why')),
      h('pre', { class: 'sup-text' }, COMMANDS.join('\n'))));
  },
};
