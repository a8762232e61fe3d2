/**
 * Renders an HTML report to a PNG with a headless Chromium, to check in a real browser that the
 * page shows the forest (and to make the README's picture). Chromium runs with a fresh profile,
 * no sandbox (containers and CI runners lack the namespaces it needs) and no network features.
 */
import { spawn } from 'child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { delimiter, dirname, join, resolve } from 'path';
import { pathToFileURL } from 'url';
import { PhylogenyError } from '../errors';
import { readPng } from './png';

export interface ScreenshotOptions {
  /** Viewport in CSS pixels (default 1280 × 1024); the PNG has exactly this size. */
  width?: number;
  height?: number;
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Browser binary; default CHROMIUM_PATH, then chromium, chromium-browser, google-chrome on PATH. */
  chromiumPath?: string;
}

export interface ScreenshotResult {
  pngPath: string;
  browser: string;
  width: number;
  height: number;
}

/** No Chromium (or Chrome) binary could be found or run. */
export class BrowserNotFoundError extends PhylogenyError {}

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The Chromium binary to use, or undefined; an executable CHROMIUM_PATH wins. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES) for (const d of dirs) if (isExecutable(join(d, name))) return join(d, name);
  return undefined;
}

function noBrowser(explicit?: string): BrowserNotFoundError {
  const why = explicit
    ? `the browser at ${explicit} is missing or not executable`
    : `no Chromium found (looked for CHROMIUM_PATH, then ${NAMES.join(', ')} on PATH)`;
  return new BrowserNotFoundError('E_NO_BROWSER', `cannot take a screenshot: ${why}; install it (Debian: apt-get install chromium) or set CHROMIUM_PATH`);
}

export async function screenshotHtml(htmlPath: string, pngPath: string, opts: ScreenshotOptions = {}): Promise<ScreenshotResult> {
  const explicit = opts.chromiumPath ?? process.env.CHROMIUM_PATH;
  const browser = opts.chromiumPath ? (isExecutable(opts.chromiumPath) ? opts.chromiumPath : undefined) : findChromium();
  if (!browser) throw noBrowser(explicit);
  const html = resolve(htmlPath);
  if (!existsSync(html)) throw new PhylogenyError('E_IO', `cannot take a screenshot: ${html} does not exist`, { file: html });
  const png = resolve(pngPath);
  const width = opts.width ?? 1280;
  const height = opts.height ?? 1024;
  mkdirSync(dirname(png), { recursive: true });
  // A PNG left from an earlier run must not pass for this run's output.
  rmSync(png, { force: true });
  const profile = mkdtempSync(join(tmpdir(), 'phylogeny-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    // Docker's 64 MB /dev/shm makes Chromium crash on large pages; use /tmp instead.
    '--disable-dev-shm-usage',
    // One CSS pixel per PNG pixel, whatever the host's display scaling says.
    '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`,
    `--screenshot=${png}`,
    `--window-size=${width},${height}`,
    pathToFileURL(html).href,
  ];
  try {
    const { code, stderr, timedOut } = await run(browser, args, opts.timeoutMs ?? 60000);
    let ok = false;
    try {
      ok = existsSync(png) && readPng(readFileSync(png)).width > 0;
    } catch {
      ok = false;
    }
    // Some Chromium builds linger after writing the file; a complete PNG is still a result.
    if (!ok) {
      const tail = stderr.trim().split('\n').slice(-8).join('\n');
      const how = timedOut ? `timed out after ${opts.timeoutMs ?? 60000} ms` : `exited with ${code}`;
      throw new PhylogenyError('E_IO', `${browser} ${how} without writing ${png}${tail ? `:\n${tail}` : ''}`, { file: png });
    }
    return { pngPath: png, browser, width, height };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((done, fail) => {
    // Own process group, so a timeout can end Chromium's helper processes too.
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(err.code === 'ENOENT' || err.code === 'EACCES' ? noBrowser(cmd) : err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr, timedOut });
    });
  });
}
