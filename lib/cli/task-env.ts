/**
 * `--shard auto`: which part i of n this process is, read from the job engine's environment,
 * so one command line serves every task of a Slurm job array or a Kubernetes Indexed Job.
 *
 * - Slurm sets SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT on each
 *   array task; `--array=1-8` gives parts 1/8 .. 8/8 (any contiguous range works: 0-7 too).
 * - Kubernetes sets JOB_COMPLETION_INDEX (0-based) on an Indexed Job's pods but not the number
 *   of completions, so the manifest passes that as NP_TASK_COUNT.
 *
 * Anything ambiguous (a stepped array, an index past the count) is refused: a wrong part
 * number would silently scan the same tensors twice and leave others out.
 */
import { InvalidArgumentError } from '../errors';

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError('E_INVALID_ARG', `${name}='${v}' is not a non-negative integer`);
  return Number(v.trim());
}

/** The part ("i/n", 1-based) this task is, from Slurm's or Kubernetes' variables. */
export function taskFromEnv(env: Env = process.env): string {
  const slurmId = intVar(env, 'SLURM_ARRAY_TASK_ID');
  if (slurmId !== undefined) {
    const min = intVar(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const count = intVar(env, 'SLURM_ARRAY_TASK_COUNT');
    const step = intVar(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    if (count === undefined) throw new InvalidArgumentError('E_INVALID_ARG', 'SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not');
    if (step !== 1) throw new InvalidArgumentError('E_INVALID_ARG', `the Slurm array has step ${step}: submit a contiguous range such as --array=1-${count}`);
    return checked(slurmId - min + 1, count, `SLURM_ARRAY_TASK_ID=${slurmId} (min ${min}, count ${count})`);
  }
  const k8sIndex = intVar(env, 'JOB_COMPLETION_INDEX');
  if (k8sIndex !== undefined) {
    const count = intVar(env, 'NP_TASK_COUNT');
    if (count === undefined) throw new InvalidArgumentError('E_INVALID_ARG', 'JOB_COMPLETION_INDEX is set but NP_TASK_COUNT is not: set it to the Job\'s completions in the manifest');
    return checked(k8sIndex + 1, count, `JOB_COMPLETION_INDEX=${k8sIndex} (NP_TASK_COUNT ${count})`);
  }
  throw new InvalidArgumentError(
    'E_INVALID_ARG',
    "'auto' needs a job array's environment: SLURM_ARRAY_TASK_ID (a Slurm array task) or JOB_COMPLETION_INDEX with NP_TASK_COUNT (a Kubernetes Indexed Job); give i/n explicitly elsewhere",
  );
}

function checked(i: number, n: number, what: string): string {
  if (n < 1 || i < 1 || i > n) throw new InvalidArgumentError('E_INVALID_ARG', `${what} is not a part between 1 and ${n}`);
  return `${i}/${n}`;
}

/** "auto" → the part from the environment; anything else as given. */
export function resolveTaskSpec(text: string | undefined, env: Env = process.env): string | undefined {
  return text !== undefined && text.trim() === 'auto' ? taskFromEnv(env) : text;
}
