/**
 * `npm run bench:index`: what the fingerprint index costs and how it scales.
 *
 * 1. Indexing one synthetic 7B LLaMA-shaped model (BF16; 32 layers of the real shapes, or
 *    --layers N of them): bytes read and seconds of `index add` against a full exact scan of
 *    the same file, run back to back in this process: warm (the file in the page cache for
 *    both), and cold (the file's pages dropped before each, with `dd iflag=nocache`); `index
 *    add` both into an existing index and as the first add, which creates the index.
 * 2. --models N synthetic models (default 10,000) in --families F (default 50) of one small
 *    architecture, each family a random tree of fine-tunes: `index add` of all, then
 *    `index query` (fresh CLI processes, wall time, and in process), `detect --index` (a
 *    fresh process: wall time and peak RSS from /proc) and its accuracy against the lineage.
 *
 *   npm run bench:index                                  # both parts, defaults
 *   npm run bench:index -- --layers 4 --models 2000      # smaller
 *   npm run bench:index -- --skip-7b --dir /tmp/np-hub   # keep the generated models in DIR
 *   npm run bench:index -- --dir /tmp/np-hub --only query  # one part: 7b, add, query, detect, arborescence
 *
 * --only takes a comma-separated list of parts (7b, add, query, detect, arborescence); the
 * 10k parts reuse the models and index in --dir when present, so each can be timed on its own.
 * --baseline CLI runs the same queries and detections with another build's CLI (e.g. an
 * earlier commit's dist/lib/cli/main.js) in the same command: wall and CPU side by side, and
 * whether its answers are identical (timings aside).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildHeader, writeSafetensors } from '../lib/io/safetensors-writer';
import { encodeFloats } from '../lib/io/dtype';
import { addToIndex, addToOpenIndex } from '../lib/hub/add';
import { queryIndex } from '../lib/hub/query';
import { DEFAULT_FINGERPRINT_CONFIG } from '../lib/hub/sample';
import { FingerprintIndex } from '../lib/hub/store';
import { scanModels } from '../lib/scan/scan';
import { evaluate } from '../lib/eval/metrics';
import { parseDetectionJson } from '../lib/report';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['layers', 'models', 'families', 'skip-7b', 'skip-10k', 'dir', 'queries', 'only', 'baseline']);

const PARTS = ['7b', 'add', 'query', 'detect', 'arborescence'] as const;
type Part = (typeof PARTS)[number];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** The parts to run: --only's list, else all but those --skip-7b / --skip-10k leave out. */
function partsToRun(): Set<Part> {
  const only = arg('only', '');
  if (only) {
    const asked = only.split(',').map((x) => x.trim());
    for (const a of asked) if (!(PARTS as readonly string[]).includes(a)) throw new Error(`--only: unknown part '${a}' (parts: ${PARTS.join(', ')})`);
    return new Set(asked as Part[]);
  }
  return new Set(PARTS.filter((p) => (p === '7b' ? !flag('skip-7b') : !flag('skip-10k'))));
}

/** xorshift32 normals: fast enough to fill gigabytes. */
function normals(seed: number) {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function llamaShapes(layers: number): { name: string; shape: number[] }[] {
  const out = [
    { name: 'model.embed_tokens.weight', shape: [32000, 4096] },
    { name: 'lm_head.weight', shape: [32000, 4096] },
    { name: 'model.norm.weight', shape: [4096] },
  ];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) out.push({ name: `${p}.self_attn.${m}.weight`, shape: [4096, 4096] });
    out.push({ name: `${p}.mlp.gate_proj.weight`, shape: [11008, 4096] }, { name: `${p}.mlp.up_proj.weight`, shape: [11008, 4096] });
    out.push({ name: `${p}.mlp.down_proj.weight`, shape: [4096, 11008] });
    out.push({ name: `${p}.input_layernorm.weight`, shape: [4096] }, { name: `${p}.post_attention_layernorm.weight`, shape: [4096] });
  }
  return out;
}

/** Timed runs of each `index add` in the 7B part. */
const REPS = 3;

