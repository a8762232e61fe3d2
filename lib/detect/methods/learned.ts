import type { MethodSpec } from './spec';

export const learned: MethodSpec = {
  name: 'learned',
  description: 'transformer over edge embeddings from a trained detector (the shipped one, or --detector DIR from phylogeny train)',
  modelFiles: {
    why: "method 'learned' reads the model files: call detectLearned(scan, set) (the shipped detector; or { detector: DIR }), or the CLI with model paths",
    // Loaded only when it runs: the learned detector pulls in tfjs, which listing or running
    // the other methods must not pay for.
    async run(scan, set, opts) {
      const { detectLearned } = await import('../../learned/detect-learned');
      return detectLearned(scan, set, opts);
    },
  },
};
