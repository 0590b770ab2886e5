// The knhk web console: a small single-page application over the server's
// Connect API (JSON over HTTP POST) and the console's GET endpoints under
// /console/api/. No build step: this file is served as is.
'use strict';

const API = '/knhk.v1.KnhkService/';
const STATUSES = ['running', 'completed', 'failing', 'failed', 'cancelled', 'compensation-failed'];
let timer = null;   // the page's refresh timer
let route = '';     // the hash the page shows

// --- calling the server -----------------------------------------------------

function authHeaders(extra) {
  const h = Object.assign({}, extra || {});
  const t = activeToken(); // admin.js: the credential the tenant switcher chose
  if (t) h['Authorization'] = 'Bearer ' + t;
  return h;
}

async function answer(r) {
  const text = await r.text();
  if (r.status === 401) {
    if (!location.hash.startsWith('#/login')) location.hash = '#/login';
    let msg = 'the server needs a bearer token';
    try { msg = JSON.parse(text).message || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg + ': sign in');
  }
  if (!r.ok) {
    let msg = text;
    try { msg = JSON.parse(text).message || text; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return text;
}

// call invokes a Connect method with a JSON request and returns its JSON.
async function call(method, req) {
  const r = await fetch(API + method, {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(req || {}),
  });
  const text = await answer(r);
  return text ? JSON.parse(text) : {};
}

async function getJSON(path) {
  return JSON.parse(await answer(await fetch(path, { headers: authHeaders() })));
}

async function getText(path) {
  return answer(await fetch(path, { headers: authHeaders() }));
}

// --- building the page --------------------------------------------------------

// el makes an element: el('td', {class: 'mono'}, 'text', child, ...).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function main(...kids) {
  const m = document.getElementById('main');
  m.replaceChildren(...kids);
  return m;
}

function nanosToDate(ns) {
  if (!ns || ns === '0') return '';
  const ms = Number(BigInt(ns) / 1000000n);
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function statusBadge(s) {
  return el('span', { class: 'status ' + s, id: 'status' }, s);
}

function pretty(json) {
  if (json === undefined || json === null || json === '') return '';
  try { return JSON.stringify(typeof json === 'string' ? JSON.parse(json) : json, null, 2); } catch (e) { return String(json); }
}

function showError(where, err) {
  where.replaceChildren(el('p', { class: 'error' }, String(err.message || err)));
}

// --- cases ------------------------------------------------------------------------

function filtersFromHash() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  return { workflow: q.get('workflow') || '', status: q.get('status') || '', key: q.get('key') || '', after: q.get('after') || '', before: q.get('before') || '' };
}

function casesPage() {
  const f = filtersFromHash();
  const form = el('form', { class: 'filters', id: 'filters' },
    el('label', {}, 'Workflow', el('input', { name: 'workflow', value: f.workflow, placeholder: 'any' })),
    el('label', {}, 'Status', el('select', { name: 'status' }, el('option', { value: '' }, 'any'),
      STATUSES.map(s => el('option', { value: s, selected: s === f.status }, s)))),
    el('label', {}, 'Business key contains', el('input', { name: 'key', value: f.key })),
    el('label', {}, 'Started after', el('input', { name: 'after', type: 'datetime-local', value: f.after })),
    el('label', {}, 'Started before', el('input', { name: 'before', type: 'datetime-local', value: f.before })),
    el('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = '#/' + (q.toString() ? '?' + q : '');
  });
  const body = el('tbody');
  const table = el('table', { id: 'cases' }, el('thead', {}, el('tr', {},
    ['Case', 'Workflow', 'Status', 'Business key', 'Started', 'Waiting for'].map(h => el('th', {}, h)))), body);
  const msg = el('div');
  main(el('h1', {}, 'Cases'), el('section', { class: 'card' }, form, msg, table));
  const req = { workflow: f.workflow, status: f.status, keyContains: f.key, pageSize: 200 };
  if (f.after) req.startedAfterUnixNano = String(BigInt(Date.parse(f.after)) * 1000000n);
  if (f.before) req.startedBeforeUnixNano = String(BigInt(Date.parse(f.before)) * 1000000n);
  const load = async () => {
    try {
      const r = await call('ListCases', req);
      const cases = r.cases || [];
      cases.sort((a, b) => (BigInt(b.startUnixNano || '0') > BigInt(a.startUnixNano || '0') ? 1 : -1));
      body.replaceChildren(...cases.map(c => el('tr', { 'data-case': c.caseId },
        el('td', { class: 'mono' }, el('a', { href: '#/case/' + c.caseId, class: 'case-link' }, c.caseId)),
        el('td', {}, c.workflow),
        el('td', {}, el('span', { class: 'status ' + c.status }, c.status)),
        el('td', {}, c.businessKey || ''),
        el('td', {}, nanosToDate(c.startUnixNano)),
        el('td', {}, (c.waiting || []).join(', ')))));
      msg.replaceChildren(cases.length ? '' : el('p', { class: 'muted' }, 'No cases match.'));
    } catch (err) { showError(msg, err); }
  };
  load();
  timer = setInterval(load, 2000);
}

// --- one case -----------------------------------------------------------------------

function casePage(id) {
  const head = el('div');
  const graph = el('div', { id: 'graph' }, el('p', { class: 'muted' }, 'Drawing…'));
  const facts = el('div');
  const queries = el('div', { id: 'queries' });
  const signal = el('div');
  const detail = el('input', { type: 'checkbox', id: 'history-detail' });
  const history = el('div');
  main(head,
    el('section', { class: 'card' }, el('h2', {}, 'Workflow'),
      el('p', { class: 'legend' }, el('span', { class: 'done' }, 'done'), el('span', { class: 'pending' }, 'waiting'), el('span', { class: 'running' }, 'running')),
      graph),
    el('div', { class: 'grid' },
      el('section', { class: 'card' }, el('h2', {}, 'Input and result'), facts),
      el('div', {},
        el('section', { class: 'card' }, el('h2', {}, 'Deliver a signal'), signal),
        el('section', { class: 'card' }, el('h2', {}, 'Queries'), queries))),
    el('section', { class: 'card' }, el('h2', {}, 'History ', el('label', { class: 'muted' }, detail, ' show bookkeeping steps')), history));

  let last = null;
  let cv = null;
  const drawHistory = () => {
    if (!cv) return;
    const rows = cv.history.filter(h => detail.checked || !h.bookkeeping);
    history.replaceChildren(el('table', { id: 'history' },
      el('thead', {}, el('tr', {}, ['#', 'Time', 'Event', 'Step', 'Detail'].map(h => el('th', {}, h)))),
      el('tbody', {}, rows.map(h => el('tr', { class: h.bookkeeping ? 'bookkeeping' : '' },
        el('td', {}, h.seq), el('td', { class: 'mono' }, nanosToDate(String(h.time))), el('td', {}, h.kind),
        el('td', {}, detail.checked ? (h.step || '') : (h.user || h.step || '')), el('td', {}, h.detail || ''))))),
    cv.events > cv.history.length ? el('p', { class: 'muted' }, 'Showing the last ' + cv.history.length + ' of ' + cv.events + ' events.') : '');
  };
  detail.addEventListener('change', drawHistory);

  const drawSignals = () => {
    if (['completed', 'failed', 'cancelled'].includes(cv.summary.status)) { signal.replaceChildren(el('p', { class: 'muted', id: 'signal-ended' }, 'The case has ended; it takes no more signals.')); return; }
    if (!cv.signals.length) { signal.replaceChildren(el('p', { class: 'muted' }, 'The workflow declares no signals.')); return; }
    const names = el('select', { id: 'signal-name' }, cv.signals.map(s => el('option', { value: s.name }, s.name + '(' + s.params.map(p => p.name + ': ' + p.type).join(', ') + ')')));
    const payload = el('textarea', { id: 'signal-payload', placeholder: 'payload as JSON, e.g. {"by": "ann"}; empty for none' });
    const out = el('div', { id: 'signal-result' });
    const form = el('form', { id: 'signal-form' }, names, payload, el('div', {}, el('button', { type: 'submit', id: 'signal-send' }, 'Send signal')), out);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      out.replaceChildren(el('span', { class: 'muted' }, 'Sending…'));
      try {
        await call('SignalCase', { caseId: id, name: names.value, payloadJson: payload.value.trim() });
        out.replaceChildren(el('span', {}, 'Delivered ' + names.value + '.'));
        refresh();
      } catch (err) { showError(out, err); }
    });
    signal.replaceChildren(form);
  };

  const drawQueries = async () => {
    if (!cv.queries.length) { queries.replaceChildren(el('p', { class: 'muted' }, 'The workflow declares no queries.')); return; }
    const rows = await Promise.all(cv.queries.map(async q => {
      try { return [q, pretty((await call('QueryCase', { caseId: id, name: q })).resultJson), false]; } catch (err) { return [q, err.message, true]; }
    }));
    queries.replaceChildren(el('table', {}, el('tbody', {}, rows.map(([q, v, bad]) =>
      el('tr', {}, el('td', { class: 'mono' }, q), el('td', {}, el('pre', { class: bad ? 'error' : '', 'data-query': q }, v)))))));
  };

  const drawGraph = async () => {
    try {
      const svg = await getText('/console/api/graph?case=' + encodeURIComponent(id));
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      const root = doc.documentElement;
      if (root.nodeName !== 'svg') throw new Error('the drawing is not SVG');
      root.querySelectorAll('script').forEach(s => s.remove());
      graph.replaceChildren(document.importNode(root, true));
    } catch (err) { showError(graph, err); }
  };

  const draw = () => {
    const s = cv.summary;
    head.replaceChildren(el('h1', {}, 'Case ', el('span', { class: 'mono' }, s.id), ' ', statusBadge(s.status)),
      el('p', {}, 'Workflow ', el('b', {}, s.workflow), ' of program ', el('a', { href: '#/program/' + cv.program, class: 'mono' }, cv.program.slice(0, 12)),
        s.start ? ' · started ' + nanosToDate(String(s.start)) : '', s.key ? ' · key ' + s.key : ''));
    facts.replaceChildren(el('dl', { class: 'facts' },
      el('dt', {}, 'Input'), el('dd', {}, el('pre', { id: 'input' }, pretty(cv.input) || '{}')),
      el('dt', {}, 'Result'), el('dd', {}, s.result ? el('pre', { id: 'result' }, pretty(s.result)) : el('span', { class: 'muted', id: 'result' }, s.status === 'completed' ? 'none' : 'not yet')),
      s.error ? [el('dt', {}, 'Error'), el('dd', { class: 'error', id: 'case-error' }, s.error)] : [],
      el('dt', {}, 'Waiting for'), el('dd', { id: 'waiting' }, (s.waiting || []).join(', ') || '—')));
    drawSignals();
    drawHistory();
    drawQueries();
    drawGraph();
  };

  // The full view reads the case's log, so the page polls the cheap
  // GetCase every second and reloads the view when the case's status,
  // waits or event count move, and every fifth second in any case.
  let cheap = null;
  let ticks = 0;
  const refresh = async () => {
    try {
      const next = await getJSON('/console/api/case?id=' + encodeURIComponent(id));
      const key = next.events + '/' + next.summary.status;
      if (key === last) return;
      last = key;
      cv = next;
      draw();
    } catch (err) { showError(head, err); }
  };
  const tick = async () => {
    ticks++;
    if (cv && ['completed', 'failed', 'cancelled'].includes(cv.summary.status)) return;
    try {
      const c = (await call('GetCase', { caseId: id })).case || {};
      const key = [c.status, (c.waiting || []).join(','), c.idle, c.events].join('/');
      if (key === cheap && ticks % 5 !== 0) return;
      cheap = key;
    } catch (err) { /* refresh shows the error */ }
    refresh();
  };
  refresh();
  timer = setInterval(tick, 1000);
}

