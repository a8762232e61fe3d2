/** The HTML report's inline stylesheet and its one small script (table sorting). */

export const CSS = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa; --accent: #0b2f6b;
  --right: #1a7f37; --reversed: #b35900; --wrong: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub, .muted { color: var(--muted); }
.stats { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 4px; }
.stat { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 96px; }
.stat b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
.stat span { color: var(--muted); font-size: 12px; }
.stat.right b { color: var(--right); } .stat.reversed b { color: var(--reversed); } .stat.wrong b { color: var(--wrong); }
.graph { border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow: auto; background: #fff; text-align: center; }
.graph svg { max-width: 100%; height: auto; }
.legend { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 0 28px; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--panel); position: sticky; top: 0; font-weight: 600; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; font-size: 10px; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; font-size: 10px; }
td.num { text-align: right; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.bar { display: inline-block; width: 54px; height: 7px; background: #e6ebf1; border-radius: 4px; margin-left: 8px; vertical-align: middle; }
.bar i { display: block; height: 100%; border-radius: 4px; background: var(--accent); }
.mark { font-weight: 700; } .mark.right { color: var(--right); } .mark.reversed { color: var(--reversed); } .mark.wrong { color: var(--wrong); }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 9px; background: #e7edf5; color: #30465f; margin-right: 4px; }
.tag.dup { background: #f0e6f6; color: #6b2f86; }
.warnings { background: #fff8c5; border: 1px solid #d4a72c66; border-radius: 8px; padding: 8px 14px 8px 30px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; overflow: auto; margin: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 10px; }
dt { color: var(--muted); }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
`;

/** Click a header to sort by it; cells carry data-sort so numbers sort as numbers. */
export const SORT_SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th) {
    th.addEventListener('click', function () {
      var col = th.cellIndex, asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function (r) { var c = r.cells[col]; return c.hasAttribute('data-sort') ? c.getAttribute('data-sort') : c.textContent; };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
        var d = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, undefined, { numeric: true });
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
`;
