// The console's tenancy pages: the login page, the tenant switcher, the
// usage and entitlement (licence) pages and the audit viewer. Loaded
// before app.js, whose helpers (el, main, answer, authHeaders, render)
// these functions call when they run.
'use strict';

// --- credentials --------------------------------------------------------------------
//
// A signed-in credential is {token, tenant, subject, role, expires}. They
// are kept in the browser's localStorage under knhk-credentials, so that
// the tenant switcher offers every tenant one has signed in to; the one
// in use is knhk-active (an index). For plain page loads its token is
// posted once to /console/api/login, which answers with a short HttpOnly
// session cookie (a knhk token is too big for a cookie); a server
// without that route gets the token as the knhk-token cookie instead.

function credentials() {
  try { return JSON.parse(localStorage.getItem('knhk-credentials') || '[]'); } catch (e) { return []; }
}

async function saveCredentials(cs, active) {
  localStorage.setItem('knhk-credentials', JSON.stringify(cs));
  localStorage.setItem('knhk-active', String(active));
  const c = cs[active];
  document.cookie = 'knhk-token=; path=/; max-age=0; SameSite=Strict';
  if (!c) {
    await fetch('/console/api/logout', { method: 'POST' }).catch(() => {});
    return;
  }
  const r = await fetch('/console/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: c.token }) }).catch(() => null);
  if (!r || !r.ok) document.cookie = 'knhk-token=' + encodeURIComponent(c.token) + '; path=/; SameSite=Strict';
}

function activeCredential() {
  const cs = credentials();
  return cs[Number(localStorage.getItem('knhk-active') || 0)] || null;
}

function activeToken() {
  const c = activeCredential();
  return c ? c.token : sessionStorage.getItem('knhk-token');
}

// useToken keeps a token given in the old token box, unchecked.
function useToken(token) {
  sessionStorage.setItem('knhk-token', token);
}

// signIn checks token against the server (GET /console/api/whoami) and,
// when it is accepted, keeps it and makes it the active credential.
async function signIn(token) {
  const r = await fetch('/console/api/whoami', { headers: { 'Authorization': 'Bearer ' + token } });
  const text = await r.text();
  if (!r.ok) {
    let msg = text;
    try { msg = JSON.parse(text).message || text; } catch (e) { /* not JSON */ }
    throw new Error('the server refused this token: ' + msg);
  }
  const who = JSON.parse(text);
  const c = { token, tenant: who.tenant, subject: who.subject, role: who.role, expires: who.expires || '' };
  const cs = credentials().filter(x => !(x.tenant === c.tenant && x.subject === c.subject));
  cs.push(c);
  await saveCredentials(cs, cs.length - 1);
  return c;
}

async function signOut() {
  const cs = credentials();
  cs.splice(Number(localStorage.getItem('knhk-active') || 0), 1);
  sessionStorage.removeItem('knhk-token');
  await fetch('/console/api/logout', { method: 'POST' }).catch(() => {});
  await saveCredentials(cs, 0);
}

// renderSwitcher fills the header's tenant switcher with the kept
// credentials; choosing one makes it the active credential.
function renderSwitcher() {
  const cs = credentials();
  const box = document.getElementById('tenant-box');
  const sel = document.getElementById('tenant-switch');
  box.hidden = cs.length === 0;
  const active = Number(localStorage.getItem('knhk-active') || 0);
  sel.replaceChildren(...cs.map((c, i) => el('option', { value: String(i), selected: i === active },
    c.tenant + ' (' + (c.role || 'token') + (c.subject ? ' ' + c.subject : '') + ')')));
  sel.onchange = async () => { await saveCredentials(credentials(), Number(sel.value)); render(); };
  const who = cs[active];
  document.getElementById('nav-login').textContent = who ? 'Sign in to another tenant' : 'Sign in';
}

// --- login ---------------------------------------------------------------------------

function loginPage() {
  const input = el('input', { id: 'login-token', type: 'password', autocomplete: 'off', size: 60, placeholder: 'a token of knhk tenant create or knhk tenant token' });
  const msg = el('p', { id: 'login-message' });
  const form = el('form', { id: 'login-form', class: 'card' },
    el('h2', {}, 'Sign in with a bearer token'),
    el('p', { class: 'muted' }, 'Paste a token (KNHK_TOKEN). It is checked with the server, then kept in this browser for the tenant switcher.'),
    el('label', {}, 'Token ', input), ' ', el('button', { type: 'submit', id: 'login-submit' }, 'Sign in'), msg);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    try {
      const c = await signIn(input.value.trim());
      msg.className = 'ok';
      msg.textContent = 'Signed in to tenant ' + c.tenant + ' as ' + (c.subject || 'the shared token') + ' (' + c.role + ').';
      location.hash = '#/';
    } catch (err) {
      msg.className = 'error';
      msg.textContent = err.message;
    }
  });
  const kept = credentials();
  const list = el('section', { class: 'card', id: 'signed-in' }, el('h2', {}, 'Signed in'),
    kept.length ? el('ul', {}, kept.map(c => el('li', {}, c.tenant + ' — ' + c.role + (c.subject ? ' ' + c.subject : '') + (c.expires ? ', until ' + c.expires : ''))))
      : el('p', { class: 'muted' }, 'Nowhere yet.'),
    kept.length ? el('button', { id: 'sign-out', onclick: async () => { await signOut(); render(); } }, 'Sign out of the active tenant') : null);
  main(el('h1', {}, 'Sign in'), form, list);
  input.focus();
}

