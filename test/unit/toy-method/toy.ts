/**
 * A method that exists only for the registry test: every model but the first is a child of
 * model 0 when linked to it. Registered by the test, never by the library.
 */
import type { MethodSpec } from '../../../lib/detect';

export const toy: MethodSpec = {
  name: 'toy',
  description: 'test-only method: model 0 is the parent of every model linked to it',
  defaults: { within: 'star' },
  run: ({ D }) => ({
    parent: Int32Array.from(D, (_, v) => (v > 0 && Number.isFinite(D[0][v]) ? 0 : -1)),
    rivalTau: Infinity,
    orientation: 'edge',
    chosen: { toyRan: true },
    warnings: ['toy method ran'],
  }),
};
