/* status.js - The Eye's monitoring page. No dependencies, no build step.
 *
 * The read key is typed once and kept in sessionStorage (this tab only),
 * sent as Authorization: Bearer to /v1/status/summary and /v1/errors;
 * nothing secret goes into a URL. Every value from the server is written
 * with textContent, never as HTML. */
(function () {
  'use strict';
  var KEY = 'eye.readKey';
  var win = '1h';
  var last = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function key() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }
  function message(text) {
    var m = $('message');
    m.textContent = text || '';
    m.hidden = !text;
  }
  function askKey(text) {
    $('main').hidden = true;
    $('keyform').hidden = false;
    message(text);
    $('key').focus();
  }

  function get(path) {
    return fetch(path, { headers: { Authorization: 'Bearer ' + key() }, cache: 'no-store' })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.status === 401 || res.status === 403) {
            var code = body && body.error ? body.error.code : res.status;
            var e = new Error(res.status === 403
              ? 'This key may not read (' + code + '): type a key with read scope.'
              : 'The key was refused (' + code + '): check it and type it again.');
            e.auth = true;
            throw e;
          }
          if (!res.ok) throw new Error('The Eye answered ' + res.status + (body && body.error ? ' ' + body.error.code + ': ' + body.error.message : ''));
          return body;
        });
      });
  }

  function fill(tbody, rows, cells, onclick) {
    tbody.textContent = '';
    rows.forEach(function (r) {
      var tr = el('tr');
      cells.forEach(function (c) {
        var v = typeof c.v === 'function' ? c.v(r) : r[c.v];
        tr.appendChild(el('td', c.n ? 'n' : '', v === null || v === undefined ? '' : v));
      });
      if (onclick) tr.addEventListener('click', function () { onclick(r, tr); });
      tbody.appendChild(tr);
    });
  }

  function age(s) {
    if (s === undefined || s === null) return '–';
    if (s < 1) return '0 s';
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    return Math.round(s / 3600) + ' h';
  }

  /* One point per bucket the rollups have; the lines run through every
   * bucket of the window, empty ones at zero. */
  function chart(data) {
    var c = $('chart');
    c.textContent = '';
    var W = 800, H = 220, L = 40, R = 10, T = 10, B = 25;
    var step = data.bucket_seconds * 1000;
    var end = Math.floor(Date.now() / step) * step;
    var span = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 }[data.window];
    var start = end - span + step;
    var byT = {};
    var max = 1;
    data.series.forEach(function (p) {
      var t = Date.parse(p.t);
      byT[t] = p;
      if (t < start) start = t;
      if (t > end) end = t;
      max = Math.max(max, p.accepted, p.rejected);
    });
    function x(t) { return L + (end === start ? 0 : (t - start) / (end - start) * (W - L - R)); }
    function y(v) { return H - B - v / max * (H - T - B); }
    c.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis' }));
    c.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis' }));
    var lab = svg('text', { x: 2, y: T + 8 }); lab.textContent = String(max); c.appendChild(lab);
    var l0 = svg('text', { x: L, y: H - 8 }); l0.textContent = new Date(start).toISOString().slice(5, 16).replace('T', ' '); c.appendChild(l0);
    var l1 = svg('text', { x: W - R - 70, y: H - 8 }); l1.textContent = new Date(end).toISOString().slice(5, 16).replace('T', ' '); c.appendChild(l1);
    ['accepted', 'rejected'].forEach(function (k) {
      var pts = [];
      for (var t = start; t <= end; t += step) pts.push(x(t).toFixed(1) + ',' + y(byT[t] ? byT[t][k] : 0).toFixed(1));
      c.appendChild(svg('polyline', { points: pts.join(' '), 'class': k === 'accepted' ? 'acc' : 'rej' }));
    });
    data.series.forEach(function (p) {
      var t = Date.parse(p.t);
      ['accepted', 'rejected'].forEach(function (k) {
        var dot = svg('circle', { cx: x(t).toFixed(1), cy: y(p[k]).toFixed(1), r: 2.5,
          'class': 'point ' + (k === 'accepted' ? 'acc' : 'rej'), 'data-t': p.t, 'data-kind': k, 'data-value': p[k] });
        var title = svg('title', {}); title.textContent = p.t + ' ' + k + ': ' + p[k];
        dot.appendChild(title);
        c.appendChild(dot);
      });
    });
    $('bucket').textContent = 'per ' + (data.bucket_seconds === 60 ? 'minute' : 'hour');
  }

  function payloads(r, tr) {
    Array.prototype.forEach.call(document.querySelectorAll('#rejections tr.on'), function (x) { x.classList.remove('on'); });
    tr.classList.add('on');
    var box = $('payloads'), list = $('payload-list');
    box.hidden = false;
    $('payloads-title').textContent = 'Recent ' + r.code + ' payloads of ' + r.category + ' / ' + r.name;
    list.textContent = '';
    get('/v1/errors?code=' + encodeURIComponent(r.code) + '&limit=200').then(function (body) {
      var rows = (body.errors || []).filter(function (e) {
        return (e.category || '') === r.category && (e.name || '') === r.name;
      }).reverse().slice(0, 20);
      if (!rows.length) list.appendChild(el('li', '', 'none among the most recent ' + r.code + ' errors'));
      rows.forEach(function (e) {
        var li = el('li', 'payload');
        li.appendChild(el('div', '', (e.received_at || '') + ' ' + (e.application || '') + ' ' + (e.pointer || '') + ': ' + (e.message || '')));
        li.appendChild(el('pre', '', typeof e.payload === 'string' ? e.payload : JSON.stringify(e.payload)));
        list.appendChild(li);
      });
    }).catch(function (e) { message(e.message); });
  }

  function show(data) {
    last = data;
    $('keyform').hidden = true;
    $('main').hidden = false;
    message('');
    $('accepted').textContent = data.totals.accepted;
    $('rejected').textContent = data.totals.rejected;
    $('queue-depth').textContent = data.queue ? data.queue.depth : '–';
    $('queue-age').textContent = data.queue ? age(data.queue.oldest_age_seconds) : '–';
    chart(data);
    fill($('rejections').tBodies[0], data.rejections, [
      { v: 'category' }, { v: 'name' }, { v: 'code' }, { v: 'n', n: true }, { v: 'pointer' }, { v: 'message' }
    ], payloads);
    fill($('applications').tBodies[0], data.applications, [
      { v: 'application' }, { v: 'accepted', n: true }, { v: 'rejected', n: true }
    ]);
    fill($('spoolers').tBodies[0], data.spoolers, [
      { v: 'spooler' }, { v: 'last_batch_at' }, { v: 'last_seen_at' }, { v: 'lag_seconds', n: true }, { v: 'rows', n: true }
    ]);
    var rules = data.rules || {};
    $('rules-version').textContent = rules.version ? 'version ' + rules.version : '';
    $('rules-loaded').textContent = rules.loaded_at ? 'loaded ' + new Date(rules.loaded_at * 1000).toISOString() +
      (rules.failed_at > rules.loaded_at ? ' — the last reload FAILED at ' + new Date(rules.failed_at * 1000).toISOString() + '; the previous rules stay in force' : '') : '';
    fill($('types').tBodies[0], rules.event_types || [], [{ v: 'category' }, { v: 'name' }, { v: 'file' }]);
    document.body.setAttribute('data-loaded', data.window);
  }

  function load() {
    if (!key()) { askKey(''); return; }
    document.body.removeAttribute('data-loaded');
    get('/v1/status/summary?window=' + win).then(show).catch(function (e) {
      if (e.auth) {
        try { sessionStorage.removeItem(KEY); } catch (x) { /* private mode */ }
        askKey(e.message);
      } else {
        message(e.message);
      }
      document.body.setAttribute('data-loaded', 'error');
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('keyform').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var k = $('key').value.trim();
      if (!k) return;
      try { sessionStorage.setItem(KEY, k); } catch (e) { message('This browser does not keep the key (sessionStorage is off).'); return; }
      $('key').value = '';
      load();
    });
    $('forget').addEventListener('click', function () {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      askKey('');
    });
    Array.prototype.forEach.call(document.querySelectorAll('#windows button'), function (b) {
      b.addEventListener('click', function () {
        win = b.getAttribute('data-window');
        Array.prototype.forEach.call(document.querySelectorAll('#windows button'), function (x) { x.classList.toggle('on', x === b); });
        load();
      });
    });
    load();
    setInterval(function () { if (key() && !$('main').hidden) load(); }, 30000);
  });
})();