async function part7b(dir: string, layers: number): Promise<string[]> {
  const file = path.join(dir, `llama7b-shaped-${layers}L.safetensors`);
  const specs = llamaShapes(layers).map((t) => ({ ...t, dtype: 'BF16' as const }));
  if (!fs.existsSync(file)) {
    // 13.5 GB of fresh normals would take minutes to draw in JS; the bytes only have to be
    // realistic BF16 weights, so a 64 MiB pool of them is written at rotating offsets.
    const rnd = normals(7);
    const pool = encodeFloats(Float32Array.from({ length: 1 << 25 }, () => 0.02 * rnd()), 'BF16');
    const { header, dataBytes } = buildHeader(specs);
    const fd = fs.openSync(`${file}.tmp`, 'w');
    fs.writeSync(fd, header);
    let left = dataBytes;
    let shift = 0;
    while (left > 0) {
      const n = Math.min(left, pool.length - shift);
      fs.writeSync(fd, pool, shift, n);
      left -= n;
      shift = (shift + 4098) % (pool.length / 2);
    }
    fs.closeSync(fd);
    fs.renameSync(`${file}.tmp`, file);
  }
  const size = fs.statSync(file).size;
  const idx = path.join(dir, 'idx-7b');
  const dropCache = () => execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  const rows: string[] = [];
  let fpBytes = 0;
  // The first index add of a process also loads DuckDB's binding and compiles the code on its
  // path; timed on its own, then every timed run below is a steady-state one (as each model
  // after the first of a hub is), in either order of warm and cold.
  const scratch = path.join(dir, 'idx-7b-first');
  fs.rmSync(scratch, { recursive: true, force: true });
  await scanModels([file]);
  let t0 = process.hrtime.bigint();
  await addToIndex(scratch, [file]);
  const firstSec = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.rmSync(scratch, { recursive: true, force: true });
  t0 = process.hrtime.bigint();
  await addToIndex(scratch, [file]);
  const secondSec = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.rmSync(scratch, { recursive: true, force: true });
  const existing = path.join(dir, 'idx-7b-existing');
  for (const cache of ['warm', 'cold'] as const) {
    if (cache === 'warm') await scanModels([file]); // bring the file into the page cache
    // Each `index add` is timed REPS times (median; cold: the pages dropped before each), the
    // scan once: a fifth of a second is easily moved by other work on a shared machine.
    const median = (xs: number[]) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const firstTimes: number[] = [];
    const existingTimes: number[] = [];
    const openTimes: number[] = [];
    let added: Awaited<ReturnType<typeof addToIndex>> | undefined;
    let addedExisting: Awaited<ReturnType<typeof addToIndex>> | undefined;
    for (let rep = 0; rep < REPS; rep++) {
      // First add: the index directory does not exist, `index add` creates it.
      fs.rmSync(idx, { recursive: true, force: true });
      if (cache === 'cold') dropCache();
      let t0 = process.hrtime.bigint();
      added = await addToIndex(idx, [file]);
      firstTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
      // Add to an existing index (made beforehand, untimed): opened, not created.
      fs.rmSync(existing, { recursive: true, force: true });
      (await FingerprintIndex.open(existing, { create: true, config: DEFAULT_FINGERPRINT_CONFIG })).close();
      if (cache === 'cold') dropCache();
      t0 = process.hrtime.bigint();
      addedExisting = await addToIndex(existing, [file]);
      existingTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
      // Into an index already open (opened before and closed after the clock): what each model
      // after the first costs in one `index add` of many paths, or in a long-running indexer
      // that keeps the index open (addToOpenIndex); DuckDB's open and closing checkpoint are
      // paid once per call, not per model.
      fs.rmSync(existing, { recursive: true, force: true });
      const open = await FingerprintIndex.open(existing, { create: true, config: DEFAULT_FINGERPRINT_CONFIG, oneThread: true });
      try {
        if (cache === 'cold') dropCache();
        t0 = process.hrtime.bigint();
        await addToOpenIndex(open, [file]);
        openTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
      } finally {
        open.close();
      }
    }
    const firstAddSec = median(firstTimes);
    const existingSec = median(existingTimes);
    const openSec = median(openTimes);
    let t: bigint;
    if (cache === 'cold') dropCache();
    t = process.hrtime.bigint();
    const scan = await scanModels([file]);
    const scanSec = Number(process.hrtime.bigint() - t) / 1e9;
    fpBytes = fs.statSync(path.join(idx, 'index.duckdb')).size;
    rows.push(
      `| ${cache} | exact scan (\`scanModels\`) | ${scan.run.bytes} | ${(100 * scan.run.bytes / size).toFixed(1)}% | ${scanSec.toFixed(2)} | 1× |`,
      `| ${cache} | \`index add\` to an existing index | ${addedExisting!.bytesRead} | ${(100 * addedExisting!.bytesRead / size).toFixed(2)}% | ${existingSec.toFixed(3)} (${existingTimes.map((x) => x.toFixed(3)).join(', ')}) | ${(scanSec / existingSec).toFixed(1)}× |`,
      `| ${cache} | model added to an open index (each after the first in one call) | ${addedExisting!.bytesRead} | ${(100 * addedExisting!.bytesRead / size).toFixed(2)}% | ${openSec.toFixed(3)} (${openTimes.map((x) => x.toFixed(3)).join(', ')}) | ${(scanSec / openSec).toFixed(1)}× |`,
      `| ${cache} | first \`index add\` (creates the index) | ${added!.bytesRead} | ${(100 * added!.bytesRead / size).toFixed(2)}% | ${firstAddSec.toFixed(3)} (${firstTimes.map((x) => x.toFixed(3)).join(', ')}) | ${(scanSec / firstAddSec).toFixed(1)}× |`,
    );
  }
  fs.rmSync(existing, { recursive: true, force: true });
  return [
    `## Indexing one 7B LLaMA-shaped model (BF16, ${layers} of 32 layers, ${(size / 2 ** 30).toFixed(2)} GiB)`,
    '',
    '| page cache | | bytes read | share of the file | seconds | speed-up |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Index file after adding it: ${(fpBytes / 2 ** 20).toFixed(2)} MiB (DuckDB, fingerprint and sketch included). Cold: the file's pages dropped before each timed run. "Open index": the index opened before the clock starts and closed (DuckDB's checkpoint) after it stops, as in one \`index add\` of many models (\`addToOpenIndex\` in the library). \`index add\`: median of ${REPS} runs (all in brackets), the scan one run.`,
    `The first \`index add\` of this process (warm page cache; it also loads DuckDB and compiles the code on its path) took ${firstSec.toFixed(2)} s, the one after it ${secondSec.toFixed(2)} s; the rows above come after both.`,
    '',
  ];
}

/** 10k-scale set: `families` roots, each with models/families − 1 fine-tunes in a random tree. */
function writeHub(dir: string, models: number, families: number): { edges: { parent: string; child: string }[] } {
  const specs = [
    { name: 'fc1.weight', shape: [256, 128] },
    { name: 'fc1.bias', shape: [256] },
    { name: 'fc2.weight', shape: [64, 256] },
    { name: 'fc2.bias', shape: [64] },
  ].map((s) => ({ ...s, dtype: 'BF16' as const }));
  const lineage = path.join(dir, 'lineage.json');
  if (fs.existsSync(lineage)) return JSON.parse(fs.readFileSync(lineage, 'utf8'));
  fs.mkdirSync(dir, { recursive: true });
  const rnd = normals(11);
  const edges: { parent: string; child: string }[] = [];
  const per = Math.ceil(models / families);
  let written = 0;
  for (let f = 0; f < families && written < models; f++) {
    const members: Float32Array[][] = [];
    const ids: string[] = [];
    for (let k = 0; k < per && written < models; k++, written++) {
      const id = `f${String(f).padStart(3, '0')}-m${String(k).padStart(4, '0')}`;
      const parent = k === 0 ? -1 : Math.floor(Math.pow((rnd() * 0.5 + 0.5) % 1, 2) * k) % k;
      const data = specs.map((s, si) => {
        const n = s.shape.reduce((a, b) => a * b, 1);
        const out = new Float32Array(n);
        const base = parent >= 0 ? members[parent][si] : undefined;
        for (let i = 0; i < n; i++) out[i] = (base ? base[i] : 0) + (base ? 0.002 : 0.05) * rnd();
        return out;
      });
      members.push(data);
      ids.push(id);
      if (parent >= 0) edges.push({ parent: ids[parent], child: id });
      writeSafetensors(path.join(dir, `${id}.safetensors`), specs.map((s, si) => ({ ...s, data: data[si] })));
    }
  }
  fs.writeFileSync(lineage, JSON.stringify({ edges }));
  return { edges };
}

/**
 * Wall seconds, CPU seconds (user + system, all threads) and peak RSS of a command, from
 * /usr/bin/time -v. On a shared machine the CPU seconds are the steadier figure: wall time
 * grows with everyone else's load.
 */
function peakRssOf(cmd: string[]): { seconds: number; cpu: number; peakMiB: number; stdout: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const field = (name: string) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr ?? '')?.[1] ?? NaN);
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  return { seconds, cpu: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'), peakMiB: field('Maximum resident set size \\(kbytes\\)') / 1024, stdout: r.stdout };
}

