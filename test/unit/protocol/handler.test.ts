// The handler's checks, in upstream's order, and every BAD reply a client can provoke (protocol §9–§10).

import { describe, it, expect, beforeEach } from 'vitest';
import { simHost } from '../../helpers/sim.js';
import { encodeNameRequest, encodeBareRequest, encodeDeviceRequest, encodeInstanceRequest } from '../../../src/protocol/encode.js';
import { readCString } from '../../../src/protocol/decode.js';
import { MsgType } from '../../../src/protocol/constants.js';
import { handleRequest, createServeContext, type Session, type ServeContext } from '../../../src/protocol/handler.js';
import { discover } from '../../../src/platform/discover.js';
import { buildPlan } from '../../../src/sections/plan.js';
import { Allocator } from '../../../src/sections/allocator.js';
import { SysfsCapabilitySource } from '../../../src/devices/capabilities.js';
import { silentLogger } from '../../../src/log.js';

const V = 0x1a08;
let ctx: ServeContext;
let nextConn = 1;
const sess = (): Session => ({ connId: nextConn++, pid: 1, uid: 0, gid: 0, section: null, replies: null, requests: 0 });
const text = (b: Buffer): string => (b.readUInt16LE(4) === 999 ? `BAD ${readCString(b, 8)}` : `OK ${b.readUInt16LE(4)}`);
const ask = (s: Session, b: Buffer): string => text(handleRequest(b, s, ctx));
const get = (s: Session, name = 'SSL'): string => ask(s, encodeNameRequest(V, MsgType.SECTION_GET, name));

beforeEach(() => {
  const g = simHost('4xxx:2x2'); // PF0 sym;asym, PF1 dc; 2 sections at policy 0
  const inv = discover(g.roots, silentLogger());
  const caps = new SysfsCapabilitySource(g.roots);
  const allocator = new Allocator(buildPlan(inv, 0, (vf) => caps.capsFor(vf)));
  ctx = createServeContext(V, allocator, inv.pfs, inv.vm);
});

describe('request checks', () => {
  it('checks the version before anything else and keeps the connection state', () => {
    const s = sess();
    const bad = encodeNameRequest(0x1a02, MsgType.SECTION_GET, 'SSL');
    const r = handleRequest(bad, s, ctx);
    expect(r.readUInt16LE(2)).toBe(V);
    expect(readCString(r, 8)).toBe('Incompatible. qatmgr received msg vX from qatlib vY\n');
    expect(r.length).toBe(61);
    expect(s.section).toBeNull();
    expect(ask(sess(), encodeBareRequest(0x1a09, 999))).toMatch(/^BAD Incompatible/);
  });

  it('answers unknown types (0, 6, 12, 998, 999) with "Unknown message"', () => {
    for (const t of [0, 6, 12, 998, 999]) expect(ask(sess(), encodeBareRequest(V, t))).toBe('BAD Unknown message');
  });

  it('answers a wrong length with "Inconsistent length" before the section check', () => {
    const s = sess();
    const b = Buffer.concat([encodeBareRequest(V, MsgType.NUM_DEVICES), Buffer.alloc(2)]);
    b.writeUInt16LE(10, 0);
    expect(ask(s, b)).toBe('BAD Inconsistent length');
    const name = encodeNameRequest(V, MsgType.SECTION_GET, 'SSL');
    expect(ask(s, name.subarray(0, 11).fill(0x41, 8).map((x, i) => (i === 0 ? 11 : x)) as Buffer)).toBe('BAD Inconsistent length');
  });

  it('answers section-bound requests without a section with "Invalid index"', () => {
    const s = sess();
    for (const b of [encodeBareRequest(V, 3), encodeDeviceRequest(V, 4, 0), encodeDeviceRequest(V, 5, 0), encodeDeviceRequest(V, 9, 0), encodeInstanceRequest(V, 7, 6, 0, 0), encodeInstanceRequest(V, 8, 6, 0, 0)]) {
      expect(ask(s, b)).toBe('BAD Invalid index');
    }
  });

  it('serves NUM_PF_DEVS and PF_DEV_INFO without a section and rejects a PF index out of range', () => {
    const s = sess();
    expect(handleRequest(encodeBareRequest(V, 10), s, ctx).readUInt16LE(8)).toBe(2);
    expect(ask(s, encodeDeviceRequest(V, 11, 1))).toBe('OK 11');
    expect(ask(s, encodeDeviceRequest(V, 11, 2))).toBe('BAD Invalid device number');
  });
});

