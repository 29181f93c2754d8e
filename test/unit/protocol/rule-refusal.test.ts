// SECTION_GET refusals: upstream's exact bytes when sections run out, the reason after upstream's text when a rule refuses.

import { describe, it, expect } from 'vitest';
import { simHost } from '../../helpers/sim.js';
import { encodeNameRequest } from '../../../src/protocol/encode.js';
import { readCString } from '../../../src/protocol/decode.js';
import { MsgType } from '../../../src/protocol/constants.js';
import { handleRequest, createServeContext, type Session, type ServeContext } from '../../../src/protocol/handler.js';
import { discover } from '../../../src/platform/discover.js';
import { buildPlan } from '../../../src/sections/plan.js';
import { Allocator } from '../../../src/sections/allocator.js';
import { FallbackCapabilitySource } from '../../../src/devices/capabilities.js';
import { parseShareRule } from '../../../src/config/shares.js';
import { silentLogger } from '../../../src/log.js';

const V = 0x1a08;
const ids = { user: () => undefined, group: () => undefined };
let conn = 1;
const sess = (uid: number): Session => ({ connId: conn++, pid: 1, uid, gid: 0, section: null, replies: null, requests: 0 });
const get = (ctx: ServeContext, uid: number, name = 'SSL'): Buffer => handleRequest(encodeNameRequest(V, MsgType.SECTION_GET, name), sess(uid), ctx);

function context(shares: string[]): ServeContext {
  const inv = discover(simHost('4xxx:2x2').roots, silentLogger());
  const caps = new FallbackCapabilitySource();
  const a = new Allocator(buildPlan(inv, 1, (vf) => caps.capsFor(vf)));
  a.configure({ numa: 'off', shares: shares.map((t, i) => parseShareRule(t, `f:${i + 1}`, ids)) });
  return createServeContext(V, a, inv.pfs, inv.vm);
}

describe('refusal replies', () => {
  it('answers upstream\'s exact 29 bytes when every section is held, shares or not', () => {
    const ctx = context(['uid:7: max 4']);
    for (let i = 0; i < 4; i++) expect(get(ctx, 0).readUInt16LE(4)).toBe(MsgType.SECTION_GET);
    expect(get(ctx, 0).toString('hex')).toBe('1d00081ae70300004e6f2073656374696f6e20617661696c61626c6500');
  });

  it('puts the reason after upstream\'s text when a cap refuses, reusing one encoded reply per reason', () => {
    const ctx = context(['uid:7: max 1']);
    get(ctx, 7);
    const r = get(ctx, 7);
    expect([r.readUInt16LE(4), readCString(r, 8), r.length]).toEqual([999, 'No section available: uid:7 holds its maximum of 1', 8 + 50 + 1]);
    expect(get(ctx, 7)).toBe(r);
  });

  it('keeps the set of encoded refusals bounded: past 256 distinct reasons one generic text is sent', () => {
    const ctx = context(['uid:7: max 0']);
    for (let i = 0; i < 256; i++) ctx.ruleRefusals.set(`reason ${i}`, Buffer.alloc(0));
    expect(readCString(get(ctx, 7), 8)).toBe('No section available: refused by NumaAware or a share (qatctl events shows the reason)');
    expect(ctx.ruleRefusals.size).toBe(257);
    expect(readCString(get(ctx, 7, 'other'), 8)).toMatch(/refused by NumaAware or a share/);
    expect(ctx.ruleRefusals.size).toBe(257);
  });
});
