import * as fs from 'fs';
import * as path from 'path';
import { defaultFakeInit } from '../../lib/scan/default-init';
import type { ModelSet, ModelSource } from '../../lib/io/types';
import { tmpDir } from '../helpers/models';

function model(p: string): ModelSource {
  return { id: path.basename(p), path: p, format: 'hf', files: [], tensors: [], bytes: 0, params: 0 };
}

describe('default fake init', () => {
  const dir = tmpDir('np-init-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(a, 'config.json'), JSON.stringify({ initializer_range: 0.02 }));
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify({ initializer_range: 0.02 }));
  const set = (ms: ModelSource[]): ModelSet => ({ models: ms, warnings: [] });

  it('is hf(r) when every model has a config.json with the same initializer_range', () => {
    expect(defaultFakeInit(set([model(a), model(b)])).spec).toBe('hf(0.02)');
  });

  it('is auto (PyTorch) otherwise', () => {
    const file = path.join(dir, 'c.safetensors');
    fs.writeFileSync(file, '');
    expect(defaultFakeInit(set([model(a), model(file)])).spec).toBe('auto');
    const c = path.join(dir, 'c');
    fs.mkdirSync(c);
    fs.writeFileSync(path.join(c, 'config.json'), JSON.stringify({ initializer_range: 0.01 }));
    expect(defaultFakeInit(set([model(a), model(c)])).spec).toBe('auto');
    expect(defaultFakeInit(set([])).spec).toBe('auto');
  });
});
