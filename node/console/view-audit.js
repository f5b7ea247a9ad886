// view-audit.js - "Audit": verify this node's hash chain and show its head.
import { api, clear, errorBox, h, t, field, TIERS } from './lib.js';

export default {
  id: 'audit',
  title: 'nav.audit',
  tiers: TIERS,
  role: 'viewer',
  async render(root) {
    const btn = h('button', { type: 'button', class: 'primary', testid: 'audit-verify' }, t('audit.verify'));
    const out = h('div', { testid: 'audit-result' });
    root.append(h('h1', null, t('nav.audit')), h('p', { class: 'muted' }, t('audit.help')), btn, out);
    async function verify() {
      btn.disabled = true;
      clear(out);
      try {
        const v = await api('GET', '/api/v1/audit/verify');
        // the signed head: ask for the entries after the last one (none come back)
        const e = await api('GET', '/api/v1/audit/entries?from=' + ((v.total || v.entries || 0) + 1));
        out.append(
          h('div', { class: v.intact ? 'ok' : 'error', testid: 'audit-status', dataset: { intact: v.intact ? 'yes' : 'no' } },
            h('strong', null, t(v.intact ? 'audit.intact' : 'audit.broken')), ' ',
            t('audit.checked', { n: v.entries, total: v.total }),
            v.first_bad !== null && v.first_bad !== undefined ? [' ', t('audit.first_bad', { n: v.first_bad })] : null),
          h('div', { class: 'card', testid: 'audit-head', dataset: { seq: String(e.seq) } },
            field('audit.seq', String(e.seq)),
            field('audit.head', h('code', { class: 'hex' }, e.head || '—'))));
      } catch (err) {
        out.appendChild(errorBox(err));
      } finally {
        btn.disabled = false;
      }
    }
    btn.addEventListener('click', verify);
    await verify();
  },
};
