// The Sluice web console: hash-routed pages over the HTTP API. Every data call sends the key the user
// typed (kept in sessionStorage, gone with the tab) as `Authorization: Bearer`. DOM is built with
// textContent only, never from HTML strings, so no record value can inject markup.
import uPlot from './vendor/uPlot.esm.js';

const KEY_STORAGE = 'sluice.apiKey';
const REFRESH_MS = 3000;
const view = document.getElementById('view');
const status = document.getElementById('status');
/** What the current page started (timers, streams): stopped when the page changes. */
let pageCleanups = [];

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

async function api(path, options = {}) {
  const headers = { authorization: `Bearer ${apiKey()}`, ...(options.body ? { 'content-type': 'application/json' } : {}) };
  const response = await fetch(path, { method: options.method ?? 'GET', headers, body: options.body ? JSON.stringify(options.body) : undefined, signal: options.signal });
  if (response.status === 204) return undefined;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? response.statusText}`);
  return body;
}

const enc = encodeURIComponent;

function table(headings, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))), el('tbody', {}, rows));
}

function num(value) {
  return el('td', { class: 'num' }, value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US'));
}

/** A uPlot chart; `data-points` and `data-total` tell tests (and curious people) what it draws. */
function chart(title, xs, series, { time = true, bars = false, width = 520, height = 180 } = {}) {
  const container = el('div', { class: 'chart', 'data-points': String(xs.length), 'data-total': String(series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0)) });
  const options = {
    title,
    width,
    height,
    scales: { x: { time } },
    series: [{ label: time ? 'time' : 'partition' }, ...series.map((s) => ({ label: s.label, stroke: s.color, fill: `${s.color}55`, width: 2, points: { show: !bars && xs.length < 40 }, ...(bars ? { paths: uPlot.paths.bars({ size: [0.6, 60] }) } : {}) }))],
    // Category axes (partitions) tick at whole numbers only.
    axes: time ? [{}, {}] : [{ incrs: [1], values: (_, ticks) => ticks.map(String) }, {}],
    ...(time ? {} : { scales: { x: { time: false, range: (_, min, max) => [min - 0.5, max + 0.5] } } }),
  };
  // uPlot draws when the container is in the document; build after insertion.
  queueMicrotask(() => {
    container.uplot = new uPlot(options, [xs, ...series.map((s) => s.values)], container);
  });
  return container;
}

async function throughputChart(topic, partition) {
  const bucketMs = 60_000;
  const to = Date.now();
  const query = `bucketMs=${bucketMs}&from=${to - 60 * bucketMs}&to=${to}${partition === undefined ? '' : `&partition=${partition}`}`;
  const answer = await api(`/v1/topics/${enc(topic)}/throughput?${query}`);
  const xs = answer.buckets.map((b) => b.startMs / 1000);
  return chart(`records per minute${partition === undefined ? '' : ` (partition ${partition})`}`, xs, [{ label: 'records', color: '#2a6fdb', values: answer.buckets.map((b) => b.records) }]);
}

async function allTimeBytes(topic) {
  const to = Date.now();
  const answer = await api(`/v1/topics/${enc(topic)}/throughput?bucketMs=${Math.ceil(to / 999)}&from=0&to=${to}`);
  return answer.buckets.reduce((sum, b) => sum + b.bytes, 0);
}

// ---------------------------------------------------------------------------------------------------
// Pages

async function topicsPage() {
  const { topics } = await api('/v1/topics');
  const rows = [];
  const charts = el('div', { id: 'topic-charts' });
  for (const topic of topics) {
    const described = await api(`/v1/topics/${enc(topic.name)}`);
    const records = described.partitions.reduce((sum, p) => sum + (Number(p.endOffset) - Number(p.startOffset)), 0);
    rows.push(el('tr', { 'data-topic': topic.name }, el('td', {}, el('a', { href: `#/topics/${enc(topic.name)}` }, topic.name)), num(topic.partitions), num(records), num(await allTimeBytes(topic.name))));
    charts.append(el('section', {}, el('h3', {}, topic.name), await throughputChart(topic.name)));
  }
  return [el('h2', {}, 'Topics'), table(['topic', 'partitions', 'records', 'stored bytes'], rows), charts];
}

function prettyValue(record) {
  if (record.value === undefined || record.value === null) return record.valueBase64 ? `(binary) ${record.valueBase64}` : '(null)';
  try {
    return JSON.stringify(JSON.parse(record.value), null, 2);
  } catch {
    return record.value;
  }
}

function recordRows(records) {
  return records.map((r) => el('tr', { 'data-offset': r.offset }, num(r.offset), el('td', {}, new Date(r.timestamp).toISOString()), el('td', {}, r.key ?? ''), el('td', {}, el('pre', {}, prettyValue(r)))));
}

