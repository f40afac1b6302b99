// The host table of the fleet report (report_html.py): drawn one page at a time from one compact
// record per host, sorted and filtered on those records; a host's details are joined from shared
// HTML fragments when it is opened. Nothing is loaded: the data is the JSON element above.
(function () {
  'use strict';
  var element = document.getElementById('tcptune-data');
  var table = document.getElementById('hosts');
  if (!element || !table) { return; }
  var D = JSON.parse(element.textContent);
  var H = D.hosts, T = D.texts, F = D.fragments, Q = D.details;
  var NAME = 0, STATUS = 1, REASON = 2, KERNEL = 3, PROFILE = 4, FINDINGS = 5, CHANGES = 6, DETAILS = 7;
  var body = table.tBodies[0];
  var byName = {};
  var all = [];
  for (var n = 0; n < H.length; n++) { byName[H[n][NAME]] = n; all.push(n); }
  var state = {status: '', finding: '', kernel: '', profile: '', text: '', pick: null,
               column: -1, dir: 1, page: 0, open: {}};
  var order = all.slice();
  var shown = all;
  var lower = null;

  function esc(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
  }
  function shortText(text) { return text.length <= 160 ? text : text.slice(0, 157).replace(/\s+$/, '') + '...'; }
  function byId(id) { return document.getElementById(id); }

  function matches(i) {
    var h = H[i];
    if (state.status && D.statuses[h[STATUS]] !== state.status) { return false; }
    if (state.kernel && T[h[KERNEL]] !== state.kernel) { return false; }
    if (state.profile && T[h[PROFILE]] !== state.profile) { return false; }
    if (state.finding && (' ' + T[h[FINDINGS]] + ' ').indexOf(' ' + state.finding + ' ') < 0) { return false; }
    if (state.pick && !state.pick.hosts[i]) { return false; }
    if (state.text) {
      if (!lower) { lower = H.map(function (x) { return x[NAME].toLowerCase(); }); }
      if (lower[i].indexOf(state.text) < 0) { return false; }
    }
    return true;
  }

  function row(i) {
    var h = H[i], status = D.statuses[h[STATUS]], reason = T[h[REASON]], open = state.open[i];
    var out = '<tr class="h' + (open ? ' open' : '') + '" data-i="' + i + '" data-status="' + esc(status) + '">' +
      '<td><button class="hn" aria-expanded="' + (open ? 'true' : 'false') + '">' + esc(h[NAME]) + '</button></td>' +
      '<td><span class="st" style="background:' + D.colours[h[STATUS]] + '">' + esc(status) + '</span></td>' +
      '<td title="' + esc(reason) + '">' + esc(shortText(reason)) + '</td><td>' + esc(T[h[KERNEL]]) + '</td>' +
      '<td>' + esc(T[h[PROFILE]]) + '</td><td>' + esc(T[h[FINDINGS]]) + '</td><td>' + h[CHANGES] + '</td></tr>';
    if (open) {
      out += '<tr class="detail" data-i="' + i + '"><td colspan="7">' +
        Q[h[DETAILS]].map(function (f) { return F[f]; }).join('') + '</td></tr>';
    }
    return out;
  }

  function draw() {
    var size = D.page, pages = Math.max(1, Math.ceil(shown.length / size));
    state.page = Math.min(Math.max(state.page, 0), pages - 1);
    var first = state.page * size, last = Math.min(first + size, shown.length);
    var html = [];
    for (var k = first; k < last; k++) { html.push(row(shown[k])); }
    body.innerHTML = html.join('');
    byId('shown').textContent = shown.length;
    byId('range').textContent = shown.length ? (first + 1) + '\u2013' + last + ' of ' + shown.length : 'no host';
    byId('prev').disabled = state.page === 0;
    byId('next').disabled = state.page >= pages - 1;
  }

  function apply() {
    shown = order.filter(matches);
    state.page = 0;
    draw();
  }

  // The table's columns are the record's first fields: name, status, then four texts, changes.
  function sortKey(i, column) {
    var value = H[i][column];
    return column === NAME || column === STATUS || column === CHANGES ? value : T[value];
  }

  function sortBy(column) {
    state.dir = state.column === column ? -state.dir : 1;
    state.column = column;
    order = all.slice().sort(function (a, b) {
      var x = sortKey(a, column), y = sortKey(b, column);
      return (x < y ? -1 : x > y ? 1 : a - b) * state.dir;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, c) {
      if (c === column) { th.setAttribute('data-dir', state.dir === 1 ? 'asc' : 'desc'); } else { th.removeAttribute('data-dir'); }
    });
    apply();
  }

  function pick(label, hosts) {
    var chip = byId('f-value');
    if (label === null) {
      state.pick = null;
      chip.classList.add('hidden');
      chip.innerHTML = '';
    } else {
      var set = {};
      hosts.forEach(function (i) { set[i] = true; });
      state.pick = {label: label, hosts: set};
      chip.innerHTML = esc(label) + '<button title="show every host">\u2715</button>';
      chip.classList.remove('hidden');
    }
    apply();
  }

  function setStatus(value) {
    state.status = value;
    Array.prototype.forEach.call(document.querySelectorAll('.filters button[data-status]'), function (b) {
      b.classList.toggle('on', b.getAttribute('data-status') === value);
    });
    apply();
  }

  function focusHost() {
    var match = /^#host=(.*)$/.exec(location.hash);
    if (!match) { return; }
    var i = byName[decodeURIComponent(match[1])];
    if (i === undefined) { return; }
    state.open[i] = true;
    pick('host ' + H[i][NAME], [i]);
    table.scrollIntoView();
  }

  Array.prototype.forEach.call(document.querySelectorAll('.filters button[data-status]'), function (b) {
    b.addEventListener('click', function () { setStatus(b.getAttribute('data-status')); });
  });
  ['finding', 'kernel', 'profile'].forEach(function (name) {
    var select = byId('f-' + name);
    if (select) { select.addEventListener('change', function () { state[name] = select.value; apply(); }); }
  });
  byId('f-text').addEventListener('input', function () { state.text = this.value.toLowerCase(); apply(); });
  byId('f-value').addEventListener('click', function (event) {
    if (event.target.tagName === 'BUTTON') { pick(null); }
  });
  byId('prev').addEventListener('click', function () { state.page -= 1; draw(); });
  byId('next').addEventListener('click', function () { state.page += 1; draw(); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
    th.addEventListener('click', function () { sortBy(column); });
  });
  body.addEventListener('click', function (event) {
    var button = event.target.closest('button.hn');
    if (!button) { return; }
    var i = Number(button.closest('tr').getAttribute('data-i'));
    if (state.open[i]) { delete state.open[i]; } else { state.open[i] = true; }
    draw();
  });
  Array.prototype.forEach.call(document.querySelectorAll('button.pick'), function (b) {
    b.addEventListener('click', function () {
      if (b.hasAttribute('data-finding')) {
        var select = byId('f-finding');
        select.value = b.getAttribute('data-finding');
        state.finding = select.value;
        apply();
      } else {
        var entry = D.values[Number(b.getAttribute('data-value'))];
        pick(entry[0] + ' = ' + entry[1], entry[2]);
      }
      table.scrollIntoView();
    });
  });
  window.addEventListener('hashchange', focusHost);

  // For tests and for the console: every host the filters leave, in table order.
  window.tcptuneReport = {shownHosts: function () { return shown.map(function (i) { return H[i][NAME]; }); }};
  apply();
  focusHost();
}());
