/** Small formatting helpers shared by the renderers, so every format prints numbers alike. */

/**
 * Four significant digits, switching to exponent notation outside [1e-3, 1e5): scores and
 * distances range from tiny MLP deltas to LLM-sized sums, and a fixed number of decimals would
 * print most of them as 0.0000 or as 12-digit integers.
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(3);
  return x.toPrecision(4);
}

/** Confidences live in [0, 1]; two decimals are as much as they mean. */
export function formatConfidence(c: number): string {
  return Number.isFinite(c) ? c.toFixed(2) : 'NaN';
}

/** Integers with thousands separators, locale-independent so output is reproducible. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds as people read them: 3 ms, 812 ms, 4.2 s, 3 min 5 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${ms < 10 ? +ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60000);
  return `${min} min ${Math.round((ms - min * 60000) / 1000)} s`;
}

/**
 * Natural order ("ft-2" before "ft-10"), independent of locale so that every machine prints the
 * same forest: zoo ids carry generation and index numbers, and plain string order scrambles them.
 */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
      if (x.length !== y.length) return x.length - y.length; // "02" after "2"
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Length in code points, so that padding counts "✓" or "é" as one column. */
export function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - textWidth(s)));
}

export function padStart(s: string, width: number): string {
  return ' '.repeat(Math.max(0, width - textWidth(s))) + s;
}
