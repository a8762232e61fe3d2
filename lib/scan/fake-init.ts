/**
 * Fake-initialization schemes: which distribution r is drawn from for each tensor.
 *
 * A spec is a ';'-separated list of rules `[pattern=]scheme`, tried in order; the first whose
 * pattern matches the tensor name wins, a rule without pattern matches every tensor, and
 * `auto` applies when nothing matched. Patterns are globs (`*`, `?`) over the whole name, or
 * regular expressions written `/.../`. Examples:
 *   auto                                   PyTorch defaults (below)
 *   hf                                     Hugging Face LLaMA-style: normal(0, 0.02) weights
 *   *embed*=normal(0.02);*norm*=ones;auto  rules, then PyTorch defaults
 *
 * Schemes: auto | pytorch, hf[(std)], kaiming-uniform[(a)], kaiming-normal[(a)],
 * xavier-uniform[(gain)], xavier-normal[(gain)], normal(std) | normal(mean, std),
 * uniform(bound) | uniform(low, high), constant(c), zeros, ones.
 *
 * `auto` (PyTorch's defaults): weights with 2+ dims kaiming-uniform with a = √5 (nn.Linear,
 * nn.Conv*: U(±1/√fan_in)); embeddings (name contains "embed", "wte" or "wpe") N(0, 1); 1-D
 * weights (norm layers) 1; biases U(±1/√fan_in) with the fan-in of the sibling weight, 0 when
 * the sibling is a norm weight or missing; running_var 1, running_mean 0; scalars 0.
 */
import type { TensorFakeInit } from './types';
import { InvalidArgumentError } from '../errors';
import { philoxKey, type FakeInitParams } from './philox';

export interface FakeInitContext {
  /** Shape of the tensor (full, not row-prefixed: fan-in does not depend on rows). */
  shape: number[];
  /** Shape of `<prefix>.weight` when this tensor is `<prefix>.bias` (or similar). */
  siblingWeightShape?: number[];
}

interface Rule {
  pattern?: RegExp;
  source: string;
  scheme: string;
  args: number[];
}

const KNOWN = new Set([
  'auto', 'pytorch', 'hf', 'kaiming-uniform', 'kaiming-normal', 'xavier-uniform', 'xavier-normal',
  'normal', 'uniform', 'constant', 'zeros', 'ones',
]);

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

/** Parses a name pattern: a glob, or a regular expression between slashes. */
export function parsePattern(p: string): RegExp {
  if (p.length >= 2 && p.startsWith('/') && p.endsWith('/')) {
    // A bad regular expression is a bad argument, not a SyntaxError from deep inside.
    try {
      return new RegExp(p.slice(1, -1));
    } catch (e) {
      throw new InvalidArgumentError('E_INVALID_ARG', `bad regular expression ${p}: ${(e as Error).message}`, { cause: e });
    }
  }
  return globToRegExp(p);
}

function parseScheme(text: string, source: string): { scheme: string; args: number[] } {
  const m = /^([a-z-]+)\s*(?:\((.*)\))?$/.exec(text.trim());
  if (!m || !KNOWN.has(m[1])) {
    throw new InvalidArgumentError('E_INVALID_ARG', `fake-init: unknown scheme '${text.trim()}' in '${source}' (known: ${[...KNOWN].join(', ')})`);
  }
  const args = m[2] === undefined || m[2].trim() === ''
    ? []
    : m[2].split(',').map((a) => {
        const v = Number(a.trim().replace(/^[a-z_]+\s*=\s*/, ''));
        if (!Number.isFinite(v)) throw new InvalidArgumentError('E_INVALID_ARG', `fake-init: bad number '${a.trim()}' in '${source}'`);
        return v;
      });
  return { scheme: m[1], args };
}

/** Parses a spec into rules; throws a clear error on a malformed one. */
export function parseFakeInitSpec(spec: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of spec.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    // The pattern is what precedes the first '=' outside parentheses.
    let eq = -1;
    let depth = 0;
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '(') depth++;
      else if (part[i] === ')') depth--;
      else if (part[i] === '=' && depth === 0) {
        eq = i;
        break;
      }
    }
    const pattern = eq >= 0 ? part.slice(0, eq).trim() : undefined;
    const { scheme, args } = parseScheme(eq >= 0 ? part.slice(eq + 1) : part, part);
    rules.push({ pattern: pattern ? parsePattern(pattern) : undefined, source: part, scheme, args });
  }
  if (rules.length === 0) throw new InvalidArgumentError('E_INVALID_ARG', 'fake-init: empty spec');
  return rules;
}

