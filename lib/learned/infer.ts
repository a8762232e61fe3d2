/**
 * The detector at inference: the encoder runs over whole matrices (native, the streaming
 * pass; or tfjs for small models / without the addon), then the transformer and decoding.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeEdgeWeights } from '../native';
import { encodeMatrixTf, foldEncoder, LATENT } from './encoder';
import { poolTokens, PreparedSet, presentSlots, setTensors, WeightCache } from './data';
import { decodeForest, DecodedForest } from './decode';
import { gateLogits } from './tree-gate';
import { tensorInfo } from './features';
import { detectorLogits, DetectorVars } from './model';
import { encodeEdgesNative, EdgeEncodeRequest, NativeEncodeOptions } from './native-encoder';

export type EncoderEngine = 'native' | 'tfjs';

export interface EncodingRun {
  engine: EncoderEngine;
  seconds: number;
  device?: string;
  isa?: string;
  threads?: number;
}

/** Per pair × tensor, the folded encoder's 32 numbers over the whole matrices: [P × T × 32]. */
export async function encodeWholeMatrices(ps: PreparedSet, weights: NativeEdgeWeights, engine: EncoderEngine, opts: NativeEncodeOptions = {}): Promise<{ values: Float32Array; present: Float32Array; run: EncodingRun }> {
  const P = ps.features.pairs.length;
  const T = ps.tensors.length;
  const values = new Float32Array(P * T * LATENT);
  const present = new Float32Array(P * T);
  const reqs: EdgeEncodeRequest[] = [];
  const slot: number[] = [];
  ps.features.pairs.forEach((p, i) =>
    ps.tensors.forEach((t, j) => {
      const s = ps.scales[i * T + j];
      if (s > 0) {
        reqs.push({ tensor: t.name, a: p.a, b: p.b, scale: s });
        slot.push(i * T + j);
        present[i * T + j] = 1;
      }
    }),
  );
  const t0 = Date.now();
  if (engine === 'native') {
    const out = await encodeEdgesNative(ps.set, reqs, weights, opts);
    slot.forEach((s, r) => values.set(out.values.subarray(r * LATENT, (r + 1) * LATENT), s * LATENT));
    return { values, present, run: { engine, seconds: out.run.seconds, device: out.run.device, isa: out.run.isa, threads: out.run.threads } };
  }
  const cache = new WeightCache(ps.set);
  reqs.forEach((r, k) => {
    const t = ps.tensors.find((x) => x.name === r.tensor)!;
    const { rows, cols } = tensorInfo(t);
    values.set(encodeMatrixTf(weights, cache.get(r.a, r.tensor), cache.get(r.b, r.tensor), rows, cols, r.scale), slot[k] * LATENT);
  });
  return { values, present, run: { engine, seconds: (Date.now() - t0) / 1000 } };
}

export interface InferOptions extends NativeEncodeOptions {
  engine?: EncoderEngine;
  /** The tree gate's β (tree-gate.ts gateLogits) instead of the detector's own (config.treeGate, default 0). */
  treeGate?: number;
}

export async function runDetector(m: DetectorVars, ps: PreparedSet, opts: InferOptions = {}): Promise<{ forest: DecodedForest; /** The network's logits, before the tree gate. */ logits: Float32Array; encoding: EncodingRun | null }> {
  const P = ps.features.pairs.length;
  const T = ps.tensors.length;
  let enc: Awaited<ReturnType<typeof encodeWholeMatrices>> | null = null;
  if (m.config.useEncoder && T > 0 && P > 0) enc = await encodeWholeMatrices(ps, foldEncoder(m.encoder), opts.engine ?? 'native', opts);
  const logits = tf.tidy(() => {
    const perTensor = enc ? tf.tensor3d(enc.values, [P, T, LATENT]) : null;
    const encoded = poolTokens(ps, perTensor, presentSlots(ps), m.typeEmb as tf.Tensor2D, m.tensorIn as tf.Tensor2D);
    return Float32Array.from(detectorLogits(m, setTensors(ps, encoded)).dataSync());
  });
  const gated = gateLogits(logits, ps.features.edge, ps.features.node, P, ps.scan.models.length, opts.treeGate ?? m.config.treeGate ?? 0);
  return { forest: decodeForest(gated, ps.graph, ps.features.pairs, ps.scan.models.length), logits, encoding: enc?.run ?? null };
}
