// The selftest's human output: one aligned row per instance, a verdict line, and the progress bar.

import { describe, it, expect } from 'vitest';
import { renderReport, progressLine } from '../../../src/selftest/report.js';
import type { SelftestReport, InstanceResult } from '../../../src/selftest/run.js';

const row = (name: string, kind: 'dc' | 'cy', passed: boolean, error?: string): InstanceResult => ({
  kind, index: 0, name, id: 'x', busAddress: (0x70 << 8) | (1 << 3), passed, ops: 10, opsPerSec: 1234.4, mbPerSec: 5.56, p50Us: 12.34, p99Us: 56.78,
  ...(error ? { error } : {}),
});
const report = (instances: InstanceResult[], extra: Partial<SelftestReport> = {}): SelftestReport => ({
  processName: 'SSL', library: '/lib/libqat.so.4', instances, passed: instances.every((i) => i.passed), interrupted: false, seconds: 1.25, ...extra,
});

describe('selftest report', () => {
  it('prints the device as bus:dev.fn, rounded rates and latencies, and "all N instances passed"', () => {
    const out = renderReport(report([row('dc0', 'dc', true), row('sym0', 'cy', true)]));
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^instance\s+kind\s+device\s+result\s+ops\/s\s+MB\/s\s+p50 us\s+p99 us\s+error$/);
    expect(lines[1]).toMatch(/^dc0\s+dc\s+70:01\.0\s+pass\s+1234\s+5\.6\s+12\.3\s+56\.8$/);
    expect(lines[3]).toBe('all 2 instances passed (1.3 s, /lib/libqat.so.4)');
  });

  it('a failed instance shows FAIL with its error, and the verdict counts the failures', () => {
    const out = renderReport(report([row('dc0', 'dc', true), row('dc1', 'dc', false, 'round trip of 64 bytes came back different')]));
    expect(out).toMatch(/dc1\s+dc\s+70:01\.0\s+FAIL\s.*round trip of 64 bytes came back different/);
    expect(out.trimEnd().split('\n').at(-1)).toBe('1 of 2 instances FAILED');
  });

  it('an interrupted run says so and that the section was released', () => {
    const out = renderReport(report([row('dc0', 'dc', true)], { interrupted: true, passed: false }));
    expect(out).toMatch(/interrupted: 1\/1 instances tested passed; section released/);
  });

  it('the progress bar fills in proportion and names the instance being loaded', () => {
    expect(progressLine(0.5, 'dc2', 10)).toBe('\r[#####.....]  50% dc2         ');
    expect(progressLine(1.7, '', 4)).toBe('\r[####] 100%             ');
  });
});
