// Behaviour §9.4 maps and the §10.2 instance table for every ServicesEnabled row.

import { describe, it, expect } from 'vitest';
import { normaliseRingMap, finishMask, FallbackCapabilitySource } from '../../../src/devices/capabilities.js';
import { ringMapForServices, capsForServices, Cap } from '../../../src/kernel/capabilities.js';
import { layoutFromMap, cyUsesAsym } from '../../../src/devices/instances.js';
import { splitServices, MAP_CRYPTO_DEFAULT, MAP_DC_ONLY, FALLBACK_CAPS } from '../../../src/devices/services.js';
import { isQatmgrError } from '../../../src/errors.js';

const ROWS: Array<{ svc: string; map: number; sym: number; asym: number; cy: number; dc: number; decomp: number; services: number }> = [
  { svc: 'sym;asym', map: 0x071c, sym: 2, asym: 2, cy: 2, dc: 0, decomp: 0, services: 6 },
  { svc: 'sym', map: 0x06db, sym: 4, asym: 0, cy: 4, dc: 0, decomp: 0, services: 2 },
  { svc: 'asym', map: 0x0924, sym: 0, asym: 4, cy: 4, dc: 0, decomp: 0, services: 4 },
  { svc: 'dc', map: 0x0492, sym: 0, asym: 0, cy: 0, dc: 4, decomp: 0, services: 1 },
  { svc: 'dcc', map: 0x0492, sym: 0, asym: 0, cy: 0, dc: 4, decomp: 0, services: 1 },
  { svc: 'asym;dc', map: 0x08a2, sym: 0, asym: 2, cy: 2, dc: 2, decomp: 0, services: 5 },
  { svc: 'sym;dc', map: 0x069a, sym: 2, asym: 0, cy: 2, dc: 2, decomp: 0, services: 3 },
];

describe('instance counts per ServicesEnabled (behaviour §10.2)', () => {
  for (const r of ROWS) {
    it(`${r.svc} gives map 0x${r.map.toString(16)} and ${r.sym} sym / ${r.asym} asym / ${r.cy} cy / ${r.dc} dc, services ${r.services}`, () => {
      const { services, unknown } = splitServices(r.svc);
      expect(unknown).toEqual([]);
      const map = ringMapForServices(services);
      expect(map).toBe(r.map);
      const mask = finishMask(capsForServices(services), '4xxx');
      const l = layoutFromMap(normaliseRingMap(map, mask), mask, 'test');
      expect([l.banks.sym.length, l.banks.asym.length, l.numCy, l.banks.dc.length, l.banks.decomp.length, l.services])
        .toEqual([r.sym, r.asym, r.cy, r.dc, r.decomp, r.services]);
    });
  }

  it('the fallback (no PF answer) gives 2 sym / 2 asym / 2 cy, services 6, mask 0x0403B20F', () => {
    const l = layoutFromMap(MAP_CRYPTO_DEFAULT, FALLBACK_CAPS, 'test');
    expect(FALLBACK_CAPS).toBe(0x0403b20f);
    expect([l.banks.sym.length, l.banks.asym.length, l.numCy, l.services]).toEqual([2, 2, 2, 6]);
  });

  it('banks follow the map: asym on pairs 0 and 2, sym on 1 and 3 for 0x071C', () => {
    const l = layoutFromMap(0x071c, FALLBACK_CAPS, 'test');
    expect(l.banks.asym).toEqual([0, 2]);
    expect(l.banks.sym).toEqual([1, 3]);
  });

  it('accepts any order, case, blanks and quotes in a services list ("Asym ; SYM" = sym;asym)', () => {
    expect(ringMapForServices(splitServices('"Asym ; SYM"').services)).toBe(0x071c);
    expect(splitServices('sym;bogus').unknown).toEqual(['bogus']);
  });

  it('does not count a service whose capability bit is missing', () => {
    const l = layoutFromMap(0x071c, Cap.CRYPTO_SYMMETRIC, 'test');
    expect([l.banks.sym.length, l.banks.asym.length, l.services]).toEqual([2, 0, 2]);
  });

  it('replaces map 0 by the crypto default and the crypto default on a compression-only PF by the DC map', () => {
    expect(normaliseRingMap(0, FALLBACK_CAPS)).toBe(MAP_CRYPTO_DEFAULT);
    expect(normaliseRingMap(MAP_CRYPTO_DEFAULT, Cap.COMPRESSION)).toBe(MAP_DC_ONLY);
  });

  it('rejects an unknown ring code (CRYPTO = 1) like upstream ("Detected unknown service")', () => {
    try {
      layoutFromMap(0x0001, FALLBACK_CAPS, '0000:6b:00.1');
      expect.unreachable();
    } catch (e) {
      expect(isQatmgrError(e) && e.code).toBe('QATMGR_E_UNKNOWN_SERVICE');
      expect((e as Error).message).toContain('0000:6b:00.1');
    }
  });

  it('reports CY from the asym half only for services 4, 5, 7, 20, 21, 22', () => {
    expect([4, 5, 7, 20, 21, 22].every(cyUsesAsym)).toBe(true);
    expect([1, 2, 3, 6, 16, 17, 18, 19].some(cyUsesAsym)).toBe(false);
  });

  it('forces ECEDMONT with ASYM and clears ZUC-256 on 420xx', () => {
    expect(finishMask(Cap.CRYPTO_ASYMMETRIC, '4xxx') & Cap.ECEDMONT).toBe(Cap.ECEDMONT);
    expect(finishMask(Cap.ZUC_256 | 1, '420xx') & Cap.ZUC_256).toBe(0);
    expect(new FallbackCapabilitySource().capsFor({ family: { name: '4xxx' } } as never).capabilityMask).toBe(0x0403b20f);
  });
});
