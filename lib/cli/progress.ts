/**
 * Progress bars on stderr for long work. Drawn in place on a terminal; on a pipe or file only
 * the final line is written (no escape codes in logs). `--quiet` turns them off.
 */

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  enabled?: boolean;
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s >= 90) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${s.toFixed(s < 10 ? 1 : 0)}s`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private readonly start = Date.now();
  private lastDraw = 0;
  private lastLen = 0;

  constructor(private readonly label: string, opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? true;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** fraction in [0, 1]; `detail` replaces the default counters. */
  update(fraction: number, detail?: string): void {
    if (!this.enabled || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && fraction < 1) return;
    this.lastDraw = now;
    const f = Math.max(0, Math.min(1, fraction));
    const width = 24;
    const fill = Math.round(f * width);
    const elapsed = (now - this.start) / 1000;
    const eta = f > 0 ? (elapsed * (1 - f)) / f : Infinity;
    const line = `${this.label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(f * 100).toFixed(0).padStart(3)}%` +
      `${detail ? ` ${detail}` : ''} ETA ${fmtSeconds(eta)}`;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}`);
    this.lastLen = line.length;
  }

  /** Byte-count progress: "1.20 GB / 2.90 GB, 3.1 GB/s". */
  updateBytes(done: number, total: number): void {
    const elapsed = (Date.now() - this.start) / 1000;
    this.update(total ? done / total : 1, `${fmtBytes(done)} / ${fmtBytes(total)}, ${fmtBytes(elapsed > 0 ? done / elapsed : 0)}/s`);
  }

  done(summary?: string): void {
    if (!this.enabled) return;
    const elapsed = (Date.now() - this.start) / 1000;
    const line = `${this.label}: ${summary ?? 'done'} (${fmtSeconds(elapsed)})`;
    if (this.tty) this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}\n`);
    else this.stream.write(`${line}\n`);
  }
}

export { fmtBytes, fmtSeconds };
