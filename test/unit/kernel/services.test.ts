import { describe, it, expect } from 'vitest';
import { allowedSets, familySupports, kernelParseServices, readServiceSet, formatServices } from '../../../src/kernel/services.js';

describe('kernel service rules per family', () => {
  it('GEN4 families accept one of sym, asym, dc, dcc or two of sym/asym/dc, and never decomp', () => {
    for (const fam of ['4xxx', '401xx', '402xx', '420xx'] as const) {
      expect(allowedSets(fam)).toEqual(['asym', 'sym', 'dc', 'dcc', 'asym;sym', 'asym;dc', 'sym;dc']);
      expect(familySupports(fam, ['decomp'])).toBe(false);
      expect(familySupports(fam, ['sym', 'dcc'])).toBe(false);
      expect(familySupports(fam, ['asym', 'sym', 'dc'])).toBe(false);
    }
  });

  it('6xxx accepts decomp and up to three services without dcc', () => {
    expect(familySupports('6xxx', ['decomp'])).toBe(true);
    expect(familySupports('6xxx', ['asym', 'sym', 'dc'])).toBe(true);
    expect(familySupports('6xxx', ['dc', 'decomp'])).toBe(true);
    expect(familySupports('6xxx', ['dc', 'dcc'])).toBe(false);
    expect(allowedSets('6xxx')).toContain('asym;sym;decomp');
  });

  it('the kernel parse is strict: exact lower-case tokens, no repeats, one trailing newline allowed', () => {
    expect(kernelParseServices('4xxx', 'sym;asym\n')).toEqual({ set: ['asym', 'sym'] });
    expect(kernelParseServices('4xxx', 'asym;sym')).toEqual({ set: ['asym', 'sym'] });
    expect(kernelParseServices('4xxx', 'Sym')).toEqual({ errno: 'EINVAL' });
    expect(kernelParseServices('4xxx', 'sym; asym')).toEqual({ errno: 'EINVAL' });
    expect(kernelParseServices('4xxx', 'sym;sym')).toEqual({ errno: 'EINVAL' });
    expect(kernelParseServices('4xxx', 'decomp')).toEqual({ errno: 'EINVAL' });
    expect(kernelParseServices('6xxx', 'decomp')).toEqual({ set: ['decomp'] });
  });

  it('reading a PF compares sets, so sym;asym and asym;sym are the same configuration', () => {
    expect(formatServices(readServiceSet('sym;asym\n')!)).toBe(formatServices(readServiceSet('asym;sym')!));
    expect(readServiceSet('bogus')).toBeUndefined();
  });
});
