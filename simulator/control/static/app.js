// dlrsim web inbox: one plain ES module, no build step, no dependencies.
//
// It loads a snapshot of the newest messages (GET /api/v1/inbox), then follows the journal
// live (GET /api/v1/stream, Server-Sent Events read with fetch so a bearer token can go along;
// after a break it resumes with Last-Event-ID). Everything comes from the control API, and
// every value is put in the page as text, never as HTML.

const API = '/api/v1';
const MAX_ROWS = 500;
const TOKEN_KEY = 'dlrsim-token';
const $ = (selector) => document.querySelector(selector);

const state = {
  rows: new Map(), // key (message id, or refused-SEQ) -> row
  order: 0, // insertion counter: the tie-break between rows of the same millisecond
  snapshotSeq: 0, // journal seq of the last snapshot; older live entries are already in it
  lastSeq: 0, // newest journal seq received: where the stream resumes
  streaming: false, // the stream has said hello at least once
  total: 0,
  selected: null, // key of the row in the detail pane
  who: { account: new Set(), provider: new Set() },
  loads: 0,
};

// -- the API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, error) {
    const where = error && error.where ? ` (${error.where})` : '';
    super(`${(error && error.message) || `HTTP ${status}`}${where}`);
    this.status = status;
  }
}

function authHeaders(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function api(path, { method = 'GET', body } = {}) {
  const options = { method, headers: authHeaders(), cache: 'no-store' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, options);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) askToken();
    throw new ApiError(response.status, data && data.error);
  }
  return data;
}

function askToken() {
  const dialog = $('#token-dialog');
  if (!dialog.open) dialog.showModal();
}

// -- small helpers ---------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...clean(children));
  return node;
}

// Children as given to el(): nested lists flattened, null, undefined and false left out.
const clean = (children) => children.flat(Infinity)
  .filter((child) => child !== null && child !== undefined && child !== false);

const fill = (node, ...children) => node.replaceChildren(...clean(children));

const pad = (n, width = 2) => String(n).padStart(width, '0');

function clockTime(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    pad(d.getMilliseconds(), 3);
}

const isoTime = (seconds) => new Date(seconds * 1000).toISOString();
const hexStatus = (status) => (typeof status === 'number'
  ? `0x${status.toString(16).toUpperCase().padStart(8, '0')}` : String(status ?? '—'));

function statClass(stat) {
  if (stat === 'DELIVRD') return 'ok';
  if (stat === 'ENROUTE' || stat === 'ACCEPTD') return 'pending';
  if (stat === 'EXPIRED' || stat === 'UNKNOWN' || stat === 'DELETED') return 'warn';
  return 'bad';
}

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function hexDump(hex) {
  const lines = [];
  for (let at = 0; at < hex.length; at += 32) {
    const chunk = hex.slice(at, at + 32);
    const bytes = chunk.match(/../g) || [];
    const ascii = bytes.map((b) => {
      const code = parseInt(b, 16);
      return code >= 32 && code < 127 ? String.fromCharCode(code) : '.';
    }).join('');
    lines.push(`${pad((at / 2).toString(16), 4)}  ${bytes.join(' ').padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n') || '(empty)';
}

// -- rows and filters ------------------------------------------------------------------------

function rowFromView(v) {
  return {
    key: v.message_id, id: v.message_id, time: v.submitted_at, account: v.account,
    provider: v.provider, source: v.source, destination: v.destination,
    text: v.text ?? `(binary, ${v.body_hex.length / 2} bytes)`, parts: [v.part_index, v.part_count],
    stat: v.stat, err: v.err, final: v.final, transport: v.transport,
  };
}

function rowFromRefused(r) {
  return {
    key: `refused-${r.seq}`, id: null, time: r.time, account: r.account, provider: r.provider,
    source: r.source, destination: r.destination, text: r.text ?? '', parts: [1, 1],
    stat: 'refused', err: hexStatus(r.status), final: true, transport: r.transport, refused: r,
  };
}

function filters() {
  const who = $('#f-who').value;
  const [kind, name] = who ? [who.slice(0, who.indexOf(':')), who.slice(who.indexOf(':') + 1)] : [];
  return {
    q: $('#f-q').value.trim(), transport: $('#f-transport').value, stat: $('#f-stat').value,
    account: kind === 'account' ? name : '', provider: kind === 'provider' ? name : '',
  };
}

function matches(row, f = filters()) {
  if (f.transport && row.transport !== f.transport) return false;
  if (f.account && row.account !== f.account) return false;
  if (f.provider && row.provider !== f.provider) return false;
  if (f.stat && row.stat !== f.stat) return false;
  if (!f.q) return true;
  const needle = f.q.toLowerCase();
  return [row.id, row.source, row.destination, row.text]
    .some((value) => value && value.toLowerCase().includes(needle));
}

function addRow(row, order = ++state.order) {
  row.order = order;
  state.rows.set(row.key, row);
  for (const kind of ['account', 'provider']) {
    if (row[kind] && !state.who[kind].has(row[kind])) {
      state.who[kind].add(row[kind]);
      $(`#f-${kind}s`).append(el('option', { value: `${kind}:${row[kind]}` }, row[kind]));
    }
  }
  if (state.rows.size > 2 * MAX_ROWS) {
    const oldest = [...state.rows.values()].sort(newestFirst).slice(MAX_ROWS);
    for (const old of oldest) if (old.key !== state.selected) state.rows.delete(old.key);
  }
}

