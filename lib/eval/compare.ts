/**
 * Runs several detection methods on one scan and scores each against the truth: the table
 * behind `phylogeny eval`, the demo and the paper-protocol script.
 */
import { detect } from '../detect/detect';
import type { DetectOptions, MethodName } from '../detect/options';
import { METHODS } from '../detect/methods/registry';
import type { DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';
import type { ScanResult } from '../scan/types';
import { evaluate, EvalMetrics } from './metrics';

export interface MethodEval {
  method: string;
  metrics: EvalMetrics;
  result: DetectionResult;
  ms: number;
}

export const ALL_METHODS: MethodName[] = METHODS.map((m) => m.name);

/** Scores one result (of any method, the learned detector's included) against the truth. */
export function evaluateResult(method: string, result: DetectionResult, truth: Lineage, ms: number): MethodEval {
  return { method, metrics: evaluate(result, truth), result, ms };
}

export function evaluateMethods(scan: ScanResult, truth: Lineage, methods: string[] = ALL_METHODS, base: DetectOptions = {}): MethodEval[] {
  return methods.map((method) => {
    const t0 = Date.now();
    const result = detect(scan, { ...base, method: method as MethodName });
    return evaluateResult(method, result, truth, Date.now() - t0);
  });
}

const pct = (x: number | null) => (x === null ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);

/** A fixed-width table, one row per method. */
export function formatEvalTable(rows: MethodEval[]): string {
  const w = Math.max(6, ...rows.map((r) => r.method.length));
  const head = `${'method'.padEnd(w)}  edge acc  precision  recall      F1  direction    ARI   typed acc  multi-parent  false merges`;
  const lines = rows.map((r) => {
    const m = r.metrics;
    const t = m.typed;
    return (
      `${r.method.padEnd(w)}  ${pct(m.edgeAccuracy)}    ${pct(m.precision)}  ${pct(m.recall)}  ${pct(m.f1)}    ${pct(m.directionAccuracy)}  ${m.ari.toFixed(3).padStart(6)}` +
      `      ${pct(t.typedEdgeAccuracy)}        ${pct(t.multiParentRecall)}  ${String(t.falseMerges).padStart(12)}`
    );
  });
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

/** The same as a Markdown table (README, docs). */
export function formatEvalMarkdown(rows: MethodEval[]): string {
  const p = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  return [
    '| method | edge accuracy | precision | recall | F1 | direction | ARI | typed accuracy | multi-parent recall | false merges |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const m = r.metrics;
      const t = m.typed;
      return `| ${r.method} | ${p(m.edgeAccuracy)} | ${p(m.precision)} | ${p(m.recall)} | ${p(m.f1)} | ${p(m.directionAccuracy)} | ${m.ari.toFixed(3)} | ${p(t.typedEdgeAccuracy)} | ${p(t.multiParentRecall)} | ${t.falseMerges} |`;
    }),
  ].join('\n');
}
