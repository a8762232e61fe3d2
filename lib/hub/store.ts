/**
 * The index store: one embedded DuckDB database per index directory (docs/index.md has the
 * schema and why DuckDB). Models are keyed by content hash; `files` remembers which path (at
 * which size and mtime) has which hash, so a known file is never read again. Every write is
 * one transaction: a batch of models is visible entirely or not at all, so an `index add`
 * killed midway leaves the models of its committed batches and nothing half-written, and the
 * next run resumes after them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { IndexError, InvalidArgumentError } from '../errors';
import { decodeFingerprint, encodeFingerprint } from './codec';
import type { Fingerprint } from './fingerprint';
import { checkConfig, FingerprintConfig } from './sample';

// DuckDB's binding is loaded on first use: `inspect`, `scan` and `detect` never pay for it.
type Duck = typeof import('@duckdb/node-api');
let duck: Duck | undefined;
function duckdb(): Duck {
  return (duck ??= require('@duckdb/node-api') as Duck);
}

export const INDEX_FORMAT = 'neural-phylogeny/fingerprint-index';
/**
 * 4: models of at most wholeParams parameters are kept whole, and get a probe (a fingerprint
 * sampled at the budget, which queries compare; column `probe`, NULL where the fingerprint is
 * already sampled).
 * 3: a tensor that would sample more than half its rows samples all of them (lib/hub/sample.ts).
 * 2: each sampled row keeps columns of its own. 1 kept the same columns in every row. Older
 * fingerprints sample other coordinates (and hash differently), so versions are never mixed:
 * opening, adding to or merging an older index is refused with what to do.
 */
export const INDEX_VERSION = 4;

/** Why an index of an older version cannot be read, by version. */
const OLDER: Record<string, string> = {
  '1': 'its fingerprints keep the same columns in every sampled row; this version keeps columns per row, and the two cannot be compared',
  '2': 'its fingerprints sample the rows of tensors that this version reads whole, so the same model would be keyed twice',
  '3': 'it samples models that this version keeps whole (up to 262,144 parameters by default) and holds no probes for queries',
};
export const INDEX_FILE = 'index.duckdb';

export interface IndexedRow {
  hash: string;
  id: string;
  path: string;
  /** Hash of the tensor names and full shapes: models that can be compared coordinate by coordinate. */
  arch: string;
  /** Hash of the tensor names and shapes without row counts: models that share tensors. */
  tensorSet: string;
  params: number;
  bytes: number;
  bytesRead: number;
}

export interface NewModel extends IndexedRow {
  fingerprint: Fingerprint;
  /** The fingerprint sampled at the budget, for a model whose own is kept whole (lib/hub/sample.ts). */
  probe?: Fingerprint;
  sketch: Float32Array;
}

/** A path a model was added from (its content hash may be stored under another path). */
export interface ModelPath {
  path: string;
  id: string;
  hash: string;
}

export interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
  hash: string;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS models (
     hash VARCHAR PRIMARY KEY, id VARCHAR NOT NULL, path VARCHAR NOT NULL, arch VARCHAR NOT NULL,
     tensor_set VARCHAR NOT NULL, params BIGINT NOT NULL, bytes BIGINT NOT NULL, bytes_read BIGINT NOT NULL,
     fingerprint BLOB NOT NULL, sketch FLOAT[] NOT NULL, probe BLOB)`,
  `CREATE TABLE IF NOT EXISTS files (path VARCHAR PRIMARY KEY, size BIGINT NOT NULL, mtime_ms DOUBLE NOT NULL, hash VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS paths (path VARCHAR PRIMARY KEY, id VARCHAR NOT NULL, hash VARCHAR NOT NULL)`,
];

type Conn = Awaited<ReturnType<Awaited<ReturnType<Duck['DuckDBInstance']['create']>>['connect']>>;

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

export class FingerprintIndex {
  private constructor(
    readonly dir: string,
    readonly file: string,
    readonly config: FingerprintConfig,
    private readonly instance: { closeSync(): void },
    private readonly conn: Conn,
  ) {}

  /**
   * Opens an index directory; `create` makes it (with `config`) when it does not exist.
   * `oneThread` runs DuckDB on one thread: `index add` inserts a few rows per batch, and
   * starting DuckDB's worker threads cost it 20–40 ms a run here (a tenth of adding a 7B model)
   * while they competed with the fingerprint reader for the cores.
   */
  static async open(dir: string, opts: { create?: boolean; config?: FingerprintConfig; readOnly?: boolean; oneThread?: boolean } = {}): Promise<FingerprintIndex> {
    const abs = path.resolve(dir);
    const file = path.join(abs, INDEX_FILE);
    const exists = fs.existsSync(file);
    if (!exists) {
      if (!opts.create) throw new IndexError('E_INDEX', `${abs}: no fingerprint index here (no ${INDEX_FILE}); create one with \`phylogeny index add\``, { file: abs });
      if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) throw new InvalidArgumentError('E_INVALID_ARG', `${abs}: --index must be a directory`, { file: abs });
      fs.mkdirSync(abs, { recursive: true });
    }
    const d = duckdb();
    let instance: Awaited<ReturnType<Duck['DuckDBInstance']['create']>>;
    let conn: Conn;
    try {
      instance = await d.DuckDBInstance.create(file, { ...(opts.readOnly ? { access_mode: 'READ_ONLY' } : {}), ...(opts.oneThread ? { threads: '1' } : {}) });
      conn = await instance.connect();
    } catch (e) {
      throw new IndexError('E_INDEX', `${file}: cannot open the fingerprint index: ${(e as Error).message}`, { file, cause: e });
    }
    let config: FingerprintConfig;
    try {
      if (!exists) {
        await conn.run('BEGIN TRANSACTION');
        for (const s of SCHEMA) await conn.run(s);
        const c = checkConfig(opts.config!);
        await conn.run('INSERT INTO meta VALUES ($1, $2), ($3, $4), ($5, $6)', ['format', INDEX_FORMAT, 'version', String(INDEX_VERSION), 'config', JSON.stringify(c)]);
        await conn.run('COMMIT');
      }
      config = await readMeta(conn, file);
    } catch (e) {
      conn.closeSync();
      instance.closeSync();
      if (e instanceof IndexError) throw e;
      throw new IndexError('E_INDEX', `${file}: not a fingerprint index of this version: ${(e as Error).message}`, { file, cause: e });
    }
    if (opts.config && JSON.stringify(opts.config) !== JSON.stringify(config)) {
      conn.closeSync();
      instance.closeSync();
      throw new IndexError('E_INDEX', `${file}: built with fingerprint config ${JSON.stringify(config)}, not ${JSON.stringify(opts.config)}`, { file });
    }
    return new FingerprintIndex(abs, file, config, instance, conn);
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  /** The hash recorded for a path at this size and mtime, if any. */
  async knownFile(p: string, size: number, mtimeMs: number): Promise<string | undefined> {
    const r = await this.conn.runAndReadAll('SELECT hash FROM files WHERE path = $1 AND size = $2 AND mtime_ms = $3', [p, size, mtimeMs]);
    const rows = r.getRows();
    return rows.length ? String(rows[0][0]) : undefined;
  }

  async hasModel(hash: string): Promise<boolean> {
    const r = await this.conn.runAndReadAll('SELECT 1 FROM models WHERE hash = $1', [hash]);
    return r.getRows().length > 0;
  }

  /** Adds models and file stamps in one transaction (models already present are kept as they are). */
  async addBatch(models: NewModel[], files: FileStamp[], paths: ModelPath[] = []): Promise<void> {
    const d = duckdb();
    await this.conn.run('BEGIN TRANSACTION');
    try {
      // Models already present are found by key and left out, rather than with ON CONFLICT DO
      // NOTHING: DuckDB's conflict path cost 0.2–0.4 s for one 1.4 MB record here (a 7B
      // model's), the plain insert a tenth of that.
      const present = new Set<string>();
      if (models.length) {
        const r = await this.conn.runAndReadAll(`SELECT hash FROM models WHERE hash IN (${inList(models.map((m) => m.hash))})`);
        for (const [h] of r.getRows()) present.add(String(h));
      }
      for (const m of models) {
        if (present.has(m.hash)) continue;
        present.add(m.hash);
        await this.conn.run(
          'INSERT INTO models VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
          [m.hash, m.id, m.path, m.arch, m.tensorSet, m.params, m.bytes, m.bytesRead, d.blobValue(encodeFingerprint(m.fingerprint)), d.listValue(Array.from(m.sketch)),
            m.probe ? d.blobValue(encodeFingerprint(m.probe)) : null],
          [d.VARCHAR, d.VARCHAR, d.VARCHAR, d.VARCHAR, d.VARCHAR, d.BIGINT, d.BIGINT, d.BIGINT, d.BLOB, d.LIST(d.FLOAT), d.BLOB],
        );
      }
      // Replaced as one DELETE and one multi-row INSERT per table: a row at a time through
      // INSERT OR REPLACE took DuckDB ~9 ms a row here (90 s of adding 10,000 models).
      await this.replaceRows('files', files.map((f) => [f.path, f.size, f.mtimeMs, f.hash]), [d.VARCHAR, d.BIGINT, d.DOUBLE, d.VARCHAR]);
      await this.replaceRows('paths', paths.map((p) => [p.path, p.id, p.hash]), [d.VARCHAR, d.VARCHAR, d.VARCHAR]);
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw new IndexError('E_INDEX', `${this.file}: writing the index failed (nothing of this batch was kept): ${(e as Error).message}`, { file: this.file, cause: e });
    }
  }

  /** Rows keyed by their first column (a path), replacing any already there; in parts of 256 rows. */
  private async replaceRows(table: 'files' | 'paths', rows: (string | number)[][], types: unknown[]): Promise<void> {
    const unique = [...new Map(rows.map((r) => [r[0], r])).values()];
    for (let i = 0; i < unique.length; i += 256) {
      const part = unique.slice(i, i + 256);
      const w = types.length;
      await this.conn.run(`DELETE FROM ${table} WHERE path IN (${part.map((_, j) => `$${j + 1}`).join(', ')})`, part.map((r) => r[0]), part.map(() => types[0]) as never);
      const values = part.map((_, j) => `(${types.map((__, k) => `$${j * w + k + 1}`).join(', ')})`).join(', ');
      await this.conn.run(`INSERT INTO ${table} VALUES ${values}`, part.flat(), part.flatMap(() => types) as never);
    }
  }

  /** Every model, without fingerprints, sorted by hash (the order never depends on how the index was built). */
  async models(): Promise<IndexedRow[]> {
    const r = await this.conn.runAndReadAll('SELECT hash, id, path, arch, tensor_set, params, bytes, bytes_read FROM models ORDER BY hash');
    return r.getRows().map(rowOf);
  }

  async count(): Promise<number> {
    const r = await this.conn.runAndReadAll('SELECT count(*) FROM models');
    return num(r.getRows()[0][0]);
  }

  /**
   * Rows and fingerprints of the given models, in the order asked for (unknown hashes left
   * out); with `probe`, each model's probe where it has one (what a query compares).
   */
  async rowsWithFingerprints(hashes: string[], opts: { probe?: boolean } = {}): Promise<{ row: IndexedRow; fingerprint: Fingerprint }[]> {
    const found = new Map<string, { row: IndexedRow; fingerprint: Fingerprint }>();
    const read = async (blob: string, want: string[]) => {
      const missing: string[] = [];
      for (const part of chunks(want)) {
        const r = await this.conn.runAndReadAll(`SELECT hash, id, path, arch, tensor_set, params, bytes, bytes_read, ${blob} FROM models WHERE hash IN (${inList(part)})`);
        for (const row of r.getRows()) {
          if (row[8] === null) {
            missing.push(String(row[0]));
            continue;
          }
          const bytes = (row[8] as { bytes: Uint8Array }).bytes;
          found.set(String(row[0]), { row: rowOf(row), fingerprint: decodeFingerprint(bytes, `${this.file} (model ${String(row[0])})`) });
        }
      }
      return missing;
    };
    // Probes first, then the fingerprints of models without one: coalesce(probe, fingerprint)
    // made DuckDB read both blobs of every row, the whole records a probe is there to avoid.
    if (opts.probe) await read('fingerprint', await read('probe', hashes));
    else await read('fingerprint', hashes);
    return hashes.filter((h) => found.has(h)).map((h) => found.get(h)!);
  }

  /** Fingerprints of the given models (a damaged record is a FormatError naming the index and model). */
  async fingerprints(hashes: string[]): Promise<Map<string, Fingerprint>> {
    const out = new Map<string, Fingerprint>();
    for (const part of chunks(hashes)) {
      // A literal IN list of hex hashes: DuckDB answers it from the key, where a join with a
      // bound list scanned every blob.
      const r = await this.conn.runAndReadAll(`SELECT hash, fingerprint FROM models WHERE hash IN (${inList(part)})`);
      for (const [h, blob] of r.getRows()) {
        const bytes = (blob as { bytes: Uint8Array }).bytes;
        out.set(String(h), decodeFingerprint(bytes, `${this.file} (model ${String(h)})`));
      }
    }
    // In the order asked for, whatever order DuckDB returned them in.
    const ordered = new Map<string, Fingerprint>();
    for (const h of hashes) if (out.has(h)) ordered.set(h, out.get(h)!);
    return ordered;
  }

  /**
   * Models found at more than one path (identical content, stored once): per content hash,
   * the paths other than the stored row's, with their discovery ids, in path order.
   */
  async aliases(): Promise<Map<string, { path: string; id: string }[]>> {
    const r = await this.conn.runAndReadAll('SELECT p.hash, p.path, p.id FROM paths p JOIN models m ON m.hash = p.hash WHERE p.path <> m.path ORDER BY p.hash, p.path');
    const out = new Map<string, { path: string; id: string }[]>();
    for (const [h, p, id] of r.getRows()) {
      if (!out.has(String(h))) out.set(String(h), []);
      out.get(String(h))!.push({ path: String(p), id: String(id) });
    }
    return out;
  }

  /** Sketches of every model of an architecture, in hash order. */
  async sketches(arch: string): Promise<{ hashes: string[]; sketches: Float32Array[] }> {
    const r = await this.conn.runAndReadAll('SELECT hash, sketch FROM models WHERE arch = $1 ORDER BY hash', [arch]);
    const hashes: string[] = [];
    const sketches: Float32Array[] = [];
    for (const [h, s] of r.getRows()) {
      hashes.push(String(h));
      sketches.push(Float32Array.from((s as { items: readonly unknown[] }).items as number[]));
    }
    return { hashes, sketches };
  }

  /** The k models of an architecture nearest to a sketch (Euclidean, computed inside DuckDB). */
  async nearestBySketch(arch: string, sketch: Float32Array, k: number, excludeHash?: string): Promise<{ hash: string; distance: number }[]> {
    const d = duckdb();
    const r = await this.conn.runAndReadAll(
      'SELECT hash, list_distance(sketch, $1::FLOAT[]) AS dist FROM models WHERE arch = $2 AND hash <> $3 ORDER BY dist, hash LIMIT $4',
      [d.listValue(Array.from(sketch)), arch, excludeHash ?? '', k],
      [d.LIST(d.FLOAT), d.VARCHAR, d.VARCHAR, d.INTEGER],
    );
    return r.getRows().map(([h, dist]) => ({ hash: String(h), distance: num(dist) }));
  }

  /** Models of a tensor set outside one architecture (compared exactly, without the sketch prefilter). */
  async cousins(tensorSet: string, arch: string): Promise<string[]> {
    const r = await this.conn.runAndReadAll('SELECT hash FROM models WHERE tensor_set = $1 AND arch <> $2 ORDER BY hash', [tensorSet, arch]);
    return r.getRows().map(([h]) => String(h));
  }

  /** Copies every model and file stamp of another index into this one, in one transaction. */
  async mergeFrom(other: string): Promise<number> {
    const src = path.join(path.resolve(other), INDEX_FILE);
    if (!fs.existsSync(src)) throw new IndexError('E_INDEX', `${path.resolve(other)}: no fingerprint index here (no ${INDEX_FILE})`, { file: other });
    const theirs = await FingerprintIndex.open(other, { readOnly: true });
    const config = theirs.config;
    theirs.close();
    if (JSON.stringify(config) !== JSON.stringify(this.config))
      throw new IndexError('E_INDEX', `${src}: built with fingerprint config ${JSON.stringify(config)}, not ${JSON.stringify(this.config)}: cannot merge`, { file: src });
    const before = await this.count();
    await this.conn.run(`ATTACH '${src.replace(/'/g, "''")}' AS src (READ_ONLY)`);
    try {
      await this.conn.run('BEGIN TRANSACTION');
      await this.conn.run('INSERT INTO models SELECT * FROM src.models ON CONFLICT DO NOTHING');
      await this.conn.run('INSERT OR REPLACE INTO files SELECT * FROM src.files');
      await this.conn.run('INSERT OR REPLACE INTO paths SELECT * FROM src.paths');
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw new IndexError('E_INDEX', `${src}: merging failed (nothing of it was kept): ${(e as Error).message}`, { file: src, cause: e });
    } finally {
      await this.conn.run('DETACH src');
    }
    return (await this.count()) - before;
  }
}

