/** `--shard auto`: the part number read from a Slurm array task's or an Indexed Job's environment. */
import { resolveTaskSpec, taskFromEnv } from '../../lib/cli/task-env';
import { InvalidArgumentError } from '../../lib/errors';

describe('taskFromEnv', () => {
  it('numbers Slurm array tasks from 1 whatever the first index', () => {
    expect(taskFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toBe('3/4');
    expect(taskFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toBe('1/4');
    expect(taskFromEnv({ SLURM_ARRAY_TASK_ID: '17', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_STEP: '1' })).toBe('8/8');
  });

  it('numbers Kubernetes completion indexes from 1 and needs the count', () => {
    expect(taskFromEnv({ JOB_COMPLETION_INDEX: '0', NP_TASK_COUNT: '5' })).toBe('1/5');
    expect(taskFromEnv({ JOB_COMPLETION_INDEX: '4', NP_TASK_COUNT: '5' })).toBe('5/5');
    expect(() => taskFromEnv({ JOB_COMPLETION_INDEX: '0' })).toThrow(/NP_TASK_COUNT/);
  });

  it('refuses what would scan the wrong part', () => {
    expect(() => taskFromEnv({})).toThrow(InvalidArgumentError);
    expect(() => taskFromEnv({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/between 1 and 4/);
    expect(() => taskFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_STEP: '2' })).toThrow(/step 2/);
    expect(() => taskFromEnv({ SLURM_ARRAY_TASK_ID: '1' })).toThrow(/SLURM_ARRAY_TASK_COUNT/);
    expect(() => taskFromEnv({ JOB_COMPLETION_INDEX: 'x', NP_TASK_COUNT: '2' })).toThrow(/not a non-negative integer/);
    expect(() => taskFromEnv({ JOB_COMPLETION_INDEX: '2', NP_TASK_COUNT: '2' })).toThrow(/between 1 and 2/);
  });

  it('passes explicit parts through and resolves only auto', () => {
    expect(resolveTaskSpec('2/3', {})).toBe('2/3');
    expect(resolveTaskSpec(undefined, {})).toBeUndefined();
    expect(resolveTaskSpec('auto', { JOB_COMPLETION_INDEX: '1', NP_TASK_COUNT: '3' })).toBe('2/3');
  });
});