describe('sections', () => {
  it('grants first-fit, refuses a second GET on the same connection and a GET when all are held', () => {
    const a = sess();
    const b = sess();
    const c = sess();
    expect(readCString(handleRequest(encodeNameRequest(V, 1, 'SSL'), a, ctx), 8)).toBe('SSL_INT_0');
    expect(get(a)).toBe('BAD Section already allocated');
    expect(readCString(handleRequest(encodeNameRequest(V, 1, 'x'), b, ctx), 8)).toBe('SSL_INT_1');
    expect(get(c)).toBe('BAD No section available');
    // a freed low section is handed out again before higher ones
    expect(ask(a, encodeNameRequest(V, 2, 'SSL_INT_0'))).toBe('OK 2');
    expect(readCString(handleRequest(encodeNameRequest(V, 1, 'SSL'), c, ctx), 8)).toBe('SSL_INT_0');
  });

  it('SECTION_PUT without a section answers "Section not allocated"; a wrong name keeps the section', () => {
    const s = sess();
    expect(ask(s, encodeNameRequest(V, 2, 'SSL_INT_0'))).toBe('BAD Section not allocated');
    get(s);
    expect(ask(s, encodeNameRequest(V, 2, 'SSL_INT_1'))).toBe('BAD Failed to release section');
    expect(ask(s, encodeNameRequest(V, 2, 'SSL_INT_'))).toBe('BAD Failed to release section');
    expect(ask(s, encodeBareRequest(V, 3))).toBe('OK 3');
    const put = handleRequest(encodeNameRequest(V, 2, 'SSL_INT_0'), s, ctx);
    expect(put).toEqual(Buffer.from([8, 0, 0x08, 0x1a, 2, 0, 0, 0]));
    expect(get(s)).toBe('OK 1');
  });

  it('checks the device index, then the instance type, then the instance number', () => {
    const s = sess();
    get(s);
    expect(ask(s, encodeDeviceRequest(V, 4, 2))).toBe('BAD Invalid device number');
    expect(ask(s, encodeInstanceRequest(V, 7, 99, 0, 2))).toBe('BAD Invalid device number');
    expect(ask(s, encodeInstanceRequest(V, 7, 99, 0, 0))).toBe('BAD Unknown instance type');
    // device 0 is the sym;asym VF (2 cy, 0 dc), device 1 the dc VF (4 dc)
    expect(ask(s, encodeInstanceRequest(V, 7, 1, 0, 0))).toBe('BAD Invalid dc instance number');
    expect(ask(s, encodeInstanceRequest(V, 8, 1, 0, 0))).toBe('BAD Invalid DC instance number');
    expect(ask(s, encodeInstanceRequest(V, 7, 6, 2, 0))).toBe('BAD Invalid cy instance number');
    expect(ask(s, encodeInstanceRequest(V, 8, 6, 2, 0))).toBe('BAD Invalid CY instance number');
    expect(ask(s, encodeInstanceRequest(V, 8, 16, 0, 1))).toBe('BAD Invalid Decomp instance number');
    expect(ask(s, encodeInstanceRequest(V, 7, 16, 0, 1))).toBe('BAD Invalid decomp instance number');
    expect(ask(s, encodeInstanceRequest(V, 8, 2, 2, 0))).toBe('BAD Invalid SYM instance number');
    expect(ask(s, encodeInstanceRequest(V, 7, 4, 2, 0))).toBe('BAD Invalid asym instance number');
    expect(ask(s, encodeInstanceRequest(V, 8, 1, 3, 1))).toBe('OK 8');
    expect(readCString(handleRequest(encodeInstanceRequest(V, 8, 1, 3, 1), s, ctx), 8)).toBe('dc3');
  });

  it('zeroes the unused halves of INSTANCE_INFO (no stale bytes, protocol §14)', () => {
    const s = sess();
    get(s);
    const dc = handleRequest(encodeInstanceRequest(V, 7, 1, 1, 1), s, ctx);
    expect(dc.subarray(22).every((x) => x === 0)).toBe(true);
    const asym = handleRequest(encodeInstanceRequest(V, 7, 4, 0, 0), s, ctx);
    expect(asym.subarray(8, 22).every((x) => x === 0)).toBe(true);
    expect(asym.subarray(36).every((x) => x === 0)).toBe(true);
  });

  it('a section taken away by force release makes the old holder\'s next request BAD', () => {
    const s = sess();
    get(s);
    ctx.allocator.forceRelease(0);
    expect(ask(s, encodeBareRequest(V, 3))).toBe('BAD Invalid index');
    expect(get(s)).toBe('OK 1');
  });

  it('a drained VF keeps its holder but its section is not granted to new clients', () => {
    const a = sess();
    get(a);
    ctx.allocator.setOutOfService(ctx.allocator.sections[1].plan.devices[0].vf.bdf, 'maintenance');
    expect(get(sess())).toBe('BAD No section available');
    expect(ctx.allocator.refusalReason()).toMatch(/1 of 2 sections held .* 1 out-of-service: VF .* out of service \(maintenance\)/);
    expect(ask(a, encodeBareRequest(V, 3))).toBe('OK 3');
  });
});
