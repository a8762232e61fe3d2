/**
 * A real single-node Slurm cluster for tests (scripts/slurm/local-cluster.sh), and the
 * repository's built CLI that its jobs run. Tests skip where Slurm is not installed or the
 * process is not root, unless NP_REQUIRE_SLURM=1 (CI sets it, so there a missing cluster fails).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '../..');
const CLUSTER = path.join(REPO, 'scripts/slurm/local-cluster.sh');

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why Slurm tests cannot run here, or undefined when they can. */
export function slurmUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Slurm tests run on Linux only';
  const missing = ['sbatch', 'sinfo', 'slurmctld', 'slurmd', 'munged'].filter((c) => !onPath(c));
  if (missing.length) return `not installed: ${missing.join(', ')} (apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'slurmd must run as root to start job steps';
  return undefined;
}

export const REQUIRE_SLURM = process.env.NP_REQUIRE_SLURM === '1';

export interface Cluster {
  env: NodeJS.ProcessEnv;
  stop(): void;
}

/** Uses the cluster SLURM_CONF already points at, or starts a private one in `dir`. */
export function startCluster(dir: string): Cluster {
  const envConf = process.env.SLURM_CONF;
  if (envConf && spawnSync('sinfo', ['-h'], { stdio: 'ignore' }).status === 0) return { env: { ...process.env }, stop: () => undefined };
  const r = spawnSync('bash', [CLUSTER, 'start', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`local Slurm cluster did not start:\n${r.stderr}`);
  const conf = /SLURM_CONF=(\S+)/.exec(r.stdout)?.[1];
  if (!conf) throw new Error(`local-cluster.sh printed no SLURM_CONF: ${r.stdout}`);
  return {
    env: { ...process.env, SLURM_CONF: conf },
    stop: () => void spawnSync('bash', [CLUSTER, 'stop', dir], { stdio: 'ignore' }),
  };
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** The command Slurm jobs run: dist/lib/cli/main.js, rebuilt first if lib/ is newer. */
export function builtCli(): string {
  const main = path.join(REPO, 'dist/lib/cli/main.js');
  if (!fs.existsSync(main) || fs.statSync(main).mtimeMs < newestMtime(path.join(REPO, 'lib'))) {
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(REPO, 'tsconfig.build.json')], { encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  return `${process.execPath} ${main}`;
}
