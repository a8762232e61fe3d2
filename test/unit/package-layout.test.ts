/**
 * package.json must point at files the build emits: tsc (rootDir ".", outDir "dist") writes
 * lib/x.ts to dist/lib/x.js. "main", "types" and "bin" once named dist/index.js and
 * dist/cli/main.js, which never existed, so `require('neural-phylogeny')` and the README's
 * `npx phylogeny demo` failed on a fresh clone while every test passed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  bin: Record<string, string>;
  files: string[];
};
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { rootDir: string; outDir: string };
};

/** The TypeScript source that tsc compiles to `emitted` (a path under outDir). */
function sourceOf(emitted: string): string {
  const { rootDir, outDir } = tsconfig.compilerOptions;
  const rel = path.relative(path.join(root, outDir), path.join(root, emitted));
  expect(rel.startsWith('..')).toBe(false);
  return path.join(root, rootDir, rel.replace(/\.d\.ts$|\.js$/, '.ts'));
}

describe('package layout', () => {
  it('"main", "types" and "bin" name what tsc emits', () => {
    expect(fs.existsSync(sourceOf(pkg.main))).toBe(true);
    expect(fs.existsSync(sourceOf(pkg.types))).toBe(true);
    expect(sourceOf(pkg.main)).toBe(path.join(root, 'lib', 'index.ts'));
    for (const target of Object.values(pkg.bin)) {
      const src = sourceOf(target);
      expect(fs.existsSync(src)).toBe(true);
      expect(fs.readFileSync(src, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    }
  });

  it('everything "files" publishes exists (the native build needs cmake/ too)', () => {
    for (const f of pkg.files) expect(fs.existsSync(path.join(root, f))).toBe(true);
    expect(pkg.files).toContain('cmake/');
  });

  // After `npm ci` (whose `prepare` builds dist/ and links the bin into node_modules/.bin,
  // which npx looks in first: otherwise it serves a project's own bin from an entry in its
  // cache, which goes stale), the README's first command must run the clone's own build;
  // --no-install makes npx fail instead of installing anything.
  const built = fs.existsSync(path.join(root, pkg.main));
  (built ? it : it.skip)('`npx phylogeny` runs the local build without installing anything', () => {
    const r = spawnSync('npx', ['--no-install', 'phylogeny', '--version'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`npx --no-install phylogeny --version exited ${r.status}: ${r.stderr}`);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });
});
