/**
 * CMakeLists.txt (through cmake/sources.cmake) and binding.gyp must build the same CPU
 * sources: a file added to one list only would build with one tool and fail to link, or
 * silently lack a feature, with the other.
 */
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const CPU_LISTS = ['NP_CORE_SOURCES', 'NP_NAPI_SOURCES', 'NP_NO_CUDA_SOURCES', 'NP_AVX2_SOURCES', 'NP_AVX512_SOURCES'];

/** set(NAME a b c) blocks of a CMake file, comments removed. */
function parseCmakeLists(text: string): Map<string, string[]> {
  const clean = text.replace(/#[^\n]*/g, '');
  const lists = new Map<string, string[]>();
  for (const m of clean.matchAll(/\bset\s*\(\s*([A-Za-z0-9_]+)([^)]*)\)/g)) {
    lists.set(m[1], m[2].split(/\s+/).filter((s) => s.length > 0));
  }
  return lists;
}

interface GypTarget {
  target_name: string;
  sources?: string[];
  cflags_cc?: string[];
}

/** binding.gyp is a Python literal; this one is JSON once its # comments are removed. */
function parseGyp(text: string): GypTarget[] {
  const json = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  return (JSON.parse(json) as { targets: GypTarget[] }).targets;
}

const cmake = parseCmakeLists(fs.readFileSync(path.join(root, 'cmake', 'sources.cmake'), 'utf8'));
const gyp = parseGyp(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
const sorted = (a: Iterable<string>): string[] => [...a].sort();

describe('build files', () => {
  it('the parsers find what they should', () => {
    expect(parseCmakeLists('set(A\n  x.cc # c\n  y.cc)\nset(B z.cc)')).toEqual(new Map([['A', ['x.cc', 'y.cc']], ['B', ['z.cc']]]));
    for (const name of CPU_LISTS) expect(cmake.get(name)?.length).toBeGreaterThan(0);
    expect(gyp.map((t) => t.target_name)).toContain('neural_phylogeny');
  });

  it('binding.gyp builds exactly the CPU sources CMake builds', () => {
    const fromCmake = CPU_LISTS.flatMap((n) => cmake.get(n) ?? []).filter((f) => f.endsWith('.cc'));
    const fromGyp = gyp.flatMap((t) => t.sources ?? []).filter((f) => f.endsWith('.cc'));
    expect(sorted(new Set(fromGyp))).toEqual(sorted(new Set(fromCmake)));
    // And each once: a file in two targets would be linked twice.
    expect(fromGyp.length).toBe(new Set(fromGyp).size);
    expect(fromCmake.length).toBe(new Set(fromCmake).size);
  });

  it('the per-ISA kernels are compiled with their ISA flags in binding.gyp', () => {
    const targetOf = (file: string): GypTarget | undefined => gyp.find((t) => (t.sources ?? []).includes(file));
    for (const f of cmake.get('NP_AVX2_SOURCES') ?? []) expect(targetOf(f)?.cflags_cc).toContain('-mavx2');
    for (const f of cmake.get('NP_AVX512_SOURCES') ?? []) expect(targetOf(f)?.cflags_cc).toContain('-mavx512f');
    // Elsewhere the ISA flags must not leak, or the addon would crash on older CPUs.
    for (const t of gyp.filter((x) => x.target_name === 'neural_phylogeny')) {
      expect((t.cflags_cc ?? []).filter((f) => /^-m(avx|fma|f16c)/.test(f))).toEqual([]);
    }
  });

  it('every listed source exists, and every native .cc file is listed', () => {
    const all = [...cmake.values()].flat();
    for (const f of all) expect(fs.existsSync(path.join(root, f)) ? f : `missing: ${f}`).toBe(f);
    const onDisk: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (/\.(cc|cu)$/.test(e.name)) onDisk.push(rel);
      }
    };
    walk('native');
    const listed = new Set(all);
    expect(onDisk.filter((f) => !listed.has(f))).toEqual([]);
  });
});
