/**
 * The CLI options of this area: --strict-dtypes (and its contradiction with
 * --skip-non-float), --direction-signal NAME=EPS, --family-flip P|off, --family-noise P|off, --evidence-temper T, --running-stats R and
 * --min-direction-confidence X, on real
 * safetensors files; bad values exit 2 naming the option.
 */
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { tmpDir, writeRandomModel } from '../helpers/models';

const run = runCli;

describe('direction options on the command line', () => {
  const dir = tmpDir('np-cli-direction-');
  const shapes = [{ name: 'w', shape: [16, 9], dtype: 'F32' as const, scale: 1 }, { name: 'b', shape: [16], dtype: 'F32' as const, scale: 1 }];
  const base = writeRandomModel(path.join(dir, 'p.safetensors'), shapes, 1);
  writeRandomModel(path.join(dir, 'c.safetensors'), shapes.map((s) => ({ ...s, scale: 0.1 })), 2, base);

  it('contradictory or malformed values exit 2 naming the option', async () => {
    const a = await run(['scan', dir, '--strict-dtypes', '--skip-non-float', '--out', path.join(dir, 's.json'), '-q']);
    expect(a.code).toBe(2);
    expect(a.err).toContain('--strict-dtypes and --skip-non-float contradict each other');
    const b = await run(['detect', dir, '--direction-signal', 'norm', '-q']);
    expect(b.code).toBe(2);
    expect(b.err).toContain("--direction-signal wants NAME=EPS with EPS in (0, 1); got 'norm'");
    const c = await run(['detect', dir, '--direction-signal', 'loss=0.2', '-q']);
    expect(c.code).toBe(2);
    expect(c.err).toContain("unknown signal 'loss'");
    const d = await run(['detect', dir, '--min-direction-confidence', '2', '-q']);
    expect(d.code).toBe(2);
    expect(d.err).toContain('--min-direction-confidence must be in [0, 1]');
    const e = await run(['detect', dir, '--family-flip', '0.7', '-q']);
    expect(e.code).toBe(2);
    expect(e.err).toContain("--family-flip must be in (0, 0.5) or 'off'; got '0.7'");
    const f = await run(['detect', dir, '--family-noise', '1.2', '-q']);
    expect(f.code).toBe(2);
    expect(f.err).toContain("--family-noise must be in (0, 1) or 'off'; got '1.2'");
    for (const bad of ['0', '1.5']) {
      const t = await run(['detect', dir, '--evidence-temper', bad, '-q']);
      expect(t.code).toBe(2);
      expect(t.err).toContain(`--evidence-temper must be in (0, 1]; got ${Number(bad)}`);
    }
    // The three readings' priors must leave the kept one some probability.
    const g = await run(['detect', dir, '--family-flip', '0.4', '--family-noise', '0.7', '-q']);
    expect(g.code).not.toBe(0);
    expect(g.err).toContain('familyNoise must be in (0, 1 − familyFlip)');
  });

  it('--family-flip reaches the options, and off turns it off', async () => {
    const on = JSON.parse((await run(['detect', dir, '--family-flip', '0.3', '--format', 'json', '-q'])).out);
    expect(on.options.familyFlip).toBe(0.3);
    const off = JSON.parse((await run(['detect', dir, '--family-flip', 'off', '--format', 'json', '-q'])).out);
    expect(off.options.familyFlip).toBeNull();
  });

  it('--family-noise reaches the options (default 0.4), and off turns it off', async () => {
    const def = JSON.parse((await run(['detect', dir, '--format', 'json', '-q'])).out);
    expect(def.options).toMatchObject({ familyFlip: 0.1, familyNoise: 0.4 });
    const on = JSON.parse((await run(['detect', dir, '--family-noise', '0.2', '--format', 'json', '-q'])).out);
    expect(on.options.familyNoise).toBe(0.2);
    const off = JSON.parse((await run(['detect', dir, '--family-noise', 'off', '--format', 'json', '-q'])).out);
    expect(off.options.familyNoise).toBeNull();
  });

  it('--evidence-temper reaches the options (default 0.5); 1 counts every vote whole', async () => {
    const def = JSON.parse((await run(['detect', dir, '--format', 'json', '-q'])).out);
    expect(def.options.evidenceTemper).toBe(0.5);
    const whole = JSON.parse((await run(['detect', dir, '--evidence-temper', '1', '--format', 'json', '-q'])).out);
    expect(whole.options.evidenceTemper).toBe(1);
  });

  it('--fake-init-abstain reaches the options (default 1.25); off counts every vote; 0 exits 2', async () => {
    const def = JSON.parse((await run(['detect', dir, '--format', 'json', '-q'])).out);
    expect(def.options.fakeInitAbstain).toBe(1.25);
    const two = JSON.parse((await run(['detect', dir, '--fake-init-abstain', '2', '--format', 'json', '-q'])).out);
    expect(two.options.fakeInitAbstain).toBe(2);
    const off = JSON.parse((await run(['detect', dir, '--fake-init-abstain', 'off', '--format', 'json', '-q'])).out);
    expect(off.options.fakeInitAbstain).toBeNull();
    expect((await run(['detect', dir, '--fake-init-abstain', '0', '-q'])).code).toBe(2);
  });

  it('--tiny-step and --tree-model reach the options (defaults 1e-4, drift-correlations); off never reverses; 1 exits 2', async () => {
    const def = JSON.parse((await run(['detect', dir, '--format', 'json', '-q'])).out);
    expect(def.options.tinyStep).toBe(1e-4);
    expect(def.options.treeModel).toBe('drift-correlations');
    const set = JSON.parse((await run(['detect', dir, '--tiny-step', '0.001', '--tree-model', 'shared-drift', '--format', 'json', '-q'])).out);
    expect(set.options.tinyStep).toBe(0.001);
    expect(set.options.treeModel).toBe('shared-drift');
    const off = JSON.parse((await run(['detect', dir, '--tiny-step', 'off', '--format', 'json', '-q'])).out);
    expect(off.options.tinyStep).toBeNull();
    const bad = await run(['detect', dir, '--tiny-step', '1', '-q']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/tiny-step/);
  });

  // Choice options of the tree: each reaches the options under its default and every other
  // value; an unknown value exits 2 with the choices named.
  it.each([
    ['unchanged-tensors', 'unchangedTensors', 'ignore', ['connect'], 'nope', 'connect, ignore'],
    ['near-twins', 'nearTwins', 'doubt', ['ignore', 'weigh'], 'maybe', 'ignore, doubt, weigh'],
    ['forgetting', 'forgetting', 'refit', ['unchecked', 'ignore'], 'always', 'refit, unchecked, ignore'],
    ['tensor-majority', 'tensorMajority', 'move', ['ignore'], 'sometimes', 'move, ignore'],
  ])('--%s reaches the options as %s (default %s); an unknown value exits 2', async (flag, key, def, others, bad, choices) => {
    const d = JSON.parse((await run(['detect', dir, '--format', 'json', '-q'])).out);
    expect(d.options[key]).toBe(def);
    for (const v of others) {
      const o = JSON.parse((await run(['detect', dir, `--${flag}`, v, '--format', 'json', '-q'])).out);
      expect(o.options[key]).toBe(v);
    }
    const r = await run(['detect', dir, `--${flag}`, bad, '-q']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`${flag} must be one of ${choices}`));
  });

  it('--running-stats reaches the options (default ignore; mother compare); other values exit 2', async () => {
    const def = JSON.parse((await run(['detect', dir, '--format', 'json', '-q'])).out);
    expect(def.options.runningStats).toBe('ignore');
    const cmp = JSON.parse((await run(['detect', dir, '--running-stats', 'compare', '--format', 'json', '-q'])).out);
    expect(cmp.options.runningStats).toBe('compare');
    const mother = JSON.parse((await run(['detect', dir, '--method', 'mother', '--format', 'json', '-q'])).out);
    expect(mother.options.runningStats).toBe('compare');
    const bad = await run(['detect', dir, '--running-stats', 'drop', '-q']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/running-stats/);
  });

  it('a family below --min-direction-confidence is shown undecided; a signal with a fixed rate votes', async () => {
    const r = await run(['detect', dir, '--min-direction-confidence', '1', '--direction-signal', 'norm=0.3', '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/family 1 · 2 models · direction undecided/);
    const j = await run(['detect', dir, '--direction-signal', 'norm=0.3', '--format', 'json', '-q']);
    const result = JSON.parse(j.out);
    expect(result.options.directionSignals).toEqual({ norm: 0.3 });
    expect(result.familyDirections[0].directed).toBe(true);
  });
});
