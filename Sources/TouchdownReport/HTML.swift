import TouchdownTrace

/// One self-contained HTML page: its style and its one script are inline,
/// and it loads nothing (no fonts, no scripts, no images from elsewhere).
struct HTMLPage {
    var title: String
    var body = ""

    mutating func add(_ html: String) { body += html }

    var text: String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="touchdown \(touchdownVersion)">
        <title>\(escapeMarkup(title))</title>
        <style>\(HTMLPage.style)</style>
        </head>
        <body>
        \(body)
        <script>\(HTMLPage.script)</script>
        </body>
        </html>

        """
    }

    /// Colours are variables so that dark mode and print change them in one
    /// place; charts use the same variables through their classes.
    static let style = """
    :root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #5b6470; --grid: #d8dde3; --panel: #f4f6f8;
      --a: #1f6fd1; --b: #c2410c; --c: #0f8a5f; --d: #7c3aed; --pass: #1f6fd1; --fail: #d9480f; --fault: #b45309; --anomaly: #c92a2a; --event: #6b7280; }
    @media (prefers-color-scheme: dark) { :root { --bg: #111418; --fg: #e6e8eb; --muted: #a0a8b3; --grid: #2f363e; --panel: #1a1f25;
      --a: #6aa8ff; --b: #ff8a4c; --c: #3ccf91; --d: #b794f6; --pass: #6aa8ff; --fail: #ff7a45; --fault: #f0b429; --anomaly: #ff6b6b; --event: #9aa3ad; } }
    @media print { :root { --bg: #ffffff; --fg: #000000; --muted: #333333; --grid: #bbbbbb; --panel: #ffffff; }
      section { break-inside: avoid; } .noprint { display: none; } }
    body { background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; }
    h1 { font-size: 1.5em; margin: 0 0 .3em; } h2 { font-size: 1.2em; margin: 1.6em 0 .5em; border-bottom: 1px solid var(--grid); } h3 { font-size: 1em; margin: 1em 0 .3em; }
    code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .92em; }
    .muted { color: var(--muted); } .bad { color: var(--fail); font-weight: 600; } .good { color: var(--pass); font-weight: 600; }
    table { border-collapse: collapse; margin: .5em 0; } th, td { padding: .2em .6em; border-bottom: 1px solid var(--grid); text-align: left; vertical-align: top; }
    th.sortable { cursor: pointer; user-select: none; } th.sortable::after { content: " \\2195"; color: var(--muted); }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .facts { display: grid; grid-template-columns: max-content auto; gap: .15em 1em; }
    .charts { display: flex; flex-wrap: wrap; gap: 1em; }
    svg.chart { background: var(--panel); border-radius: 4px; max-width: 100%; height: auto; }
    svg text { fill: var(--fg); font: 11px system-ui, sans-serif; } svg .axis-label { font-size: 12px; } svg .title { font-size: 13px; font-weight: 600; }
    svg .gridline { stroke: var(--grid); stroke-width: 1; } svg .axis { stroke: var(--muted); stroke-width: 1; }
    svg .s0 { stroke: var(--a); } svg .s1 { stroke: var(--b); } svg .s2 { stroke: var(--c); } svg .s3 { stroke: var(--d); }
    svg .f0 { fill: var(--a); } svg .f1 { fill: var(--b); } svg .f2 { fill: var(--c); } svg .f3 { fill: var(--d); }
    svg .line { fill: none; stroke-width: 1.5; } svg .dash { stroke-dasharray: 5 3; }
    svg .dots { fill: none; stroke-linecap: round; stroke-width: 4; } svg .pass { stroke: var(--pass); } svg .fail { stroke: var(--fail); }
    svg .bound { stroke: var(--fail); stroke-width: 1.5; stroke-dasharray: 6 3; }
    svg .ev { stroke: var(--event); stroke-width: 1; stroke-dasharray: 2 3; } svg .ev-fault { stroke: var(--fault); stroke-width: 1.5; stroke-dasharray: 4 2; }
    svg .ev-anomaly { stroke: var(--anomaly); stroke-width: 1.5; } svg .bar { fill: var(--a); opacity: .8; } svg .bar-out { fill: var(--fail); opacity: .85; }
    svg .invalid { fill: var(--fail); } svg .cell text { font-size: 12px; fill: #111; } svg .cell .rate { font-weight: 600; }
    details > summary { cursor: pointer; }
    /* A long table is laid out only when scrolled to (10,000 runs open fast). */
    #runs { content-visibility: auto; contain-intrinsic-size: auto 4000px; }
    """

    /// Sorts a table by a column when its header is clicked (numbers by
    /// value, `data-sort` when a cell gives one); a second click reverses.
    /// A table with `data-shown="N"` shows its first N rows in the current
    /// order (the others are in the page, hidden: a browser lays out ten
    /// thousand rows slowly); its "show all" button, or a link to a hidden
    /// row, shows them.
    static let script = """
    document.querySelectorAll('table.sortable').forEach(function (table) {
      var limit = table.hasAttribute('data-shown') ? parseInt(table.getAttribute('data-shown'), 10) : Infinity;
      function show() { Array.prototype.forEach.call(table.tBodies[0].rows, function (r, i) { r.hidden = i >= limit; }); }
      var all = document.getElementById(table.id + '-all');
      if (all) all.addEventListener('click', function () { limit = Infinity; show(); all.hidden = true; });
      table.querySelectorAll('th').forEach(function (th, column) {
        th.classList.add('sortable');
        th.addEventListener('click', function () {
          var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
          var up = th.getAttribute('data-dir') !== 'up';
          table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
          th.setAttribute('data-dir', up ? 'up' : 'down');
          function key(row) { var c = row.cells[column]; var s = c.getAttribute('data-sort'); return s !== null ? s : c.textContent.trim(); }
          rows.sort(function (a, b) {
            var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
            var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : (isNaN(nx) && isNaN(ny) ? x.localeCompare(y) : (isNaN(nx) ? 1 : -1));
            return up ? r : -r;
          });
          rows.forEach(function (r) { body.appendChild(r); });
          show();
        });
      });
    });
    document.querySelectorAll('a[href^="#run-"]').forEach(function (a) {
      a.addEventListener('click', function () { var row = document.getElementById(a.getAttribute('href').slice(1)); if (row) row.hidden = false; });
    });
    """
}
