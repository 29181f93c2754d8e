// selftest's --size and --duration values: accepted spellings, and errors that quote the bad value.

import { describe, it, expect } from 'vitest';
import { parseSizes, parseDuration } from '../../../src/selftest/options.js';

describe('selftest options', () => {
  it('sizes accept bytes, k/KiB and M units and comma lists', () => {
    expect(parseSizes('4096')).toEqual([4096]);
    expect(parseSizes('4k,64KiB,1M')).toEqual([4096, 65536, 1048576]);
  });

  it('a size of 0, above 2 MiB or with an unknown unit is a usage error quoting the value', () => {
    for (const bad of ['0', '3M', '5x', '']) {
      expect(() => parseSizes(bad)).toThrow(expect.objectContaining({ code: 'QATMGR_E_USAGE' }));
    }
    expect(() => parseSizes('1k,5x')).toThrow(/"5x"/);
  });

  it('a duration is seconds when bare, or carries ms/s/m', () => {
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('0.5')).toBe(500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1m')).toBe(60000);
  });

  it('a duration of zero, negative or nonsense is a usage error quoting the value', () => {
    expect(() => parseDuration('0')).toThrow(/"0"/);
    expect(() => parseDuration('-1')).toThrow(expect.objectContaining({ code: 'QATMGR_E_USAGE' }));
    expect(() => parseDuration('soon')).toThrow(/"soon"/);
  });
});
