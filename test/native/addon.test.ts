import { native } from '../../lib/native';

describe('native addon', () => {
  it('loads and reports its CUDA state without throwing', () => {
    const s = native().cudaStatus();
    expect(typeof s.compiled).toBe('boolean');
    expect(typeof s.usable).toBe('boolean');
    if (!s.usable) expect(s.reason.length).toBeGreaterThan(0);
    else expect(s.devices.length).toBeGreaterThan(0);
  });

  it('reports the CPU kernel sets it can run', () => {
    const c = native().cpuInfo();
    expect(c.supportedIsas).toContain('scalar');
    expect(c.supportedIsas).toContain(c.isa);
  });
});
