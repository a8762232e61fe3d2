/**
 * Real PyTorch checkpoints for tests: runs the system Python with torch (Debian's
 * python3-torch, listed in .ci/run) on a small inline script. A missing python3 or torch
 * fails the test loudly: these tests must not pass by skipping.
 */
import { spawnSync } from 'child_process';

export const PYTHON = process.env.NP_TORCH_PYTHON ?? '/usr/bin/python3';

/** Runs `script` with the working directory `cwd`; returns stdout. Throws with stderr on failure. */
export function runTorchPython(script: string, cwd: string): string {
  const r = spawnSync(PYTHON, ['-c', `import torch, numpy\n${script}`], { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${PYTHON} (install python3 and python3-torch): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${PYTHON} failed (status ${r.status}; python3-torch and numpy are needed):\n${r.stderr}`);
  return r.stdout;
}

/**
 * Python that dumps every tensor of state dict `sd` as JSON: dtype, shape, and its values'
 * bytes (contiguous, little-endian) in base64, so TypeScript can compare the bytes it reads
 * at a tensor's offset with what torch holds.
 */
export const DUMP_PY = `
import base64, json
def dump(sd):
    out = {}
    for k, t in sd.items():
        if not isinstance(t, torch.Tensor):
            continue
        c = t.detach().contiguous()
        if c.dtype == torch.bfloat16:
            c = c.view(torch.int16)
        out[k] = {'dtype': str(t.dtype), 'shape': list(t.shape), 'stride': list(t.stride()),
                  'bytes': base64.b64encode(c.numpy().tobytes()).decode()}
    return out
`;
