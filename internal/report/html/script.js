// Kensa HTML report: sorts and filters the findings table, and counts what
// is shown. Every row is in the page already; without this script the
// report reads and prints the same, unsorted and unfiltered.
(function () {
  'use strict';

  // A finding's title opens and folds its details (hidden="until-found",
  // which find in page opens too: the button then says so).
  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button.t') : null;
    if (!b) return;
    var open = b.getAttribute('aria-expanded') !== 'true';
    setOpen(b, open);
  });
  document.addEventListener('beforematch', function (e) {
    var tr = e.target.closest('tr');
    var b = tr && tr.querySelector('button.t');
    if (b) b.setAttribute('aria-expanded', 'true');
  });
  function setOpen(b, open) {
    var d = b.closest('tr').querySelector('dl.det');
    b.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) d.removeAttribute('hidden');
    else d.setAttribute('hidden', 'until-found');
  }

  var table = document.getElementById('findings-table');
  var filters = document.getElementById('filters');
  if (!table || !filters) return;

  var tbodies = table.tBodies; // chunks of rows (data-chunk each)
  var chunk = parseInt(table.getAttribute('data-chunk'), 10) || 250;
  var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr')); // in the report's order
  var total = rows.length;
  var shown = document.getElementById('shown');
  var boxes = filters.querySelectorAll('input[name=severity]');
  var pkg = document.getElementById('f-package');
  var search = document.getElementById('f-search');
  var expand = document.getElementById('f-expand');
  var texts = null; // each row's text, lower case, made on the first search

  var rank = Object.create(null);
  ['unrated', 'informational', 'low', 'medium', 'high'].forEach(function (s, i) { rank[s] = i + 1; });

  function apply() {
    var sev = Object.create(null);
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) sev[boxes[i].value] = true;
    var p = pkg.value;
    var q = search.value.trim().toLowerCase();
    if (q && !texts) texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var n = 0;
    for (var j = 0; j < total; j++) {
      var r = rows[j];
      var show = sev[r.getAttribute('data-s')] === true &&
        (p === '' || r.getAttribute('data-p') === p) &&
        (q === '' || texts[j].indexOf(q) !== -1);
      if (r.hidden === show) r.hidden = !show;
      if (show) n++;
    }
    shown.textContent = 'Showing ' + n + ' of ' + total + ' findings' + (n < total ? ' (filtered)' : '') +
      '. Select a title for its details; select a column heading to sort.';
    sizeChunks();
  }

  // A chunk off screen is not laid out; the browser sizes it from an
  // estimate, made here from the rows it shows, so that the scroll bar
  // stays close to the truth after filtering. (Not "auto": the size a
  // chunk had when last shown would outlive a filter.) An empty chunk is
  // hidden.
  function sizeChunks() {
    for (var i = 0; i < tbodies.length; i++) {
      var tb = tbodies[i];
      var n = 0;
      for (var j = 0; j < tb.rows.length; j++) if (!tb.rows[j].hidden) n++;
      if (tb.hidden !== (n === 0)) tb.hidden = n === 0;
      tb.style.containIntrinsicSize = (n * 44) + 'px';
    }
  }

  // Sorting. A column is sorted on a key: the severity's rank, the score
  // (rows without one last), or the text, compared as people read
  // numbers (CVE-2024-999 before CVE-2024-1000). Ties keep the report's
  // order, so a sort always gives the same order.
  var heads = table.tHead.rows[0].cells;
  var collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

  function key(r, col, kind) {
    var c = r.cells[col];
    if (kind === 'sev') return rank[r.getAttribute('data-s')] || 0;
    if (kind === 'num') {
      var v = parseFloat(c.textContent);
      return isNaN(v) ? null : v;
    }
    var t = c.querySelector('button.t');
    return (t || c).textContent;
  }

  function sortBy(col, kind) {
    var cur = heads[col].getAttribute('aria-sort');
    var dir;
    if (cur === 'ascending') dir = 'descending';
    else if (cur === 'descending') dir = 'ascending';
    else dir = kind === 'text' ? 'ascending' : 'descending';
    var sign = dir === 'ascending' ? 1 : -1;
    var items = rows.map(function (r, i) { return { r: r, k: key(r, col, kind), i: i }; });
    items.sort(function (a, b) {
      if (a.k === null || b.k === null) {
        if (a.k === b.k) return a.i - b.i;
        return a.k === null ? 1 : -1;
      }
      var c = kind === 'text' ? collator.compare(a.k, b.k) : a.k - b.k;
      return c !== 0 ? sign * c : a.i - b.i;
    });
    // Refill the chunks in the new order.
    for (var j = 0; j < items.length; j += chunk) {
      var frag = document.createDocumentFragment();
      for (var k = j; k < Math.min(j + chunk, items.length); k++) frag.appendChild(items[k].r);
      tbodies[j / chunk].appendChild(frag);
    }
    sizeChunks();
    for (var h = 0; h < heads.length; h++) {
      if (heads[h].hasAttribute('data-sort')) heads[h].setAttribute('aria-sort', h === col ? dir : 'none');
    }
  }

  Array.prototype.forEach.call(heads, function (th, col) {
    var kind = th.getAttribute('data-sort');
    if (!kind) return;
    var b = document.createElement('button');
    b.type = 'button';
    b.title = 'Sort by ' + th.textContent.toLowerCase();
    while (th.firstChild) b.appendChild(th.firstChild);
    th.appendChild(b);
    if (!th.hasAttribute('aria-sort')) th.setAttribute('aria-sort', 'none');
    b.addEventListener('click', function () { sortBy(col, kind); });
  });

  for (var i = 0; i < boxes.length; i++) boxes[i].addEventListener('change', apply);
  pkg.addEventListener('change', apply);
  search.addEventListener('input', apply);
  document.getElementById('f-reset').addEventListener('click', function () {
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = true;
    pkg.value = '';
    search.value = '';
    apply();
  });
  expand.addEventListener('click', function () {
    var open = expand.getAttribute('aria-pressed') !== 'true';
    var bs = table.querySelectorAll('button.t');
    for (var i = 0; i < bs.length; i++) setOpen(bs[i], open);
    expand.setAttribute('aria-pressed', open ? 'true' : 'false');
    expand.textContent = open ? 'Fold details' : 'Expand details';
  });

  filters.hidden = false;
  apply(); // a browser may restore the controls' state on reload
})();