function chunks(xs: string[], size = 1024): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** A SQL list of content hashes; anything but lower-case hex is refused (no SQL from outside). */
function inList(hashes: string[]): string {
  for (const h of hashes) if (!/^[0-9a-f]{64}$/.test(h)) throw new InvalidArgumentError('E_INVALID_ARG', `not a content hash: '${h}'`);
  return hashes.length ? hashes.map((h) => `'${h}'`).join(',') : "''";
}

function rowOf(r: readonly unknown[]): IndexedRow {
  return {
    hash: String(r[0]), id: String(r[1]), path: String(r[2]), arch: String(r[3]), tensorSet: String(r[4]),
    params: num(r[5]), bytes: num(r[6]), bytesRead: num(r[7]),
  };
}

async function readMeta(conn: Conn, file: string): Promise<FingerprintConfig> {
  let rows: unknown[][];
  try {
    rows = (await conn.runAndReadAll('SELECT key, value FROM meta')).getRows() as unknown[][];
  } catch (e) {
    throw new IndexError('E_INDEX', `${file}: a DuckDB database, but not a fingerprint index (no meta table)`, { file, cause: e });
  }
  const meta = new Map(rows.map(([k, v]) => [String(k), String(v)]));
  if (meta.get('format') !== INDEX_FORMAT) throw new IndexError('E_INDEX', `${file}: not a fingerprint index (format ${meta.get('format') ?? 'missing'})`, { file });
  if (meta.get('version') !== String(INDEX_VERSION)) {
    const why = OLDER[meta.get('version') ?? ''] ? ` (${OLDER[meta.get('version')!]})` : '';
    throw new IndexError('E_INDEX', `${file}: fingerprint index version ${meta.get('version')}, this library reads ${INDEX_VERSION}${why}; build a new index from the models with \`phylogeny index add\``, { file });
  }
  try {
    return checkConfig(JSON.parse(meta.get('config') ?? '') as FingerprintConfig);
  } catch (e) {
    throw new IndexError('E_INDEX', `${file}: the index's fingerprint config is damaged`, { file, cause: e });
  }
}