// --- programs ---------------------------------------------------------------------

async function programsPage() {
  const body = el('tbody');
  const msg = el('div');
  main(el('h1', {}, 'Programs'), el('section', { class: 'card' }, msg, el('table', { id: 'programs' },
    el('thead', {}, el('tr', {}, ['Program', 'Name', 'Workflows', 'Deployed'].map(h => el('th', {}, h)))), body)));
  try {
    const r = await call('ListPrograms', {});
    const ps = r.programs || [];
    body.replaceChildren(...ps.map(p => el('tr', {},
      el('td', { class: 'mono' }, el('a', { href: '#/program/' + p.hash }, p.hash.slice(0, 16))),
      el('td', {}, p.name || ''), el('td', {}, (p.workflows || []).join(', ')), el('td', {}, nanosToDate(p.deployedUnixNano)))));
    msg.replaceChildren(ps.length ? '' : el('p', { class: 'muted' }, 'No programs deployed.'));
  } catch (err) { showError(msg, err); }
}

async function programPage(hash) {
  const m = main(el('h1', {}, 'Program ', el('span', { class: 'mono' }, hash.slice(0, 16))));
  try {
    const p = await getJSON('/console/api/program?hash=' + encodeURIComponent(hash));
    m.append(el('p', {}, el('a', { href: '#/?' + new URLSearchParams({}) }, 'Cases'), ' · deployed ' + (p.deployed || '') + (p.name ? ' as ' + p.name : '')));
    for (const wf of p.workflows || []) {
      const g = el('div', { class: 'graph' }, el('p', { class: 'muted' }, 'Drawing…'));
      m.append(el('section', { class: 'card' }, el('h2', {}, 'workflow ', wf, ' ', el('a', { href: '#/?workflow=' + encodeURIComponent(wf), class: 'muted' }, '(cases)')), g));
      getText('/console/api/graph?program=' + encodeURIComponent(hash) + '&workflow=' + encodeURIComponent(wf)).then(svg => {
        const root = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
        root.querySelectorAll('script').forEach(s => s.remove());
        g.replaceChildren(document.importNode(root, true));
      }, err => showError(g, err));
    }
    if (!p.files.length) m.append(el('section', { class: 'card' }, el('p', { class: 'muted' }, 'The server holds no source for this program: it was deployed as a compiled descriptor, or by a knhk run, or before the server last started.')));
    for (const f of p.files) m.append(el('section', { class: 'card' }, el('h2', { class: 'mono' }, f.name), el('pre', { class: 'source' }, f.source)));
  } catch (err) { m.append(el('p', { class: 'error' }, err.message)); }
}