async function part10k(dir: string, models: number, families: number, queries: number, parts: Set<Part>): Promise<string[]> {
  const hub = path.join(dir, `hub-${models}-${families}`);
  let t = process.hrtime.bigint();
  const { edges } = writeHub(hub, models, families);
  const genSec = Number(process.hrtime.bigint() - t) / 1e9;
  const idx = path.join(dir, `idx-${models}-${families}`);
  const out = [`## ${models} models in ${families} families (4 tensors, 49,472 parameters each, BF16: kept whole, with 16 KB probes for queries)`, ''];
  // The index is built when asked for, or when a later part needs it and it is not there.
  if (parts.has('add') || !fs.existsSync(path.join(idx, 'index.duckdb'))) {
    t = process.hrtime.bigint();
    const added = await addToIndex(idx, [hub], { batch: 256 });
    const addSec = Number(process.hrtime.bigint() - t) / 1e9;
    const idxMiB = fs.statSync(path.join(idx, 'index.duckdb')).size / 2 ** 20;
    out.push(`Generated in ${genSec.toFixed(0)} s (reused when present); \`index add\` of all: ${addSec.toFixed(1)} s (${added.added} added, ${added.skipped} known), index file ${idxMiB.toFixed(0)} MiB.`, '');
  }
  const cli = path.join(__dirname, '..', 'lib', 'cli', 'main.js');
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const table = ['| operation | median | max | target |', '|---|---|---|---|'];
  const notes: string[] = [];
  if (parts.has('query')) {
    const probes = Array.from({ length: queries }, (_, i) => path.join(hub, `f${String((i * 7) % families).padStart(3, '0')}-m${String(1 + ((i * 37) % Math.max(1, Math.floor(models / families) - 1))).padStart(4, '0')}.safetensors`));
    const truthParent = new Map(edges.map((e) => [e.child, e.parent]));
    const wall: number[] = [];
    const cpu: number[] = [];
    const floor: number[] = [];
    const inProc: number[] = [];
    const baseline = arg('baseline', '');
    const bWall: number[] = [];
    const bCpu: number[] = [];
    let same = 0;
    let right = 0;
    for (const p of probes) {
      // The floor, in the same loop: a fresh Node process that does nothing.
      floor.push(peakRssOf([process.execPath, '-e', '0']).seconds);
      const run = peakRssOf([process.execPath, cli, 'index', 'query', p, '--index', idx, '--format', 'json']);
      wall.push(run.seconds);
      cpu.push(run.cpu);
      const q = JSON.parse(run.stdout) as { parents: { id: string }[] };
      if (baseline) {
        const b = peakRssOf([process.execPath, baseline, 'index', 'query', p, '--index', idx, '--format', 'json']);
        bWall.push(b.seconds);
        bCpu.push(b.cpu);
        if (JSON.stringify({ ...JSON.parse(b.stdout), timings: 0 }) === JSON.stringify({ ...q, timings: 0 })) same++;
      }
      if (q.parents[0]?.id === truthParent.get(path.basename(p, '.safetensors'))) right++;
      inProc.push((await queryIndex(idx, p)).timings.total / 1000);
    }
    table.push(
      `| \`index query\`, fresh CLI process, wall (${queries} queries) | ${med(wall).toFixed(2)} s | ${Math.max(...wall).toFixed(2)} s | < 1 s |`,
      `| \`index query\`, fresh CLI process, CPU (user + system) | ${med(cpu).toFixed(2)} s | ${Math.max(...cpu).toFixed(2)} s | |`,
      `| \`node -e 0\` (the floor: a Node process doing nothing), wall | ${med(floor).toFixed(2)} s | ${Math.max(...floor).toFixed(2)} s | |`,
      `| \`index query\`, in process (\`queryIndex\`) | ${med(inProc).toFixed(3)} s | ${Math.max(...inProc).toFixed(3)} s | |`,
    );
    if (baseline) {
      table.push(
        `| baseline \`index query\` (--baseline), wall | ${med(bWall).toFixed(2)} s | ${Math.max(...bWall).toFixed(2)} s | |`,
        `| baseline \`index query\`, CPU (user + system) | ${med(bCpu).toFixed(2)} s | ${Math.max(...bCpu).toFixed(2)} s | |`,
        `| CPU ratio, baseline / this build (medians) | ${(med(bCpu) / med(cpu)).toFixed(2)}× | | |`,
      );
      notes.push(`Baseline CLI: ${baseline}; its answers were identical (timings aside) for ${same} of ${queries} probes.`);
    }
    notes.push(`Query: the likely parent was the true parent for ${right} of ${queries} probes.`);
  }
  for (const which of ['detect', 'arborescence'] as const) {
    if (!parts.has(which)) continue;
    const extra = which === 'arborescence' ? ['--method', 'arborescence'] : [];
    const label = which === 'arborescence' ? '`detect --index --method arborescence`' : '`detect --index`';
    const det = peakRssOf([process.execPath, cli, 'detect', '--index', idx, '--format', 'json', '-q', ...extra]);
    const parsed = parseDetectionJson(det.stdout);
    const m = evaluate(parsed, { edges, families: [] });
    const baseline = arg('baseline', '');
    if (baseline) {
      const b = peakRssOf([process.execPath, baseline, 'detect', '--index', idx, '--format', 'json', '-q', ...extra]);
      const bp = parseDetectionJson(b.stdout);
      const key = (r: typeof parsed) => JSON.stringify(r.edges.map((e) => [e.parent, e.child, e.confidence]));
      table.push(
        `| baseline ${label} (--baseline), wall | ${b.seconds.toFixed(1)} s | | |`,
        `| baseline ${label}, CPU (user + system, all threads) | ${b.cpu.toFixed(1)} s | | |`,
        `| ${label} CPU ratio, baseline / this build | ${(b.cpu / det.cpu).toFixed(2)}× | | |`,
      );
      notes.push(`Baseline ${label}: edges and confidences ${key(bp) === key(parsed) ? 'identical' : 'DIFFERENT'} to this build's; directed-edge accuracy ${(100 * evaluate(bp, { edges, families: [] }).edgeAccuracy).toFixed(1)}%.`);
    }
    table.push(
      `| ${label}, fresh CLI process, wall | ${det.seconds.toFixed(1)} s | | < 120 s |`,
      `| ${label}, CPU (user + system, all threads) | ${det.cpu.toFixed(1)} s | | |`,
      `| ${label} peak RSS | ${det.peakMiB.toFixed(0)} MiB | | < 4096 MiB |`,
    );
    notes.push(`${label}: directed-edge accuracy ${(100 * m.edgeAccuracy).toFixed(1)}% over ${edges.length} true edges${m.ari !== undefined ? `, ARI ${m.ari.toFixed(3)}` : ''}.`);
  }
  if (table.length > 2) out.push(...table, '');
  out.push(...notes, `Load average when done: ${os.loadavg().map((x) => x.toFixed(1)).join(', ')} (shared machine).`, '');
  return out;
}

async function main() {
  const dir = arg('dir', '') || fs.mkdtempSync(path.join(os.tmpdir(), 'np-bench-index-'));
  fs.mkdirSync(dir, { recursive: true });
  const lines = ['# Fingerprint index benchmark', '', `Machine: ${machineDescription()}`, ''];
  const parts = partsToRun();
  if (parts.has('7b')) lines.push(...(await part7b(dir, Number(arg('layers', '32')))));
  if (PARTS.some((p) => p !== '7b' && parts.has(p)))
    lines.push(...(await part10k(dir, Number(arg('models', '10000')), Number(arg('families', '50')), Number(arg('queries', '5')), parts)));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench:index failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
