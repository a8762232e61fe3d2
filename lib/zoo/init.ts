/**
 * Weight initialisers, drawn from the zoo's seeded RNG. Names and formulas follow PyTorch so
 * that the detectors' fake-init schemes (which mimic PyTorch defaults) can be compared with
 * what each model really started from; models.json records the scheme of every parent.
 */
import { Rng } from './rng';

export type InitScheme = 'kaiming-uniform' | 'kaiming-normal' | 'xavier-uniform' | 'normal-0.02' | 'truncated-normal-0.02';

export const INIT_SCHEMES: readonly InitScheme[] = ['kaiming-uniform', 'kaiming-normal', 'xavier-uniform', 'normal-0.02', 'truncated-normal-0.02'];

/** Schemes whose biases start at zero (the transformer and Xavier recipes), not PyTorch's U(±1/√fan_in). */
const ZERO_BIAS: ReadonlySet<InitScheme> = new Set(['xavier-uniform', 'normal-0.02', 'truncated-normal-0.02']);

/** What each scheme means, written into models.json. */
export const INIT_DESCRIPTIONS: Record<InitScheme, { weights: string; biases: string }> = {
  'kaiming-uniform': {
    weights: "U(-b, b), b = sqrt(6 / fan_in): torch.nn.init.kaiming_uniform_(w, nonlinearity='relu')",
    biases: 'U(-1/sqrt(fan_in), 1/sqrt(fan_in)): the PyTorch nn.Linear / nn.Conv2d default',
  },
  'kaiming-normal': {
    weights: "N(0, 2 / fan_in): torch.nn.init.kaiming_normal_(w, nonlinearity='relu')",
    biases: 'U(-1/sqrt(fan_in), 1/sqrt(fan_in)): the PyTorch nn.Linear / nn.Conv2d default',
  },
  'xavier-uniform': {
    weights: 'U(-b, b), b = sqrt(6 / (fan_in + fan_out)): torch.nn.init.xavier_uniform_(w)',
    biases: 'zeros',
  },
  'normal-0.02': {
    weights: 'N(0, 0.02²): the GPT-2 / BERT / LLaMA initializer_range recipe',
    biases: 'zeros',
  },
  'truncated-normal-0.02': {
    weights: 'N(0, 0.02²) truncated to ±2σ (redrawn outside): torch.nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04)',
    biases: 'zeros',
  },
};

/**
 * A weight of `count` values with the given fan-in (in·kh·kw for convs), as the scheme draws
 * it. Xavier's fan-out is count / fan_in (out·kh·kw for convs would differ only for convs).
 */
export function initWeight(scheme: InitScheme, count: number, fanIn: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  switch (scheme) {
    case 'kaiming-uniform': {
      const b = Math.sqrt(6 / fanIn);
      return rng.fillUniform(out, -b, b);
    }
    case 'kaiming-normal':
      return rng.fillNormal(out, Math.sqrt(2 / fanIn));
    case 'xavier-uniform': {
      const b = Math.sqrt(6 / (fanIn + count / fanIn));
      return rng.fillUniform(out, -b, b);
    }
    case 'normal-0.02':
      return rng.fillNormal(out, 0.02);
    case 'truncated-normal-0.02':
      for (let i = 0; i < count; i++) {
        let z: number;
        do z = rng.normal();
        while (Math.abs(z) > 2);
        out[i] = 0.02 * z;
      }
      return out;
  }
}

/** The scheme's bias: PyTorch's default for the Kaiming schemes, zeros for the others. */
export function initBiasFor(scheme: InitScheme, count: number, fanIn: number, rng: Rng): Float32Array {
  return ZERO_BIAS.has(scheme) ? new Float32Array(count) : initBias(count, fanIn, rng);
}

/** PyTorch's default bias: U(±1/sqrt(fan_in)). */
export function initBias(count: number, fanIn: number, rng: Rng): Float32Array {
  const b = 1 / Math.sqrt(fanIn);
  return rng.fillUniform(new Float32Array(count), -b, b);
}