/** The topic's settings, changed with PATCH (admin keys on the topic): only the fields edited are sent. */
function settingsForm(topic, config) {
  const number = (id, value) => el('input', { id, type: 'number', min: '-1', step: '1', value: String(value), size: '12' });
  const choice = (id, options, value) => el('select', { id }, options.map((option) => el('option', { value: option, ...(option === value ? { selected: '' } : {}) }, option)));
  const retentionMs = number('setting-retention-ms', config.retentionMs);
  const retentionBytes = number('setting-retention-bytes', config.retentionBytes);
  const compression = choice('setting-compression', ['zstd', 'gzip', 'none'], config.compression);
  const timestampType = choice('setting-timestamp-type', ['CreateTime', 'LogAppendTime'], config.timestampType);
  const state = el('span', { id: 'settings-state' });
  let current = config;
  const save = async (event) => {
    event.preventDefault();
    const wanted = { retentionMs: Number(retentionMs.value), retentionBytes: Number(retentionBytes.value), compression: compression.value, timestampType: timestampType.value };
    const change = Object.fromEntries(Object.entries(wanted).filter(([name, value]) => value !== current[name]));
    if (Object.keys(change).length === 0) {
      state.textContent = 'nothing to save';
      return;
    }
    current = (await api(`/v1/topics/${enc(topic)}`, { method: 'PATCH', body: { config: change } })).config;
    state.textContent = `saved ${Object.keys(change).join(', ')}`;
  };
  return el(
    'form',
    { id: 'settings-form', onsubmit: (event) => save(event).catch(showError) },
    el('fieldset', {}, 'retention ms (-1: forever)', retentionMs, 'bytes per partition (-1: no bound)', retentionBytes, 'compression', compression, 'timestamps', timestampType, el('button', { type: 'submit' }, 'Save'), state),
  );
}

/** Records before an offset made unreadable (DELETE …/records, admin keys on the topic), after a confirmation. */
function deleteRecordsForm(topic, partitions) {
  const partition = el('input', { id: 'delete-partition', type: 'number', min: '0', max: String(partitions.length - 1), value: '0', size: '4' });
  const before = el('input', { id: 'delete-before', placeholder: 'offset, or -1: all', size: '12' });
  const submit = async (event) => {
    event.preventDefault();
    const offset = before.value.trim();
    if (!/^(-1|\d+)$/.test(offset)) throw new Error('delete records: an offset, or -1 for every record');
    const what = offset === '-1' ? 'every record' : `the records before offset ${offset}`;
    if (!confirm(`Delete ${what} of ${topic} partition ${partition.value}? They cannot be read again.`)) return;
    await api(`/v1/topics/${enc(topic)}/partitions/${Number(partition.value)}/records?before=${offset}`, { method: 'DELETE' });
    await route();
  };
  return el('form', { id: 'delete-records-form', onsubmit: (event) => submit(event).catch(showError) }, el('fieldset', {}, 'delete records of partition', partition, 'before', before, el('button', { type: 'submit' }, 'Delete…')));
}

