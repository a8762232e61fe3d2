/**
 * run.backend of a scan result: set by the native scan, derived on load for files written
 * before the field existed, and combined by mergeScans.
 */
import * as fs from 'fs';
import * as path from 'path';
import { backendOf, loadScan, mergeScans, saveScan } from '../../lib/scan/result-io';
import type { ScanResult } from '../../lib/scan/types';
import { tmpDir } from '../helpers/models';

function scanPart(index: number, run: Partial<ScanResult['run']>): ScanResult {
  return {
    format: 'neural-phylogeny/scan',
    version: 1,
    models: [{ id: 'a', path: '/a', params: 1, bytes: 4 }],
    seed: 0,
    fakeInit: 'auto',
    tensors: [
      {
        name: `t${index}`,
        shape: [1],
        models: [0],
        dtypes: ['F32'],
        count: 1,
        fakeInit: { kind: 'constant', value: 0 },
        sum: [1],
        sumSq: [1],
        sumCube: [1],
        sumQuad: [1],
        fakeInitSq: [1],
        gram: [[1]],
      },
    ] as unknown as ScanResult['tensors'],
    skipped: [],
    shard: { index, count: 2 },
    run: { isa: 'avx512', threads: 1, seconds: 1, bytes: 4, device: 'cpu', ...run } as ScanResult['run'],
  };
}

describe('scan result backend', () => {
  it('derives the backend of files written without it from device', () => {
    expect(backendOf({ device: 'cpu' })).toBe('cpu');
    expect(backendOf({ device: 'cuda' })).toBe('cuda');
    expect(backendOf({ device: 'cpu+cuda' })).toBe('cpu+cuda');
    expect(backendOf({ device: 'cuda', backend: 'cpu' })).toBe('cpu');
    const dir = tmpDir('np-backend-');
    try {
      const file = path.join(dir, 'old.json');
      const old = scanPart(1, { device: 'cuda', isa: 'NVIDIA H100 80GB HBM3 (sm_90, dmma)' });
      delete (old.run as Partial<ScanResult['run']>).backend;
      fs.writeFileSync(file, JSON.stringify(old));
      expect(loadScan(file).run.backend).toBe('cuda');
      saveScan(file, scanPart(1, { backend: 'cpu' }));
      expect(loadScan(file).run.backend).toBe('cpu');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mergeScans keeps one backend, or cpu+cuda for a mix', () => {
    const cpu = (i: number) => ({ path: `p${i}`, scan: scanPart(i, { backend: 'cpu', device: 'cpu' }) });
    const gpu = (i: number) => ({ path: `g${i}`, scan: scanPart(i, { backend: 'cuda', device: 'NVIDIA H100 80GB HBM3 (cuda:0)', isa: 'sm_90 dmma' }) });
    expect(mergeScans([cpu(0), cpu(1)]).run.backend).toBe('cpu');
    expect(mergeScans([gpu(0), gpu(1)]).run.backend).toBe('cuda');
    const mixed = mergeScans([cpu(0), gpu(1)]);
    expect(mixed.run.backend).toBe('cpu+cuda');
    expect(mixed.run.device).toBe('cpu+NVIDIA H100 80GB HBM3 (cuda:0)');
  });
});
