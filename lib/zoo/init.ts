/**
 * Weight initialisers, drawn from the zoo's seeded RNG. Names and formulas follow PyTorch so
 * that the detectors' fake-init schemes (which mimic PyTorch defaults) can be compared with
 * what each model really started from; models.json records the scheme of every parent.
 */
import { Rng } from './rng';

export type InitScheme = 'kaiming-uniform' | 'kaiming-normal';

export const INIT_SCHEMES: readonly InitScheme[] = ['kaiming-uniform', 'kaiming-normal'];

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
};

/** A weight of `count` values with the given fan-in (in·kh·kw for convs), as the scheme draws it. */
export function initWeight(scheme: InitScheme, count: number, fanIn: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  if (scheme === 'kaiming-uniform') {
    const b = Math.sqrt(6 / fanIn);
    return rng.fillUniform(out, -b, b);
  }
  return rng.fillNormal(out, Math.sqrt(2 / fanIn));
}

/** PyTorch's default bias: U(±1/sqrt(fan_in)). */
export function initBias(count: number, fanIn: number, rng: Rng): Float32Array {
  const b = 1 / Math.sqrt(fanIn);
  return rng.fillUniform(new Float32Array(count), -b, b);
}