async function topicPage(topic) {
  const described = await api(`/v1/topics/${enc(topic)}`);
  const offsets = table(
    ['partition', 'start offset', 'end offset', 'records'],
    described.partitions.map((p) => el('tr', { 'data-partition': String(p.partition) }, num(p.partition), num(p.startOffset), num(p.endOffset), num(Number(p.endOffset) - Number(p.startOffset)))),
  );

  // Record browser: seek by offset or by ISO time.
  const partitionInput = el('input', { id: 'browse-partition', type: 'number', min: '0', value: '0', size: '4' });
  const seekInput = el('input', { id: 'browse-seek', placeholder: 'offset or ISO time', value: '0' });
  const results = el('div', { id: 'browse-results' });
  const browse = async (event) => {
    event?.preventDefault();
    const partition = Number(partitionInput.value);
    let offset = seekInput.value.trim();
    if (!/^\d+$/.test(offset)) {
      const time = Date.parse(offset);
      if (Number.isNaN(time)) throw new Error('seek: an offset or an ISO-8601 time');
      offset = (await api(`/v1/topics/${enc(topic)}/partitions/${partition}/offsets?timestamp=${time}`)).offset;
    }
    const answer = await api(`/v1/topics/${enc(topic)}/partitions/${partition}/records?offset=${offset}&maxBytes=65536`);
    results.replaceChildren(el('p', {}, `from offset ${offset}: ${answer.records.length} records (high watermark ${answer.highWatermark})`), table(['offset', 'timestamp', 'key', 'value'], recordRows(answer.records.slice(0, 50))));
  };
  const browser = el('form', { id: 'browse-form', onsubmit: (e) => browse(e).catch(showError) }, el('fieldset', {}, 'partition', partitionInput, 'seek to', seekInput, el('button', { type: 'submit' }, 'Read')));

  // Live tail of one partition through the SSE route, read with fetch (EventSource cannot send a key).
  const tailPartition = el('input', { id: 'tail-partition', type: 'number', min: '0', value: '0', size: '4' });
  const tailOut = el('tbody', { id: 'tail-records' });
  const tailState = el('span', { id: 'tail-state' }, 'stopped');
  let tailAbort;
  const startTail = async () => {
    tailAbort?.abort();
    const abort = new AbortController();
    tailAbort = abort;
    pageCleanups.push(() => abort.abort());
    const partition = Number(tailPartition.value);
    const from = described.partitions[partition]?.endOffset ?? '0';
    const response = await fetch(`/v1/topics/${enc(topic)}/partitions/${partition}/stream?offset=${from}`, { headers: { authorization: `Bearer ${apiKey()}` }, signal: abort.signal });
    if (!response.ok) throw new Error(`tail: ${response.status}`);
    tailState.textContent = `following partition ${partition} from offset ${from}`;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const lines = event.split('\n');
        const type = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (type === 'records' && data) tailOut.prepend(...recordRows(JSON.parse(data).records).reverse());
        if (type === 'error' && data) tailState.textContent = `error: ${data}`;
      }
    }
  };
  const tail = el(
    'section',
    {},
    el('h3', {}, 'Live tail'),
    el('fieldset', {}, 'partition', tailPartition, el('button', { id: 'tail-start', type: 'button', onclick: () => startTail().catch((e) => e.name !== 'AbortError' && showError(e)) }, 'Follow'), el('button', { type: 'button', onclick: () => { tailAbort?.abort(); tailState.textContent = 'stopped'; } }, 'Stop'), tailState),
    el('div', { class: 'tail' }, el('table', {}, el('thead', {}, el('tr', {}, ['offset', 'timestamp', 'key', 'value'].map((h) => el('th', {}, h)))), tailOut)),
  );

  return [
    el('h2', {}, `Topic ${topic}`),
    el('section', {}, el('h3', {}, 'Partition offsets'), offsets, deleteRecordsForm(topic, described.partitions)),
    el('section', {}, el('h3', {}, 'Settings'), settingsForm(topic, described.config)),
    el('section', {}, el('h3', {}, 'Throughput'), await throughputChart(topic)),
    el('section', {}, el('h3', {}, 'Records'), browser, results),
    tail,
  ];
}

async function groupsPage() {
  const { groups } = await api('/v1/groups');
  const sections = [];
  for (const { group } of groups) {
    const d = await api(`/v1/groups/${enc(group)}`);
    const totalLag = d.offsets.reduce((sum, o) => sum + Number(o.lag ?? 0), 0);
    sections.push(el('tr', { 'data-group': group }, el('td', {}, el('a', { href: `#/groups/${enc(group)}` }, group)), num(d.members.length), num(d.generation), num(totalLag)));
  }
  return [el('h2', {}, 'Consumer groups'), table(['group', 'members', 'generation', 'total lag'], sections)];
}

async function groupPage(group) {
  const container = el('div', { id: 'group-detail' });
  const render = async () => {
    const d = await api(`/v1/groups/${enc(group)}`);
    const members = table(
      ['member', 'topics', 'assignments'],
      d.members.map((m) => el('tr', {}, el('td', {}, m.instanceId ? `${m.memberId} (${m.instanceId})` : m.memberId), el('td', {}, m.topics.join(', ')), el('td', {}, m.assignments.map((a) => `${a.topic}/${a.partition}`).join(', ')))),
    );
    const offsets = table(
      ['topic', 'partition', 'committed', 'end offset', 'lag'],
      d.offsets.map((o) => el('tr', { 'data-lag': `${o.topic}/${o.partition}` }, el('td', {}, o.topic), num(o.partition), num(o.committedOffset), num(o.endOffset), num(o.lag))),
    );
    const xs = d.offsets.map((_, i) => i);
    // Uncommitted partitions chart their whole log (what a consumer from the start has to read).
    const lagChart = chart('lag per partition (row of the table)', xs, [{ label: 'lag', color: '#d9534f', values: d.offsets.map((o) => Number(o.lag ?? o.endOffset)) }], { time: false, bars: true });
    container.replaceChildren(el('p', {}, `generation ${d.generation}, strategy ${d.strategy}, refreshed ${new Date().toISOString()}`), el('h3', {}, 'Members'), members, el('h3', {}, 'Offsets and lag'), offsets, lagChart);
  };
  await render();
  const timer = setInterval(() => render().catch(showError), REFRESH_MS);
  pageCleanups.push(() => clearInterval(timer));
  return [el('h2', {}, `Group ${group}`), container];
}