// --- usage and entitlement -----------------------------------------------------------

// parseMetrics reads Prometheus text into [{name, labels, value}].
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

function labelText(labels) {
  return Object.entries(labels).map(([k, v]) => k + '=' + v).join(' ');
}

function fmtNumber(v) {
  return Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(3);
}

function tenantTitle(what) {
  const c = activeCredential();
  return el('h1', {}, what, c ? el('span', { class: 'muted' }, ' — tenant ' + c.tenant) : null);
}

async function usagePage() {
  const m = main(tenantTitle('Usage'));
  try {
    const ms = parseMetrics(await getText('/metrics')).filter(x => x.name.startsWith('knhk_') && !x.name.endsWith('_bucket') &&
      !x.name.startsWith('knhk_license_') || /^knhk_license_(transitions|log_bytes|task_seconds)_total$/.test(x.name));
    m.append(el('section', { class: 'card' },
      el('p', { class: 'muted' }, 'This tenant\'s own counters (its /metrics): transitions, task and accelerator time, storage written. The signed monthly report is knhk usage report.'),
      el('table', { id: 'usage' }, el('tr', {}, el('th', {}, 'metric'), el('th', {}, 'labels'), el('th', {}, 'value')),
        ms.map(x => el('tr', { 'data-metric': x.name }, el('td', { class: 'mono' }, x.name), el('td', { class: 'mono' }, labelText(x.labels)), el('td', {}, fmtNumber(x.value)))))));
  } catch (err) { m.append(el('p', { class: 'error', id: 'usage-error' }, err.message)); }
}

