import type { MethodSpec } from './spec';

export const learned: MethodSpec = {
  name: 'learned',
  description: 'transformer over edge embeddings from a trained detector (phylogeny train; --detector DIR)',
  modelFiles: {
    why: "method 'learned' reads the model files and needs a trained detector: call detectLearned(scan, set, { detector }) (or the CLI with model paths and a detector)",
    // Loaded only when it runs: the learned detector pulls in tfjs, which listing or running
    // the other methods must not pay for.
    async run(scan, set, opts) {
      const { detectLearned } = await import('../../learned/detect-learned');
      return detectLearned(scan, set, opts);
    },
  },
};