async function consumersPage() {
  const container = el('div', { id: 'consumers' });
  const render = async () => container.replaceChildren(await consumersTable());
  await render();
  const timer = setInterval(() => render().catch(showError), REFRESH_MS);
  pageCleanups.push(() => clearInterval(timer));
  return [el('h2', {}, 'Push consumers'), container];
}

async function consumersTable() {
  const { consumers } = await api('/v1/consumers');
  const rows = [];
  for (const c of consumers) {
    const d = await api(`/v1/consumers/${enc(c.name)}`);
    const lag = d.partitions.reduce((sum, p) => sum + Number(p.lag ?? 0), 0);
    const act = (verb) => () => api(`/v1/consumers/${enc(c.name)}/${verb}`, { method: 'POST', body: {} }).then(route).catch(showError);
    rows.push(
      el(
        'tr',
        { 'data-consumer': c.name },
        el('td', {}, c.name),
        el('td', {}, c.topics.join(', ')),
        el('td', { class: 'state' }, d.state),
        num(lag),
        num(d.delivered),
        el('td', { class: 'last-error' }, d.lastError ? `${new Date(d.lastError.at).toISOString()} ${d.lastError.message}` : '—'),
        el('td', {}, d.state === 'paused' ? el('button', { class: 'resume', onclick: act('resume') }, 'Resume') : el('button', { class: 'pause', onclick: act('pause') }, 'Pause')),
      ),
    );
  }
  return table(['name', 'topics', 'state', 'lag', 'delivered', 'last error', ''], rows);
}

/** `action:topicPattern[:groupPattern]`, one a line. */
function parseScopes(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [action, topics = '*', groups = '*'] = line.split(':');
      return { action, topics: [topics], groups: [groups] };
    });
}

async function keysPage() {
  const { keys } = await api('/v1/keys');
  const nameInput = el('input', { id: 'key-name', placeholder: 'name' });
  const scopesInput = el('textarea', { id: 'key-scopes', rows: '3', cols: '40', placeholder: 'consume:orders*:billing\nproduce:orders' });
  const created = el('div', { id: 'key-created' });
  const create = async (event) => {
    event.preventDefault();
    const key = await api('/v1/keys', { method: 'POST', body: { name: nameInput.value, scopes: parseScopes(scopesInput.value) } });
    await route();
    document.getElementById('key-created').replaceChildren(el('p', {}, `Key ${key.name} created. Its secret is shown this once:`), el('div', { class: 'secret', id: 'key-secret' }, key.key));
  };
  const rows = keys.map((k) =>
    el(
      'tr',
      { 'data-key': k.name },
      el('td', {}, k.name),
      el('td', {}, k.id),
      el('td', {}, k.scopes.map((s) => `${s.action}:${s.topics.join(',')}:${s.groups.join(',')}`).join(' ')),
      el('td', {}, new Date(k.createdAt).toISOString()),
      el('td', {}, el('button', { onclick: () => confirm(`Revoke ${k.name}?`) && api(`/v1/keys/${enc(k.id)}`, { method: 'DELETE' }).then(route).catch(showError) }, 'Revoke')),
    ),
  );
  return [
    el('h2', {}, 'API keys'),
    el('form', { id: 'key-create', onsubmit: (e) => create(e).catch(showError) }, el('fieldset', {}, nameInput, scopesInput, el('button', { type: 'submit' }, 'Create key'))),
    created,
    table(['name', 'id', 'scopes', 'created', ''], rows),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Routing

function showError(error) {
  status.textContent = String(error.message ?? error);
}

async function route() {
  for (const cleanup of pageCleanups) cleanup();
  pageCleanups = [];
  status.textContent = '';
  const [page, name] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (!apiKey()) {
    view.replaceChildren(el('p', {}, 'Type an API key above to start.'));
    return;
  }
  const pages = { topics: () => (name ? topicPage(name) : topicsPage()), groups: () => (name ? groupPage(name) : groupsPage()), consumers: consumersPage, keys: keysPage };
  try {
    view.replaceChildren(...(await (pages[page] ?? pages.topics)()));
    view.dataset.page = page || 'topics';
  } catch (error) {
    showError(error);
  }
}

document.getElementById('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('api-key');
  sessionStorage.setItem(KEY_STORAGE, input.value.trim());
  input.value = '';
  route();
});
document.getElementById('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  route();
});
window.addEventListener('hashchange', route);
route();
