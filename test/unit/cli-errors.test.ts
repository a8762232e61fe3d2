/**
 * One error model in the CLI: a bad option value exits 2 whether the CLI's parser or the library
 * rejects it (`--threads` vs `--fake-init`), a malformed input exits 1 naming the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { exitCodeOf } from '../../lib/cli/main';
import { UsageError } from '../../lib/cli/args';
import { FormatError, InvalidArgumentError, IoError } from '../../lib/errors';
import { parseFakeInitSpec } from '../../lib/scan/fake-init';
import { parseShard } from '../../lib/scan/plan';
import { tmpDir, writeRandomModel } from '../helpers/models';
import { runCli } from '../helpers/cli';

const run = runCli;

describe('CLI exit codes', () => {
  const dir = tmpDir('np-cli-errors-');
  const model = path.join(dir, 'm.safetensors');
  writeRandomModel(model, [{ name: 'w', shape: [8, 5], dtype: 'F32' }], 1);
  const out = path.join(dir, 'scan.json');

  it('a bad --threads exits 2 with a pointer to --help', async () => {
    const r = await run(['scan', model, '--threads', '0', '--out', out, '-q']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--threads must be a positive integer');
    expect(r.err).toContain("phylogeny scan --help");
  });

  it('zoo --gguf-split without --gguf, or not a whole number of files, exits 2', async () => {
    for (const args of [['--gguf-split', '3'], ['--gguf', 'Q8_0', '--gguf-split', '0']]) {
      const r = await run(['zoo', '--preset', 'tiny-llama', '--out', path.join(dir, 'never'), ...args, '-q']);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--gguf-split takes a whole number of files from 1 to 65535, with --gguf');
    }
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('train --tree-gate below 0 exits 2 before anything is read or written', async () => {
    const r = await run(['train', '--zoo', path.join(dir, 'no-zoo'), '--out', path.join(dir, 'never-detector'), '--tree-gate', '-0.5', '-q']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--tree-gate must be a number >= 0, got -0.5');
    expect(fs.existsSync(path.join(dir, 'never-detector'))).toBe(false);
  });

  it('a bad --fake-init exits 2 like a bad --threads', async () => {
    const r = await run(['scan', model, '--fake-init', 'w=bogus(1)', '--out', out, '-q']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown scheme 'bogus(1)'");
    expect(fs.existsSync(out)).toBe(false);
    const d = await run(['detect', model, model, '--fake-init', 'w=normal(1,2,3)', '-q']);
    expect(d.code).toBe(2);
  });

  it('a valid --fake-init still scans (exit 0)', async () => {
    const r = await run(['scan', model, '--fake-init', 'w=normal(0.02)', '--out', out, '-q']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
  });

  it('a malformed input file exits 1 naming the file', async () => {
    const bad = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 1, 2]));
    const r = await run(['inspect', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(bad);
    expect(r.err).not.toContain('--help');
  });

  it('maps error classes to codes in one table', () => {
    expect(exitCodeOf(new UsageError('x')).code).toBe(2);
    expect(exitCodeOf(new InvalidArgumentError('E_INVALID_ARG', 'x')).code).toBe(2);
    expect(exitCodeOf(new FormatError('E_FORMAT', 'x')).code).toBe(1);
    expect(exitCodeOf(new IoError('E_IO', 'x')).code).toBe(1);
    expect(exitCodeOf(new Error('x')).code).toBe(1);
    expect(exitCodeOf('a string').code).toBe(1);
  });
});

describe('library errors are classes that name options, not flags', () => {
  it('parseFakeInitSpec throws InvalidArgumentError', () => {
    for (const spec of ['', ' ; ', 'w=bogus', 'w=normal(x)', '/[/=normal(1)']) {
      expect(() => parseFakeInitSpec(spec)).toThrow(InvalidArgumentError);
    }
  });

  it('parseShard names the option shard, not --shard', () => {
    for (const text of ['1-4', '5/4', '0/2']) {
      let caught: unknown;
      try {
        parseShard(text);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as Error).message).toMatch(/^shard /);
    }
  });
});