async function licensePage() {
  const m = main(tenantTitle('Licence'));
  try {
    const ms = parseMetrics(await getText('/metrics')).filter(x => x.name.startsWith('knhk_license_'));
    const get = n => ms.find(x => x.name === n);
    if (!get('knhk_license_expiry_timestamp_seconds')) {
      m.append(el('section', { class: 'card', id: 'entitlement' }, el('p', {}, 'No licence applies to this tenant (knhk serve --license, or knhk tenant set --license).')));
      return;
    }
    const exp = get('knhk_license_expiry_timestamp_seconds');
    const used = get('knhk_license_month_transitions');
    const limit = get('knhk_license_month_transitions_limit');
    const rows = [
      ['customer', exp.labels.customer || ''],
      ['tenant', exp.labels.tenant || ''],
      ['expires', new Date(exp.value * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')],
      ['transitions this month', used ? fmtNumber(used.value) + (limit ? ' of ' + fmtNumber(limit.value) : ' (no limit)') : ''],
    ];
    for (const x of ms) {
      if (/_limit$/.test(x.name) && x.name !== 'knhk_license_month_transitions_limit') rows.push([x.name.replace(/^knhk_license_/, '').replace(/_limit$/, ''), fmtNumber(x.value)]);
    }
    const sec = el('section', { class: 'card', id: 'entitlement' },
      el('table', {}, rows.map(([k, v]) => el('tr', { 'data-field': k }, el('th', {}, k), el('td', {}, v)))));
    if (used && limit && limit.value > 0) {
      const pct = Math.min(100, 100 * used.value / limit.value);
      sec.append(el('div', { class: 'meter', title: pct.toFixed(1) + '%' }, el('div', { style: 'width:' + pct.toFixed(1) + '%' })));
    }
    m.append(sec);
  } catch (err) { m.append(el('p', { class: 'error', id: 'license-error' }, err.message)); }
}

// --- audit ----------------------------------------------------------------------------

async function auditPage() {
  const m = main(tenantTitle('Audit log'));
  let ev;
  try {
    ev = JSON.parse(await getText('/audit/export?format=json'));
  } catch (err) {
    m.append(el('p', { class: 'error', id: 'audit-error' }, err.message));
    return;
  }
  const f = ev.found || {};
  m.append(el('section', { class: 'card', id: 'audit-verdict' },
    f.problem ? el('p', { class: 'error' }, 'First bad record: ' + f.problem.Seq + ': ' + f.problem.Reason)
      : el('p', { class: 'ok' }, 'The chain of ' + f.records + ' records verifies (' + f.redacted + ' of other tenants redacted); ' +
        f.anchors + ' anchors match it; ' + f.proved + ' proved in the receipt log' + (f.checkpoint ? ' (checkpoint of size ' + f.checkpoint + ')' : '') + '.'),
    f.proof_note ? el('p', { class: 'muted' }, f.proof_note) : null,
    el('p', {}, 'Evidence report: ', download('json'), ' ', download('csv'), ' ', download('html'),
      el('span', { class: 'muted' }, ' — check it offline with knhk audit verify --evidence FILE --trust SIGNER.pub'))));
  m.append(el('section', { class: 'card' }, el('h2', {}, 'SOC 2 common criteria'),
    el('table', { id: 'audit-criteria' }, el('tr', {}, el('th', {}, 'criterion'), el('th', {}, 'evidenced by'), el('th', {}, 'records')),
      ev.criteria.map(c => el('tr', { 'data-criterion': c.id }, el('td', {}, c.id), el('td', {}, c.title + ': ' + c.covers), el('td', {}, String(c.records.length)))))));
  const filter = el('input', { id: 'audit-filter', placeholder: 'filter: subject, action, target, result' });
  const table = el('table', { id: 'audit-records' });
  const rows = ev.records.filter(e => e.record).reverse();
  const fill = () => {
    const q = filter.value.trim().toLowerCase();
    table.replaceChildren(el('tr', {}, ['seq', 'time', 'subject', 'role', 'credential', 'action', 'targets', 'from', 'result', 'criteria'].map(h => el('th', {}, h))),
      ...rows.filter(e => !q || JSON.stringify(e.record).toLowerCase().includes(q)).map(e => {
        const r = e.record;
        return el('tr', { 'data-seq': String(r.seq), class: r.result === 'ok' ? '' : 'refused' },
          el('td', {}, String(r.seq)), el('td', { class: 'mono' }, r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')), el('td', {}, r.subject),
          el('td', {}, r.role), el('td', {}, r.credential), el('td', { class: 'mono' }, r.action), el('td', { class: 'mono' }, (r.targets || []).join(' ')),
          el('td', { class: 'mono' }, r.remote), el('td', {}, r.result + (r.detail ? ': ' + r.detail : '')), el('td', {}, (e.criteria || []).join(' ')));
      }));
  };
  filter.addEventListener('input', fill);
  fill();
  m.append(el('section', { class: 'card' }, el('h2', {}, 'Records, newest first'), filter, table));
}

// download returns a link that fetches the export in format with the
// active credential and saves it.
function download(format) {
  return el('a', { href: '#/audit', id: 'audit-download-' + format, onclick: async ev => {
    ev.preventDefault();
    const r = await fetch('/audit/export?format=' + format, { headers: authHeaders() });
    const blob = await r.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: 'knhk-audit.' + format });
    document.body.append(a);
    a.click();
    a.remove();
  } }, format);
}