const newestFirst = (a, b) => b.time - a.time || b.order - a.order;

async function loadInbox() {
  const load = ++state.loads;
  const f = filters();
  const params = new URLSearchParams({ limit: String(MAX_ROWS) });
  for (const key of ['q', 'transport', 'stat', 'account', 'provider']) {
    if (f[key]) params.set(key, f[key]);
  }
  const page = await api(`/inbox?${params}`);
  if (load !== state.loads) return; // a newer search has been sent meanwhile
  state.rows.clear();
  page.messages.forEach((view, index) => addRow(rowFromView(view), -index));
  page.refused.forEach((refused, index) => addRow(rowFromRefused(refused), -index));
  state.snapshotSeq = page.last_seq;
  if (!state.streaming) state.lastSeq = page.last_seq; // the first stream starts here
  state.total = page.total + page.refused.length;
  render();
}

// -- the table -------------------------------------------------------------------------------

const scheduleRender = debounce(() => render(), 40);

function render() {
  const f = filters();
  const rows = [...state.rows.values()].filter((row) => matches(row, f)).sort(newestFirst)
    .slice(0, MAX_ROWS);
  $('#messages tbody').replaceChildren(...rows.map(rowElement));
  $('#empty').hidden = rows.length > 0;
  const more = state.total > rows.length ? ` (newest ${rows.length} of ${state.total})` : '';
  $('#count').textContent = `${rows.length} shown${more}`;
}

function rowElement(row) {
  const href = row.id ? `#/m/${encodeURIComponent(row.id)}` : `#/r/${row.refused.seq}`;
  const selected = row.key === state.selected;
  const what = row.id ? `Message ${row.id}` : 'Refused submission';
  const label = `${what} to ${row.destination ?? '?'}`;
  const [part, parts] = row.parts;
  const tr = el('tr', { class: selected ? 'selected' : null, 'data-key': row.key },
    el('td', { class: 'time', title: isoTime(row.time) },
      el('a', { href, 'aria-label': label, 'aria-current': selected ? 'true' : null },
        clockTime(row.time))),
    el('td', {}, el('span', { class: `stat ${statClass(row.stat)}` }, row.stat),
      el('span', { class: 'sub mono' }, row.err)),
    el('td', {}, row.account ?? '', row.provider && row.provider !== row.account
      ? el('span', { class: 'sub' }, row.provider) : null),
    el('td', { class: 'mono' }, row.source ?? ''),
    el('td', { class: 'mono' }, row.destination ?? ''),
    el('td', { class: 'text', title: row.text }, row.text),
    el('td', { class: 'num' }, parts > 1 ? `${part}/${parts}` : '1'),
    el('td', {}, row.transport.toUpperCase()));
  tr.addEventListener('click', (event) => {
    if (!event.target.closest('a')) location.hash = href;
  });
  return tr;
}

