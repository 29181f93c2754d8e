// /etc/sysconfig/qat is read with systemd EnvironmentFile= semantics.

import { describe, it, expect } from 'vitest';
import { parseEnvText } from '../../../src/config/envfile.js';
import { isQatmgrError } from '../../../src/errors.js';

const P = '/etc/sysconfig/qat';
const vals = (t: string): Record<string, string> => Object.fromEntries([...parseEnvText(t, P).values].map(([k, e]) => [k, e.value]));

describe('environment file parser', () => {
  it('keeps ";" inside a value (ServicesEnabled=sym;asym stays sym;asym)', () => {
    expect(vals('ServicesEnabled=sym;asym\nPOLICY=2\n')).toEqual({ ServicesEnabled: 'sym;asym', POLICY: '2' });
  });

  it('skips comment lines starting with # or ; and blank lines, also after leading blanks', () => {
    expect(vals('# c\n; ServicesEnabled=dc\n\n   # x\nPOLICY=1\n')).toEqual({ POLICY: '1' });
  });

  it('strips trailing blanks of unquoted values and blanks around =', () => {
    expect(vals('POLICY = 3   \t\n')).toEqual({ POLICY: '3' });
  });

  it('honours single and double quotes, escapes in double quotes and multi-line quoted values', () => {
    expect(vals(`A='sym;asym'\nB="dc \\"x\\" \\\\"\nC="two\nlines"\n`)).toEqual({ A: 'sym;asym', B: 'dc "x" \\', C: 'two\nlines' });
  });

  it('joins a line ending in a backslash with the next one', () => {
    expect(vals('A=sym;\\\nasym\n')).toEqual({ A: 'sym;asym' });
  });

  it('lets the last assignment win and keeps every entry with its line', () => {
    const f = parseEnvText('POLICY=1\nPOLICY=2\n', P);
    expect(f.values.get('POLICY')).toEqual({ key: 'POLICY', value: '2', line: 2 });
    expect(f.entries).toHaveLength(2);
  });

  it('handles CRLF line ends and an "export " prefix', () => {
    expect(vals('export POLICY=4\r\nX=y\r\n')).toEqual({ POLICY: '4', X: 'y' });
  });

  it.each([
    ['POLICY\n', /qat:1: expected KEY=value, found "POLICY"/],
    ['\n\n1BAD=x\n', /qat:3: "1BAD" is not a valid variable name/],
    ['A="open\n', /qat:1: unterminated double quote in value of A/],
    ["A='x' y\n", /qat:1: unexpected text after closing quote in value of A/],
  ])('rejects %j with a message naming file and line', (text, re) => {
    try {
      parseEnvText(text, P);
      expect.unreachable();
    } catch (e) {
      expect(isQatmgrError(e) && e.code).toBe('QATMGR_E_CONFIG_SYNTAX');
      expect((e as Error).message).toMatch(re);
    }
  });
});
