/**
 * Distance-matrix heat map as inline SVG. Rows follow the forest's drawing order, so each family
 * shows as a dark block on the diagonal (outlined), and anything dark outside a block is a close
 * pair the method put in different families.
 */
import { escapeHtml, formatNumber } from './format';

/** Dark = close, light = far: the pairs that matter (parent and child) are the ones that stand out. */
const STOPS = ['#08306b', '#2171b5', '#6baed6', '#c6dbef', '#f7fbff'];
export const NOT_COMPARABLE = '#d4d4d4';

export function heatColor(t: number): string {
  if (!Number.isFinite(t)) return NOT_COMPARABLE;
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i].match(/\w\w/g)!.map((h) => parseInt(h, 16));
  const b = STOPS[i + 1].match(/\w\w/g)!.map((h) => parseInt(h, 16));
  return '#' + a.map((v, k) => Math.round(v + (b[k] - v) * f).toString(16).padStart(2, '0')).join('');
}

/** Above this many models the SVG would weigh megabytes; the JSON keeps the numbers. */
export const HEATMAP_MAX_MODELS = 300;
/** Per-cell tooltips only while they stay cheap. */
const TOOLTIP_MAX_MODELS = 80;

export interface HeatmapInput {
  ids: string[];
  matrix: number[][];
  /** Display order of ids (ids not listed are appended). */
  order: string[];
  /** Contiguous groups in `order` to outline (families). */
  blocks: string[][];
}

export function renderHeatmap(input: HeatmapInput): string {
  const index = new Map(input.ids.map((id, i) => [id, i]));
  const order = [...input.order.filter((id) => index.has(id)), ...input.ids.filter((id) => !input.order.includes(id))];
  const n = order.length;
  if (n === 0) return '<p class="muted">No distances.</p>';
  if (n > HEATMAP_MAX_MODELS) {
    return `<p class="muted">${n} models: too many to draw the matrix here (limit ${HEATMAP_MAX_MODELS}); the JSON output holds it.</p>`;
  }
  let max = 0;
  for (const row of input.matrix) for (const v of row) if (Number.isFinite(v) && v > max) max = v;

  const cell = Math.max(3, Math.min(28, Math.floor(560 / n)));
  const labels = cell >= 9;
  const font = Math.min(11, cell - 2);
  const short = (id: string): string => (id.length > 24 ? id.slice(0, 23) + '…' : id);
  const labelW = labels ? Math.min(170, 12 + Math.max(...order.map((id) => short(id).length)) * font * 0.6) : 4;
  const x0 = labelW;
  const y0 = labelW;
  const size = n * cell;
  const legendH = 46;
  const lw = Math.min(240, Math.max(120, size));
  const W = Math.max(x0 + size + 8, x0 + lw + 120);
  const H = y0 + size + legendH;

  const parts: string[] = [];
  parts.push(`<svg class="heatmap" width="${W.toFixed(0)}" height="${H.toFixed(0)}" viewBox="0 0 ${W.toFixed(0)} ${H.toFixed(0)}" role="img" aria-label="distance matrix heat map">`);
  const tips = n <= TOOLTIP_MAX_MODELS;
  for (let r = 0; r < n; r++) {
    const i = index.get(order[r])!;
    for (let c = 0; c < n; c++) {
      const v = input.matrix[i]?.[index.get(order[c])!];
      const fill = heatColor(max > 0 ? v / max : v === 0 ? 0 : NaN);
      const tip = tips ? `<title>${escapeHtml(`${order[r]} ↔ ${order[c]}: ${Number.isFinite(v) ? formatNumber(v) : 'not comparable'}`)}</title>` : '';
      parts.push(`<rect x="${x0 + c * cell}" y="${y0 + r * cell}" width="${cell}" height="${cell}" fill="${fill}">${tip}</rect>`);
    }
  }
  const pos = new Map(order.map((id, k) => [id, k]));
  for (const b of input.blocks) {
    const ks = b.map((id) => pos.get(id)).filter((k): k is number => k !== undefined);
    if (ks.length < 2) continue;
    const lo = Math.min(...ks);
    const hi = Math.max(...ks);
    parts.push(`<rect x="${x0 + lo * cell}" y="${y0 + lo * cell}" width="${(hi - lo + 1) * cell}" height="${(hi - lo + 1) * cell}" fill="none" stroke="#e8590c" stroke-width="1.5"/>`);
  }
  if (labels) {
    order.forEach((id, k) => {
      const t = escapeHtml(short(id));
      const cy = y0 + k * cell + cell / 2 + font * 0.35;
      const cx = x0 + k * cell + cell / 2 + font * 0.35;
      parts.push(`<text x="${x0 - 4}" y="${cy.toFixed(1)}" text-anchor="end" font-size="${font}">${t}</text>`);
      parts.push(`<text transform="translate(${cx.toFixed(1)} ${y0 - 4}) rotate(-90)" font-size="${font}">${t}</text>`);
    });
  }
  // Legend: the colour ramp from 0 to the largest finite distance, plus the "not comparable" grey.
  const ly = y0 + size + 14;
  const steps = 48;
  for (let s = 0; s < steps; s++) {
    parts.push(`<rect x="${(x0 + (s * lw) / steps).toFixed(1)}" y="${ly}" width="${(lw / steps + 0.5).toFixed(1)}" height="10" fill="${heatColor(s / (steps - 1))}"/>`);
  }
  parts.push(`<text x="${x0}" y="${ly + 24}" font-size="10">0</text>`);
  parts.push(`<text x="${x0 + lw}" y="${ly + 24}" font-size="10" text-anchor="end">${escapeHtml(formatNumber(max))}</text>`);
  parts.push(`<text x="${x0 + lw / 2}" y="${ly + 24}" font-size="10" text-anchor="middle">distance</text>`);
  parts.push(`<rect x="${x0 + lw + 14}" y="${ly}" width="10" height="10" fill="${NOT_COMPARABLE}"/>`);
  parts.push(`<text x="${x0 + lw + 28}" y="${ly + 9}" font-size="10">not comparable</text>`);
  parts.push('</svg>');
  return parts.join('');
}
