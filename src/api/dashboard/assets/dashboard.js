// peerscope dashboard: reads the JSON endpoints under /api/v1 (proto3 JSON of the gRPC
// responses) and the server-sent event feed. No build step, no dependency but uPlot.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---- helpers ------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else if (k === 'style') e.setAttribute('style', v);
      else e[k] = v;
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const fmt = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US'));
  const secs = (d) => (d ? parseFloat(d) : null); // proto3 JSON duration "1.5s"
  function fmtSecs(s) {
    if (s === null || s === undefined || isNaN(s)) return '–';
    if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + ' ms';
    if (s < 120) return s.toFixed(1) + ' s';
    if (s < 7200) return (s / 60).toFixed(1) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  function fmtBytes(n) {
    if (!n) return '0 B';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + u[i];
  }
  const time = (t) => (t ? new Date(t).toLocaleString() : '–');
  const kindName = (k) => String(k || '').replace(/^PEER_EVENT_KIND_/, '');
  const stateName = (s) => String(s || '').replace(/^CRAWL_STATE_/, '').toLowerCase();
  const modeName = (s) => String(s || '').replace(/^CRAWL_MODE_/, '').toLowerCase();

  function setStatus(text, error) {
    const s = $('#status');
    s.textContent = text;
    s.classList.toggle('error', !!error);
  }

  async function api(path) {
    const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (r.status === 401) {
      // The session cookie is gone or the token changed: back to the login page.
      location.href = '/';
      throw new Error('unauthorized');
    }
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status + ' ' + (await r.text()));
    return r.json();
  }

  // ---- charts (uPlot) -----------------------------------------------------------------

  const PALETTE = ['#2f6fdf', '#1f9d55', '#d64545', '#e89b1a', '#8e44ad', '#16a2b8', '#7f8c8d',
    '#c0392b', '#2c3e50', '#27ae60', '#f39c12', '#9b59b6'];
  const charts = {};

  // Draws (or updates) a time-series chart: `series` is [{label, values}], `xs` Unix seconds.
  function lineChart(id, xs, series, opts) {
    const box = document.getElementById(id);
    if (!box || typeof uPlot === 'undefined') return;
    if (xs.length < 2) {
      // A line needs two samples; the server takes one every few seconds.
      if (charts[id]) charts[id].plot.destroy();
      delete charts[id];
      box.textContent = '';
      box.append(h('p', { class: 'note', text: 'Collecting samples (one every ' + ((history && history.interval_secs) || 5) + ' s)…' }));
      return;
    }
    const width = Math.max(300, box.clientWidth || 600);
    const key = series.map((s) => s.label).join('\u0000') + '|' + width;
    const data = [xs, ...series.map((s) => s.values)];
    const c = charts[id];
    if (c && c.key === key) {
      c.plot.setData(data);
      return;
    }
    if (c) c.plot.destroy();
    box.textContent = '';
    const plot = new uPlot({
      width,
      height: (opts && opts.height) || 220,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      series: [{}].concat(series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        value: (u, v) => (v === null || v === undefined ? '–' : (opts && opts.value ? opts.value(v) : fmt(Math.round(v * 100) / 100))),
      }))),
      axes: [{}, { size: 60, values: (u, vals) => vals.map((v) => (opts && opts.axis ? opts.axis(v) : fmt(v))) }],
    }, data, box);
    charts[id] = { key, plot };
  }

  // A bar chart over categories (uPlot's bars path builder).
  function barChart(id, labels, values) {
    const box = document.getElementById(id);
    if (!box || typeof uPlot === 'undefined') return;
    const width = Math.max(300, box.clientWidth || 400);
    const xs = labels.map((_, i) => i);
    const key = labels.join('\u0000') + '|' + width;
    const c = charts[id];
    if (c && c.key === key) {
      c.plot.setData([xs, values]);
      return;
    }
    if (c) c.plot.destroy();
    box.textContent = '';
    const plot = new uPlot({
      width,
      height: 200,
      legend: { show: false },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      series: [{}, { label: 'peers', fill: '#2f6fdf', stroke: '#2f6fdf', paths: uPlot.paths.bars({ size: [0.8, 60] }), points: { show: false } }],
      axes: [
        { splits: () => xs, values: (u, vals) => vals.map((v) => labels[v] || ''), rotate: -30, size: 50 },
        { size: 50 },
      ],
    }, [xs, values], box);
    charts[id] = { key, plot };
  }

  // A sorted bar list in HTML: one row per key, largest first; `top` rows at most.
  function bars(id, entries, top) {
    const box = document.getElementById(id);
    if (!box) return;
    const rows = entries.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
    const max = rows.length ? rows[0][1] : 1;
    const limit = top || 15;
    box.textContent = '';
    if (!rows.length) {
      box.append(h('div', { class: 'more', text: 'none' }));
      return;
    }
    for (const [k, n] of rows.slice(0, limit)) {
      box.append(h('div', { class: 'bar', 'data-key': String(k), title: String(k) },
        h('span', { class: 'k', text: String(k) }),
        h('span', { class: 'track' }, h('span', { class: 'fill', style: 'width:' + ((100 * n) / max).toFixed(1) + '%' })),
        h('span', { class: 'n', text: fmt(n) })));
    }
    if (rows.length > limit) {
      const rest = rows.slice(limit).reduce((a, [, n]) => a + n, 0);
      box.append(h('div', { class: 'more', text: `${rows.length - limit} more: ${fmt(rest)}` }));
    }
  }

  // ---- views --------------------------------------------------------------------------

  async function refreshCrawls() {
    const r = await api('/api/v1/crawls?page_size=50');
    const body = $('#crawls-table tbody');
    body.textContent = '';
    $('#crawls-empty').hidden = r.crawls.length > 0;
    for (const c of r.crawls) {
      const p = c.progress || {};
      const failed = Object.values(p.failed_by_class || {}).reduce((a, b) => a + b, 0);
      const state = stateName(c.state);
      const walked = p.queried + p.queued + p.in_flight;
      const frac = state === 'running' ? (walked ? p.queried / walked : 0) : 1;
      const eta = secs(p.estimated_remaining);
      body.append(h('tr', { 'data-crawl-id': c.id },
        h('td', { text: c.id }),
        h('td', { text: c.name }),
        h('td', { text: modeName(c.mode) }),
        h('td', { class: 'state state-' + state, text: state }),
        h('td', {}, h('span', { class: 'progress', title: Math.round(frac * 100) + '%' }, h('span', { style: 'width:' + (frac * 100).toFixed(0) + '%' }))),
        h('td', { class: 'num discovered', text: fmt(p.discovered) }),
        h('td', { class: 'num', text: fmt(p.queried) }),
        h('td', { class: 'num', text: fmt(p.queued) }),
        h('td', { class: 'num', text: fmt(p.unresponsive) }),
        h('td', { class: 'num dials', text: fmt(p.dials) }),
        h('td', { class: 'num connected', text: fmt(p.connected) }),
        h('td', { class: 'num failed', text: fmt(failed) }),
        h('td', { class: 'num', text: fmt(p.messages) }),
        h('td', { class: 'num', text: fmtSecs(secs(p.elapsed)) }),
        h('td', { class: 'num estimate', text: eta === null ? '–' : '~' + fmtSecs(eta) })));
    }
  }

  let history = null;
  async function loadHistory() {
    history = await api('/api/v1/history');
    return history;
  }

  async function refreshNetwork() {
    const [s, rtt] = await Promise.all([api('/api/v1/stats'), api('/api/v1/rtt'), loadHistory()]);
    $('#net-peers').textContent = fmt(s.peers);
    $('#net-reachable').textContent = fmt(s.reachable);
    $('#net-unreachable').textContent = fmt(s.unreachable);
    $('#net-not-dialed').textContent = fmt(s.not_dialed);
    $('#net-without-caps').textContent = fmt(s.without_capabilities);
    bars('bars-capability', Object.entries(s.by_capability || {}));
    bars('bars-cluster', Object.entries(s.by_cluster || {}));
    bars('bars-shard', (s.by_shard || []).map((x) => [x.cluster_id + '/' + x.shard, x.peers]), 24);
    bars('bars-metadata-shard', (s.by_metadata_shard || []).map((x) => [x.cluster_id + '/' + x.shard, x.peers]), 24);
    bars('bars-agent', Object.entries(s.by_agent || {}));
    bars('bars-protocol', Object.entries(s.by_protocol || {}), 20);
    bars('bars-error-class', Object.entries(s.by_error_class || {}));
    bars('bars-country', Object.entries(s.by_country || {}), 25);
    bars('bars-source', Object.entries(s.by_source || {}));
    bars('bars-record-kind', Object.entries(s.by_record_kind || {}));
    bars('bars-fork-digest', Object.entries(s.by_fork_digest || {}));
    bars('bars-chain-id', Object.entries(s.by_chain_id || {}));
    bars('bars-reachable-chain-id', Object.entries(s.reachable_by_chain_id || {}));
    bars('bars-software-version', Object.entries(s.by_software_version || {}));
    bars('bars-protocol-version', [
      ...Object.entries(s.by_p2p_version || {}).map(([v, n]) => ['p2p ' + v, n]),
      ...Object.entries(s.by_block_version || {}).map(([v, n]) => ['block ' + v, n]),
    ]);
    const samples = history.samples;
    lineChart('chart-peers', samples.map((x) => x.time), [
      { label: 'stored', values: samples.map((x) => x.peers) },
      { label: 'reachable', values: samples.map((x) => x.reachable) },
      { label: 'unreachable', values: samples.map((x) => x.unreachable) },
      { label: 'not dialed', values: samples.map((x) => x.not_dialed) },
    ]);
    const labels = rtt.buckets.map((b) => (b.le_ms === null ? '> ' + rtt.buckets[rtt.buckets.length - 2].le_ms : '≤ ' + b.le_ms) + ' ms');
    barChart('chart-rtt', labels, rtt.buckets.map((b) => b.peers));
    $('#rtt-note').textContent = `${fmt(rtt.peers_with_rtt)} of ${fmt(rtt.peers)} peers answered a ping`;
  }

  // Rates (per second) between consecutive samples of a cumulative counter per key.
  function rates(samples, pick, keys) {
    const xs = [];
    const out = keys.map(() => []);
    for (let i = 1; i < samples.length; i++) {
      const dt = samples[i].time - samples[i - 1].time;
      if (dt <= 0) continue;
      xs.push(samples[i].time);
      keys.forEach((k, j) => {
        const a = (pick(samples[i - 1]) || {})[k];
        const b = (pick(samples[i]) || {})[k];
        out[j].push(a === undefined || b === undefined || b < a ? null : (b - a) / dt);
      });
    }
    return { xs, series: keys.map((k, j) => ({ label: k, values: out[j] })) };
  }

  function topKeys(samples, pick, n) {
    const last = samples.length ? pick(samples[samples.length - 1]) || {} : {};
    return Object.entries(last).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k]) => k);
  }

  async function refreshMessages() {
    const [byApp, byPubsub, byContent] = await Promise.all([
      api('/api/v1/messages?group_by=application'),
      api('/api/v1/messages?group_by=pubsub_topic'),
      api('/api/v1/messages'),
      loadHistory(),
    ]);
    const total = byPubsub.counts.reduce((a, c) => a + c.messages, 0);
    const bytes = byPubsub.counts.reduce((a, c) => a + c.bytes, 0);
    const rate = byPubsub.counts.reduce((a, c) => a + c.messages_per_minute, 0);
    const undecodable = byPubsub.undecodable.reduce((a, u) => a + u.messages, 0);
    $('#msg-total').textContent = fmt(total);
    $('#msg-bytes').textContent = fmtBytes(bytes);
    $('#msg-rate').textContent = fmt(Math.round(rate * 10) / 10);
    $('#msg-undecodable').textContent = fmt(undecodable);
    $('#msg-undecodable-share').textContent = total + undecodable ? ((100 * undecodable) / (total + undecodable)).toFixed(1) + ' %' : '–';
    $('#msg-applications').textContent = fmt(byApp.counts.length);

    const appBody = $('#msg-app-table tbody');
    appBody.textContent = '';
    for (const c of byApp.counts.slice().sort((a, b) => b.messages - a.messages)) {
      appBody.append(h('tr', { 'data-application': c.application },
        h('td', { text: c.application }),
        h('td', { class: 'num messages', text: fmt(c.messages) }),
        h('td', { class: 'num', text: fmtBytes(c.bytes) }),
        h('td', { class: 'num', text: c.messages_per_minute.toFixed(1) }),
        h('td', { class: 'num', text: fmt(c.content_topics) })));
    }
    const undec = Object.fromEntries(byPubsub.undecodable.map((u) => [u.pubsub_topic, u.messages]));
    const pubsubBody = $('#msg-pubsub-table tbody');
    pubsubBody.textContent = '';
    const topics = new Set(byPubsub.counts.map((c) => c.pubsub_topic).concat(Object.keys(undec)));
    for (const t of Array.from(topics).sort()) {
      const c = byPubsub.counts.find((x) => x.pubsub_topic === t) || { messages: 0, bytes: 0, messages_per_minute: 0, content_topics: 0 };
      pubsubBody.append(h('tr', { 'data-pubsub-topic': t },
        h('td', { text: t }),
        h('td', { class: 'num messages', text: fmt(c.messages) }),
        h('td', { class: 'num', text: fmtBytes(c.bytes) }),
        h('td', { class: 'num', text: c.messages_per_minute.toFixed(1) }),
        h('td', { class: 'num', text: fmt(c.content_topics) }),
        h('td', { class: 'num undecodable', text: fmt(undec[t] || 0) })));
    }
    const contentBody = $('#msg-content-table tbody');
    contentBody.textContent = '';
    for (const c of byContent.counts.slice().sort((a, b) => b.messages - a.messages).slice(0, 100)) {
      contentBody.append(h('tr', { 'data-content-topic': c.content_topic },
        h('td', { text: c.pubsub_topic }),
        h('td', { text: c.content_topic }),
        h('td', { class: 'num messages', text: fmt(c.messages) }),
        h('td', { class: 'num', text: fmtBytes(c.bytes) }),
        h('td', { class: 'num', text: c.messages_per_minute.toFixed(1) }),
        h('td', { text: time(c.last_seen) })));
    }

    const samples = history.samples;
    const pub = rates(samples, (x) => x.by_pubsub_topic, topKeys(samples, (x) => x.by_pubsub_topic, 8));
    lineChart('chart-msg-pubsub', pub.xs, pub.series, { height: 200 });
    const app = rates(samples, (x) => x.by_application, topKeys(samples, (x) => x.by_application, 8));
    lineChart('chart-msg-app', app.xs, app.series, { height: 200 });
    const share = [];
    const xs = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1];
      const b = samples[i];
      const dm = b.messages - a.messages;
      const du = b.undecodable - a.undecodable;
      xs.push(b.time);
      share.push(dm + du > 0 ? (100 * du) / (dm + du) : null);
    }
    lineChart('chart-msg-undecodable', xs, [{ label: 'undecodable %', values: share }], {
      height: 200, value: (v) => v.toFixed(1) + ' %', axis: (v) => v + ' %',
    });
  }

  // Peers: one page at a time, filters as ListPeers takes them.
  let peersToken = '';
  let peersQuery = '';
  async function refreshPeers(next) {
    if (!next) peersToken = '';
    const q = new URLSearchParams(peersQuery);
    q.set('page_size', '100');
    if (peersToken) q.set('page_token', peersToken);
    const r = await api('/api/v1/peers?' + q.toString());
    const body = $('#peers-table tbody');
    body.textContent = '';
    for (const p of r.peers) {
      const geo = p.geo || {};
      const reach = p.reachable === undefined || p.reachable === null ? '–' : p.reachable ? 'yes' : 'no';
      const shards = p.cluster_id === undefined || p.cluster_id === null ? '–' : p.cluster_id + '/' + (p.shards || []).join(',');
      body.append(h('tr', { 'data-node-id': p.node_id },
        h('td', {}, h('a', { href: '#/peer/' + p.node_id, text: p.node_id.slice(0, 16) })),
        h('td', { text: p.peer_id ? p.peer_id.slice(0, 20) + '…' : '' }),
        h('td', { class: reach === 'yes' ? 'yes' : reach === 'no' ? 'no' : '', text: reach }),
        h('td', { text: p.agent_version }),
        h('td', { class: 'num', text: p.rtt_avg ? fmtSecs(secs(p.rtt_avg)) : '–' }),
        h('td', { text: p.last_error_class || '' }),
        h('td', { text: geo.country_code || geo.country || '' }),
        h('td', { text: (p.capabilities || []).join(',') }),
        h('td', { class: 'wrap', title: shards, text: shards.length > 32 ? shards.slice(0, 31) + '…' : shards }),
        h('td', { text: time(p.last_seen) }),
        h('td', { class: 'chain', text: p.cometbft ? p.cometbft.network + ' / ' + p.cometbft.version : '' })));
    }
    peersToken = r.next_page_token;
    $('#peers-next').disabled = !peersToken;
  }

  // Events: one EventSource, reopened when the kind filter changes.
  const KINDS = ['DISCOVERED', 'ENR_UPDATED', 'CONNECTED', 'IDENTIFIED', 'METADATA', 'DIAL_FAILED',
    'DISCONNECTED', 'BANNED', 'UNBANNED', 'PEER_UP', 'PEER_DOWN', 'PEER_EXCHANGE', 'PEER_EXCHANGE_SERVED'];
  const FEED_MAX = 500;
  let source = null;
  let received = 0;
  let lastSeq = 0;
  function openFeed() {
    if (source) source.close();
    const kinds = $$('#events-kinds input:checked').map((i) => i.value);
    const q = new URLSearchParams();
    if (kinds.length && kinds.length < KINDS.length) q.set('kinds', kinds.join(','));
    if (lastSeq) q.set('after', String(lastSeq));
    else q.set('tail', '200');
    source = new EventSource('/api/v1/events/stream?' + q.toString());
    source.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      if (ev.sequence <= lastSeq) return;
      lastSeq = ev.sequence;
      received++;
      const feed = $('#event-feed');
      const k = kindName(ev.kind);
      feed.prepend(h('li', { 'data-sequence': String(ev.sequence), 'data-kind': k },
        h('span', { class: 'seq', text: String(ev.sequence).padStart(7, ' ') + '  ' }),
        h('span', { class: 'time', text: new Date(ev.time).toLocaleTimeString() + '  ' }),
        h('span', { class: 'kind kind-' + k, text: k }),
        ' crawl ' + ev.crawl_id + '  ',
        h('a', { href: '#/peer/' + ev.node_id, text: ev.node_id.slice(0, 16) }),
        ev.error_class ? '  ' + ev.error_class : '',
        ev.detail ? '  ' + ev.detail.slice(0, 120) : ''));
      while (feed.children.length > FEED_MAX) feed.lastChild.remove();
      $('#events-count').textContent = String(received);
      $('#events-shown').textContent = String(feed.children.length);
    };
    source.onerror = () => setStatus('event feed: reconnecting…', true);
    source.onopen = () => setStatus('live');
  }

  // The peer page: GetPeer's fields and a timeline of visits and sessions.
  function flatten(obj, prefix, out) {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? prefix + '.' + k : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else if (Array.isArray(v) && v.length && typeof v[0] === 'object') v.forEach((x, i) => flatten(x, key + '[' + i + ']', out));
      else out.push([key, Array.isArray(v) ? v.join(', ') : v]);
    }
    return out;
  }

  function timeline(visits) {
    const box = $('#peer-timeline');
    box.textContent = '';
    if (!visits.length) {
      box.append(h('p', { class: 'note', text: 'never dialed' }));
      return;
    }
    const asc = visits.slice().sort((a, b) => a.started_ms - b.started_ms);
    const t0 = asc[0].started_ms;
    const t1 = Math.max(Date.now(), asc[asc.length - 1].started_ms + 1);
    const W = 1000;
    const x = (t) => 10 + ((W - 20) * (t - t0)) / (t1 - t0);
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} 70`);
    svg.setAttribute('preserveAspectRatio', 'none');
    const add = (tag, attrs) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      svg.append(e);
      return e;
    };
    add('line', { x1: 10, x2: W - 10, y1: 35, y2: 35, stroke: '#d9dde5' });
    // Sessions: from a connected visit until the next failed one (or now).
    let up = null;
    const sessions = [];
    for (const v of asc) {
      if (v.reachable && up === null) up = v.started_ms;
      if (!v.reachable && up !== null) { sessions.push([up, v.started_ms]); up = null; }
    }
    if (up !== null) sessions.push([up, t1]);
    for (const [a, b] of sessions) {
      add('rect', { x: x(a), y: 22, width: Math.max(2, x(b) - x(a)), height: 26, fill: '#1f9d55', 'fill-opacity': 0.25, class: 'session' });
    }
    for (const v of asc) {
      const c = add('circle', { cx: x(v.started_ms), cy: 35, r: 5, fill: v.reachable ? '#1f9d55' : '#d64545', class: 'visit' });
      const t = document.createElementNS(ns, 'title');
      t.textContent = `${new Date(v.started_ms).toLocaleString()}: ${v.reachable ? 'connected' : v.error_class}`;
      c.append(t);
    }
    const label = (t, anchor, xx) => {
      const e = add('text', { x: xx, y: 66, 'font-size': 11, fill: '#667085', 'text-anchor': anchor });
      e.textContent = new Date(t).toLocaleString();
    };
    label(t0, 'start', 10);
    label(t1, 'end', W - 10);
    box.append(svg);
  }

  async function showPeer(id) {
    $('#peer-title').textContent = id;
    $('#peer-error').hidden = true;
    let peer;
    let visits;
    try {
      [peer, visits] = await Promise.all([
        api('/api/v1/peers/' + encodeURIComponent(id)),
        api('/api/v1/peers/' + encodeURIComponent(id) + '/visits'),
      ]);
    } catch (e) {
      $('#peer-error').textContent = String(e.message || e);
      $('#peer-error').hidden = false;
      return;
    }
    const body = $('#peer-fields tbody');
    body.textContent = '';
    for (const [k, v] of flatten(peer.peer, '', [])) {
      body.append(h('tr', { 'data-field': k }, h('th', { text: k }), h('td', { text: v === null || v === undefined ? '' : String(v) })));
    }
    timeline(visits.visits);
    const vb = $('#peer-visits tbody');
    vb.textContent = '';
    for (const v of visits.visits) {
      vb.append(h('tr', {},
        h('td', { text: new Date(v.started_ms).toLocaleString() }),
        h('td', { text: v.crawl_id }),
        h('td', { class: v.reachable ? 'yes' : 'no', text: v.reachable ? 'connected' : v.error_class }),
        h('td', { class: 'num', text: v.duration_ms + ' ms' }),
        h('td', { class: 'num', text: v.rtt_us === null ? '–' : fmtSecs(v.rtt_us / 1e6) }),
        h('td', { class: 'wrap', text: v.address || '', title: v.address || '' })));
    }
  }

  // ---- routing and refresh loop --------------------------------------------------------

  const REFRESH = { crawls: [refreshCrawls, 1000], network: [refreshNetwork, 5000], messages: [refreshMessages, 5000], peers: [() => refreshPeers(false), 0], events: [null, 0] };
  let current = null;
  let timer = null;
  let generation = 0;

  async function tick(view, gen) {
    const entry = REFRESH[view];
    if (!entry || !entry[0]) return;
    try {
      await entry[0]();
      if (view !== 'events') setStatus('updated ' + new Date().toLocaleTimeString());
      document.body.dataset.loaded = (document.body.dataset.loaded || '') + ' ' + view;
    } catch (e) {
      setStatus(String(e.message || e), true);
    }
    if (gen === generation && entry[1] > 0) timer = setTimeout(() => tick(view, gen), entry[1]);
  }

  function route() {
    const path = location.hash.replace(/^#\/?/, '') || 'network';
    const [view, ...rest] = path.split('/');
    const name = REFRESH[view] || view === 'peer' ? view : 'network';
    clearTimeout(timer);
    generation++;
    document.body.dataset.loaded = '';
    current = name;
    for (const s of $$('.view')) s.hidden = s.id !== 'view-' + name;
    for (const a of $$('nav a')) a.classList.toggle('active', a.dataset.nav === name);
    if (name === 'peer') {
      showPeer(decodeURIComponent(rest.join('/'))).then(() => { document.body.dataset.loaded = ' peer'; });
      return;
    }
    if (name === 'events' && !source) openFeed();
    tick(name, generation);
  }

  // Kind checkboxes of the feed.
  const kindsForm = $('#events-kinds');
  for (const k of KINDS) {
    kindsForm.append(h('label', {}, h('input', { type: 'checkbox', value: k, checked: true }), k.toLowerCase()));
  }
  kindsForm.addEventListener('change', () => {
    $('#event-feed').textContent = '';
    lastSeq = 0;
    received = 0;
    openFeed();
  });
  $('#peers-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(e.target).entries()) if (v) q.set(k, v);
    peersQuery = q.toString();
    refreshPeers(false).catch((err) => setStatus(String(err.message || err), true));
  });
  $('#peers-next').addEventListener('click', () => refreshPeers(true).catch((err) => setStatus(String(err.message || err), true)));
  window.addEventListener('hashchange', route);
  // Charts take their width when drawn; after a resize the next refresh redraws them.
  window.addEventListener('resize', () => { for (const k of Object.keys(charts)) charts[k].key = null; });
  route();
})();