// -- the live feed ---------------------------------------------------------------------------

function setLive(name, text) {
  const live = $('#live');
  live.dataset.state = name;
  live.textContent = text;
}

function parseBlock(block) {
  const event = { event: 'message', data: '', id: null };
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const cut = line.indexOf(':');
    const field = cut < 0 ? line : line.slice(0, cut);
    const value = cut < 0 ? '' : line.slice(cut + 1).replace(/^ /, '');
    if (field === 'data') event.data += (event.data ? '\n' : '') + value;
    else if (field === 'event' || field === 'id') event[field] = value;
  }
  return event;
}

async function follow() {
  let delay = 500;
  for (;;) {
    try {
      const headers = authHeaders({ 'Last-Event-ID': String(state.lastSeq) });
      const response = await fetch(`${API}/stream`, { headers, cache: 'no-store' });
      if (!response.ok) {
        const data = await response.json().catch(() => null);
        if (response.status === 401) askToken();
        throw new ApiError(response.status, data && data.error);
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          onEvent(parseBlock(buffer.slice(0, cut)));
          buffer = buffer.slice(cut + 2);
        }
        delay = 500;
      }
      setLive('reconnecting', 'reconnecting…');
    } catch (error) {
      setLive('down', `offline: ${error.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

function onEvent(event) {
  if (event.event === 'hello') {
    state.streaming = true;
    state.lastSeq = Number(event.id); // the server's resume point (0 after a restart)
    setLive('live', 'live');
  } else if (event.event === 'gap') {
    loadInbox().catch(showError); // some history is gone: start from a fresh snapshot
  } else if (event.event === 'dropped') {
    setLive('reconnecting', 'catching up…');
  } else if (event.event === 'message' && event.data) {
    applyEntry(JSON.parse(event.data));
  }
}

function applyEntry(entry) {
  state.lastSeq = entry.seq;
  const data = entry.data || {};
  if (entry.kind === 'mo' || (entry.kind === 'webhook' && data.kind === 'mo')) logMo(entry);
  if (entry.kind === 'scenario' || (entry.kind === 'fault' && !entry.message_id)) {
    scheduleScenario();
  }
  if (entry.seq <= state.snapshotSeq) return;
  const row = entry.message_id ? state.rows.get(entry.message_id) : undefined;
  if (entry.kind === 'submit' && entry.message_id && data.status === 0) {
    addRow({
      key: entry.message_id, id: entry.message_id, time: entry.time, account: entry.account,
      provider: entry.provider, source: data.source, destination: data.destination,
      text: data.text ?? '(binary)', parts: [data.part_index ?? 1, data.part_count ?? 1],
      stat: 'ENROUTE', err: '000', final: false, transport: data.transport || 'smpp',
    });
    state.total += 1;
  } else if (entry.kind === 'submit' && !entry.message_id) {
    addRow(rowFromRefused({ ...data, seq: entry.seq, time: entry.time, account: entry.account,
      provider: entry.provider, transport: data.transport || 'smpp' }));
    state.total += 1;
  } else if (entry.kind === 'status' && row) {
    Object.assign(row, { stat: data.stat, err: data.err, final: Boolean(data.final) });
  }
  if (entry.message_id && entry.message_id === state.selected) scheduleDetail();
  scheduleRender();
}

// -- the detail pane -------------------------------------------------------------------------

const scheduleDetail = debounce(() => {
  if (state.selected) showDetail(state.selected, false).catch(showError);
}, 150);

const shown = (value) => value !== null && value !== undefined && value !== '';
const asText = (value) => (typeof value === 'object' ? JSON.stringify(value) : String(value));
const optional = (text, value) => (shown(value) ? text : '');

// A definition list of [name, value] pairs; pairs without a value are left out.
function pairs(list) {
  return el('dl', { class: 'pairs' }, list.filter(([, value]) => shown(value))
    .map(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
}

// One line in words for a journal entry of the timeline.
function describe(entry) {
  const d = entry.data || {};
  switch (entry.kind) {
    case 'submit':
      if (d.status !== 0) {
        return `refused with ${hexStatus(d.status)}${optional(`: ${d.reason}`, d.reason)}`;
      }
      return `accepted over ${(d.transport || 'smpp').toUpperCase()}` +
        optional(`, rule ${d.rule}`, d.rule) + optional(`, planned ${d.outcome}`, d.outcome);
    case 'status':
      return `${d.stat} err ${d.err}${d.final ? ' (final)' : ''}` +
        optional(` · ${d.catalog_key}`, d.catalog_key) +
        (d.receipt === false ? ' · no receipt requested' : '');
    case 'receipt':
      return `receipt ${d.stat ?? ''} ${d.err ?? ''} → ${d.outcome}` +
        optional(`, deliver_sm_resp ${hexStatus(d.status)}`, d.status) +
        `, attempt ${d.attempts ?? 1}`;
    case 'webhook':
      return `${d.method || 'POST'} ${d.url} → ${d.status_code ?? d.error ?? 'no answer'} ` +
        `in ${d.latency_ms} ms · ${d.outcome} · attempt ${d.attempt}`;
    case 'fault':
      return `fault ${d.fault}${optional(` (${d.name})`, d.name)}` +
        optional(` on the ${d.where}`, d.where);
    default:
      return entry.kind;
  }
}

const disclose = (summary, ...content) => el('details', {}, el('summary', {}, summary), content);

function timelineItem(entry, start) {
  const d = entry.data || {};
  const pdu = d.pdu && Object.entries(d.pdu).map(([name, value]) => [name, asText(value)]);
  return el('li', { class: `event kind-${entry.kind}` },
    el('div', { class: 'event-head' },
      el('span', { class: 'offset', title: isoTime(entry.time) },
        `+${(entry.time - start).toFixed(3)} s`),
      el('span', { class: 'kind' }, entry.kind),
      el('span', { class: 'what' }, describe(entry))),
    entry.kind === 'webhook' && d.body
      ? el('pre', { class: 'body', 'aria-label': 'request body' }, pretty(d.body)) : null,
    pdu ? disclose('decoded PDU', pairs(pdu)) : null,
    d.pdu_hex ? disclose('raw PDU', el('pre', { class: 'hex' }, hexDump(d.pdu_hex))) : null,
    disclose(`all fields (seq ${entry.seq})`, el('pre', {}, JSON.stringify(d, null, 2))));
}

function planTable(plan) {
  const head = ['after', 'stat', 'err', 'final', 'catalog']
    .map((name) => el('th', { scope: 'col' }, name));
  const rows = plan.map((step) => el('tr', {},
    [`${step.delay.toFixed(3)} s`, step.stat, step.err, step.final ? 'yes' : 'no',
      step.catalog_key ?? ''].map((cell) => el('td', {}, cell))));
  return el('table', { class: 'plan' }, el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows));
}

async function showDetail(id, focus = true) {
  state.selected = id;
  $('#detail').hidden = false;
  render();
  const { message: m, timeline } = await api(`/messages/${encodeURIComponent(id)}`);
  if (state.selected !== id) return;
  const start = timeline.length ? timeline[0].time : m.submitted_at;
  const hasPdus = timeline.some((e) => e.data && (e.data.pdu || e.data.pdu_hex));
  const stateText = el('span', {}, el('span', { class: `stat ${statClass(m.stat)}` }, m.stat),
    ` err ${m.err}${m.final ? ', final' : ''}`);
  $('#detail-title').textContent = `Message ${m.message_id}`;
  fill($('#detail-body'),
    pairs([
      ['State', stateText], ['Account', m.account], ['Provider', m.provider],
      ['Transport', m.transport.toUpperCase()], ['From', m.source], ['To', m.destination],
      ['Text', m.text ?? '(binary)'], ['Parts', `${m.part_index} of ${m.part_count}`],
      ['Submitted', isoTime(m.submitted_at)], ['Catalog status', m.catalog_key],
      ['Scenario rule', m.rule], ['Receipts lost', m.lost ? 'yes (scenario)' : null],
    ]),
    el('h3', {}, 'Timeline'),
    el('ol', { class: 'timeline' }, timeline.map((entry) => timelineItem(entry, start))),
    m.plan.length ? [el('h3', {}, 'Planned steps'), planTable(m.plan)] : null,
    el('h3', {}, m.transport === 'smpp' ? 'submit_sm fields' : 'Request fields'),
    hasPdus ? null : el('p', { class: 'hint' },
      'Raw PDUs are not journaled for this message; these are the fields the simulator stored.'),
    pairs([
      ['data_coding', `0x${pad(m.data_coding.toString(16).toUpperCase())}`],
      ['registered_delivery', String(m.registered_delivery)],
      ...Object.entries(m.extra).map(([name, value]) => [name, asText(value)]),
    ]),
    el('details', { open: true },
      el('summary', {}, `message body (${m.body_hex.length / 2} bytes, hex)`),
      el('pre', { class: 'hex' }, hexDump(m.body_hex))));
  $('#push-form').hidden = m.final;
  if (focus) $('#detail').focus();
}

function showRefused(seq) {
  const key = `refused-${seq}`;
  const row = state.rows.get(key);
  state.selected = key;
  $('#detail').hidden = false;
  $('#push-form').hidden = true;
  $('#detail-title').textContent = 'Refused submission';
  fill($('#detail-body'),row ? pairs([
    ['Status', hexStatus(row.refused.status)], ['Reason', row.refused.reason],
    ['Scenario rule', row.refused.rule], ['Account', row.account], ['Provider', row.provider],
    ['From', row.source], ['To', row.destination], ['Text', row.text],
    ['When', isoTime(row.time)], ['Journal seq', String(seq)],
  ]) : el('p', {}, 'This refused submission is no longer loaded.'));
  render();
  $('#detail').focus();
}

function hideDetail() {
  const was = state.selected;
  state.selected = null;
  $('#detail').hidden = true;
  render();
  const link = was && document.querySelector(`tr[data-key="${CSS.escape(was)}"] a`);
  if (link) link.focus();
}

async function pushStatus(event) {
  event.preventDefault();
  const form = event.target;
  const out = form.querySelector('.result');
  const status = form.status.value.trim();
  const body = status ? { status } : { stat: form.stat.value, err: form.err.value || '000' };
  if (!status && !form.stat.value) {
    out.textContent = 'Give a catalog status or pick a raw stat.';
    return;
  }
  try {
    const result = await api(`/messages/${encodeURIComponent(state.selected)}/status`,
      { method: 'POST', body });
    const sent = result.sink === 'webhook' ? 'webhook queued'
      : result.receipt ? 'receipt queued' : 'no receipt requested';
    out.textContent = `Now ${result.step.stat} err ${result.step.err} (${sent}).`;
  } catch (error) {
    out.textContent = `Refused: ${error.message}`;
  }
}

// -- MO, scenario and faults -----------------------------------------------------------------

async function sendMo(event) {
  event.preventDefault();
  const form = event.target;
  const out = form.querySelector('.result');
  const body = {};
  for (const name of ['transport', 'source', 'destination', 'text', 'account', 'provider', 'url']) {
    const value = form[name].value.trim();
    if (value || name === 'text') body[name] = value;
  }
  if (body.transport === 'smpp') {
    delete body.provider;
    delete body.url;
  }
  try {
    const r = await api('/mo', { method: 'POST', body });
    out.textContent = r.transport === 'smpp'
      ? `Queued ${r.parts} deliver_sm part(s) for ${r.account}.`
      : `Pushing inbound message ${r.message_id} to ${r.url}.`;
  } catch (error) {
    out.textContent = `Refused: ${error.message}`;
  }
}

function logMo(entry) {
  const d = entry.data || {};
  const what = entry.kind === 'webhook'
    ? `push to ${d.url} → ${d.status_code ?? d.error ?? 'no answer'} (${d.outcome})`
    : d.outcome ? `deliver_sm to ${d.destination ?? '?'}: ${d.outcome}`
      : `${d.source} → ${d.destination}: ${d.text ?? `${d.parts} part(s) queued`}`;
  const log = $('#mo-log');
  log.prepend(el('li', {}, el('span', { class: 'offset' }, clockTime(entry.time)), ' ', what));
  while (log.children.length > 50) log.lastChild.remove();
}

const scheduleScenario = debounce(() => {
  if (!$('#view-scenario').hidden) loadScenario().catch(showError);
}, 300);

async function loadScenario() {
  const [scenario, faults] = await Promise.all([api('/scenario'), api('/faults')]);
  fill($('#scenario'), scenario.active ? [
    pairs([['Name', scenario.name], ['Description', scenario.description],
      ['Provider', scenario.provider], ['Flow state', scenario.state],
      ['Rules', String(scenario.rules)], ['Faults in the file', String(scenario.faults)],
      ['Loaded from', scenario.source]]),
    disclose('the scenario as JSON', el('pre', {}, JSON.stringify(scenario.scenario, null, 2))),
  ] : el('p', {}, 'No scenario: messages follow the plain ENROUTE-then-DELIVRD timeline.'));
  if (!faults.faults.length) {
    fill($('#faults'), el('p', {}, 'No faults armed.'));
    return;
  }
  const head = ['id', 'kind', 'name', 'from', 'applied', 'settings']
    .map((name) => el('th', { scope: 'col' }, name));
  const rows = faults.faults.map((f) => {
    const { kind, name, ...settings } = f.fault;
    return el('tr', {}, el('td', { class: 'mono' }, f.id), el('td', {}, kind ?? ''),
      el('td', {}, name ?? ''), el('td', {}, f.source),
      el('td', { class: 'num' }, String(f.applied)),
      el('td', { class: 'mono' }, JSON.stringify(settings)));
  });
  fill($('#faults'), el('table', { class: 'faults' }, el('thead', {}, el('tr', {}, head)),
    el('tbody', {}, rows)));
}

// -- routing and start -----------------------------------------------------------------------

function showError(error) {
  setLive('down', error.message);
}

function route() {
  const hash = location.hash || '#/';
  const view = ['mo', 'scenario'].find((name) => hash.startsWith(`#/${name}`)) || 'inbox';
  for (const name of ['inbox', 'mo', 'scenario']) $(`#view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (view === 'scenario') loadScenario().catch(showError);
  const message = hash.match(/^#\/m\/(.+)$/);
  const refused = hash.match(/^#\/r\/(\d+)$/);
  if (message) showDetail(decodeURIComponent(message[1])).catch(showError);
  else if (refused) showRefused(refused[1]);
  else if (state.selected) hideDetail();
}

async function start() {
  $('#filters').addEventListener('submit', (event) => event.preventDefault());
  $('#f-q').addEventListener('input', debounce(() => loadInbox().catch(showError), 250));
  for (const id of ['#f-transport', '#f-who', '#f-stat']) {
    $(id).addEventListener('change', () => loadInbox().catch(showError));
  }
  $('#push-form').addEventListener('submit', pushStatus);
  $('#mo-form').addEventListener('submit', sendMo);
  $('#token-form').addEventListener('submit', (event) => {
    sessionStorage.setItem(TOKEN_KEY, event.target.token.value.trim());
    location.reload();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.selected && !$('#token-dialog').open) location.hash = '#/';
  });
  window.addEventListener('hashchange', route);
  fetch(`${API}/health`).then((r) => r.json()).then((health) => {
    $('#addresses').textContent = health.listeners.map((l) => l.url).join(' · ');
  }).catch(() => {});
  try {
    await loadInbox();
  } catch (error) {
    showError(error);
  }
  route();
  follow();
}

start();