/** PyTorch's fan-in: size(1) × receptive field; for 1-D tensors their length. */
export function fanIn(shape: number[]): number {
  if (shape.length === 0) return 1;
  if (shape.length === 1) return shape[0];
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

export function fanOut(shape: number[]): number {
  if (shape.length < 2) return shape[0] ?? 1;
  return shape[0] * shape.slice(2).reduce((a, b) => a * b, 1);
}

const fmt = (x: number) => Number(x.toPrecision(6)).toString();

function uniform(bound: number, label: string): TensorFakeInit {
  return { scheme: label, kind: 'uniform', a: -bound, b: bound };
}
function normal(mean: number, std: number, label: string): TensorFakeInit {
  return { scheme: label, kind: 'normal', a: mean, b: std };
}
function constant(c: number, label: string): TensorFakeInit {
  return { scheme: label, kind: 'constant', a: c, b: 0 };
}

function isBiasLike(name: string): boolean {
  return /(^|[._])bias$/.test(name);
}

function pytorchDefault(name: string, ctx: FakeInitContext): TensorFakeInit {
  const { shape } = ctx;
  if (shape.length === 0) return constant(0, 'auto:constant(0)');
  if (/running_var$/.test(name)) return constant(1, 'auto:constant(1)');
  if (/running_mean$/.test(name)) return constant(0, 'auto:constant(0)');
  if (shape.length >= 2) {
    if (/embed|(^|\.)wte(\.|$)|(^|\.)wpe(\.|$)/i.test(name)) return normal(0, 1, 'auto:normal(0,1)');
    const bound = 1 / Math.sqrt(fanIn(shape));
    return uniform(bound, `auto:kaiming-uniform(a=√5)=U(±${fmt(bound)})`);
  }
  if (isBiasLike(name)) {
    const w = ctx.siblingWeightShape;
    if (w && w.length >= 2) {
      const bound = 1 / Math.sqrt(fanIn(w));
      return uniform(bound, `auto:bias U(±1/√fan_in)=U(±${fmt(bound)})`);
    }
    return constant(0, 'auto:constant(0)');
  }
  return constant(1, 'auto:constant(1)'); // 1-D weights: norm layers
}

function hfDefault(name: string, ctx: FakeInitContext, std: number): TensorFakeInit {
  const { shape } = ctx;
  if (shape.length >= 2) return normal(0, std, `hf:normal(0,${fmt(std)})`);
  if (isBiasLike(name) || shape.length === 0) return constant(0, 'hf:constant(0)');
  return constant(1, 'hf:constant(1)');
}

function applyScheme(rule: Rule, name: string, ctx: FakeInitContext): TensorFakeInit {
  const { scheme, args } = rule;
  const fi = fanIn(ctx.shape);
  const label = rule.source;
  switch (scheme) {
    case 'auto':
    case 'pytorch':
      return pytorchDefault(name, ctx);
    case 'hf':
      return hfDefault(name, ctx, args[0] ?? 0.02);
    case 'kaiming-uniform': {
      const a = args[0] ?? 0;
      const bound = Math.sqrt(2 / (1 + a * a)) * Math.sqrt(3 / fi);
      return uniform(bound, label);
    }
    case 'kaiming-normal': {
      const a = args[0] ?? 0;
      return normal(0, Math.sqrt(2 / (1 + a * a)) / Math.sqrt(fi), label);
    }
    case 'xavier-uniform': {
      const gain = args[0] ?? 1;
      return uniform(gain * Math.sqrt(6 / (fi + fanOut(ctx.shape))), label);
    }
    case 'xavier-normal': {
      const gain = args[0] ?? 1;
      return normal(0, gain * Math.sqrt(2 / (fi + fanOut(ctx.shape))), label);
    }
    case 'normal':
      if (args.length === 1) return normal(0, args[0], label);
      if (args.length === 2) return normal(args[0], args[1], label);
      throw new InvalidArgumentError('E_INVALID_ARG', `fake-init: normal takes (std) or (mean, std): '${label}'`);
    case 'uniform':
      if (args.length === 1) return uniform(Math.abs(args[0]), label);
      if (args.length === 2) return { scheme: label, kind: 'uniform', a: args[0], b: args[1] };
      throw new InvalidArgumentError('E_INVALID_ARG', `fake-init: uniform takes (bound) or (low, high): '${label}'`);
    case 'constant':
      if (args.length !== 1) throw new InvalidArgumentError('E_INVALID_ARG', `fake-init: constant takes one value: '${label}'`);
      return constant(args[0], label);
    case 'zeros':
      return constant(0, label);
    case 'ones':
      return constant(1, label);
  }
  throw new InvalidArgumentError('E_INVALID_ARG', `fake-init: unknown scheme '${scheme}'`);
}

/** Resolves the fake-init distribution of one tensor under a spec. */
export function resolveFakeInit(spec: string | Rule[], name: string, ctx: FakeInitContext): TensorFakeInit {
  const rules = typeof spec === 'string' ? parseFakeInitSpec(spec) : spec;
  for (const rule of rules) {
    if (!rule.pattern || rule.pattern.test(name)) return applyScheme(rule, name, ctx);
  }
  return pytorchDefault(name, ctx);
}

/** The name of the weight a bias-like tensor belongs to, e.g. "fc1.bias" -> "fc1.weight". */
export function siblingWeightName(name: string): string | undefined {
  if (!isBiasLike(name)) return undefined;
  return name.replace(/bias$/, 'weight');
}

export const FAKE_INIT_KIND_CODE: Record<TensorFakeInit['kind'], number> = { constant: 0, uniform: 1, normal: 2 };

/** The draw of a tensor's fake initialization as the native readers and fakeInitValue take it: its law, keyed by seed and tensor name. */
export function fakeInitParams(fi: TensorFakeInit, seed: number, name: string): FakeInitParams {
  return { kind: FAKE_INIT_KIND_CODE[fi.kind], a: fi.a, b: fi.b, ...philoxKey(seed, name) };
}
