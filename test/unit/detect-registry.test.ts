/**
 * The method registry is the only place that names methods: registering one (a file and a
 * line) makes it a CLI choice, lists it in `phylogeny methods`, and lets detect() run it.
 */
import { detect, METHODS, methodSpec, registerMethod, resolveOptions, type MethodName } from '../../lib/detect';
import { InvalidArgumentError } from '../../lib/errors';
import { runCli } from '../helpers/cli';
import { simulateZoo } from '../helpers/synthetic-scan';
import { toy } from './toy-method/toy';

const run = runCli;

registerMethod(toy);

describe('method registry', () => {
  const zoo = simulateZoo({ families: 2, depth: 1, branching: 2, seed: 3 });

  it('runs a registered method through detect(), with its defaults', () => {
    const r = detect(zoo.scan, { method: 'toy' as MethodName, minCorrelation: null });
    expect(r.method).toBe('toy');
    expect(r.options.within).toBe('star');
    expect(r.options.toyRan).toBe(true);
    expect(r.warnings).toContain('toy method ran');
    const first = zoo.scan.models[0].id;
    expect(r.roots).toEqual([first]);
    expect(r.edges.map((e) => e.parent)).toEqual(zoo.scan.models.slice(1).map(() => first));
    expect(METHODS.map((m) => m.name)).toContain('toy');
  });

  it('lists it in `phylogeny methods` and accepts it as --method', async () => {
    const listed = await run(['methods']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^toy +test-only method/m);
    const help = await run(['detect', '--help']);
    expect(help.out).toMatch(/toy/);
    // The parse accepts it; a missing scan file then fails as an input error (1), not usage (2).
    const parsed = await run(['detect', '--scan', '/nonexistent/scan.json', '--method', 'toy']);
    expect(parsed.err).not.toMatch(/must be one of/);
    expect(parsed.code).toBe(1);
    const unknown = await run(['detect', '--scan', '/nonexistent/scan.json', '--method', 'toy2']);
    expect(unknown.code).toBe(2);
  });

  it('rejects a second method with a taken name', () => {
    expect(() => registerMethod({ ...toy, description: 'another toy' })).toThrow(InvalidArgumentError);
    expect(() => registerMethod({ ...toy, name: 'arborescence' })).toThrow(/already registered/);
    expect(methodSpec('toy').description).toBe(toy.description);
  });

  it('learned is a method that needs the model files: detect() says what to call instead', () => {
    expect(methodSpec('learned').modelFiles).toBeDefined();
    expect(METHODS.map((m) => m.name)).not.toContain('learned');
    expect(() => detect(zoo.scan, { method: 'learned' })).toThrow(InvalidArgumentError);
    expect(() => detect(zoo.scan, { method: 'learned' })).toThrow(/detectLearned/);
    expect(resolveOptions({ method: 'mother' }).score).toBe('kurtosis');
  });
});