// --- routing ------------------------------------------------------------------------

function render() {
  clearInterval(timer);
  timer = null;
  route = location.hash || '#/';
  const path = route.split('?')[0];
  document.getElementById('nav-cases').classList.toggle('active', path === '#/' || path.startsWith('#/case/'));
  document.getElementById('nav-programs').classList.toggle('active', path.startsWith('#/program'));
  for (const [id, p] of [['nav-usage', '#/usage'], ['nav-license', '#/license'], ['nav-audit', '#/audit'], ['nav-login', '#/login']]) {
    document.getElementById(id).classList.toggle('active', path === p);
  }
  renderSwitcher(); // admin.js
  let m;
  if (path === '#/login') loginPage();
  else if (path === '#/usage') usagePage();
  else if (path === '#/license') licensePage();
  else if (path === '#/audit') auditPage();
  else if ((m = path.match(/^#\/case\/([^/]+)$/))) casePage(decodeURIComponent(m[1]));
  else if (path === '#/programs') programsPage();
  else if ((m = path.match(/^#\/program\/([^/]+)$/))) programPage(decodeURIComponent(m[1]));
  else casesPage();
}

document.getElementById('token-form').addEventListener('submit', ev => {
  ev.preventDefault();
  useToken(document.getElementById('token-input').value.trim());
  document.getElementById('token-box').hidden = true;
  render();
});
window.addEventListener('hashchange', render);
render();
