// Golden bytes: every hex example of protocol §13, reproduced by our encoders and by the handler on the §16 tree.

import { describe, it, expect, beforeAll } from 'vitest';
import { hexBytes } from '../../helpers/hex.js';
import { simHost } from '../../helpers/sim.js';
import { encodeNameRequest, encodeBareRequest, encodeDeviceRequest, encodeInstanceRequest, encodeBad } from '../../../src/protocol/encode.js';
import { MsgType, BadText, INSTANCE_TYPES } from '../../../src/protocol/constants.js';
import { handleRequest, createServeContext, type Session, type ServeContext } from '../../../src/protocol/handler.js';
import { discover } from '../../../src/platform/discover.js';
import { buildPlan } from '../../../src/sections/plan.js';
import { Allocator } from '../../../src/sections/allocator.js';
import { FallbackCapabilitySource } from '../../../src/devices/capabilities.js';
import { silentLogger } from '../../../src/log.js';

const V = 0x1a08;

function session(connId = 1): Session {
  return { connId, pid: 100, uid: 0, gid: 0, section: null, replies: null, requests: 0 };
}

describe('protocol §13 worked examples', () => {
  let ctx: ServeContext;
  beforeAll(() => {
    // behaviour §16: two 4xxx PFs 6b/70 with 16 VFs each, "kernel without PF/VF messaging" fixture (fallback caps)
    const g = simHost('4xxx:2x16,services=sym;asym');
    const inv = discover(g.roots, silentLogger());
    const caps = new FallbackCapabilitySource();
    const allocator = new Allocator(buildPlan(inv, 0, (vf) => caps.capsFor(vf)));
    ctx = createServeContext(V, allocator, inv.pfs, inv.vm);
  });

  it('encodes SECTION_GET for process name SSL as the 12 bytes of the spec', () => {
    expect(encodeNameRequest(V, MsgType.SECTION_GET, 'SSL')).toEqual(hexBytes('0c 00 08 1a 01 00 00 00 53 53 4c 00'));
  });

  it('answers the first SECTION_GET with SSL_INT_0 in 18 bytes', () => {
    const s = session();
    const r = handleRequest(hexBytes('0c 00 08 1a 01 00 00 00 53 53 4c 00'), s, ctx);
    expect(r).toEqual(hexBytes('12 00 08 1a 01 00 00 00 53 53 4c 5f 49 4e 54 5f 30 00'));
    ctx.allocator.release(s.section!, s.connId, 'put');
  });

  it('answers NUM_DEVICES for a 2-VF section with 2', () => {
    const s = session();
    handleRequest(encodeNameRequest(V, MsgType.SECTION_GET, 'SSL'), s, ctx);
    expect(encodeBareRequest(V, MsgType.NUM_DEVICES)).toEqual(hexBytes('08 00 08 1a 03 00 00 00'));
    expect(handleRequest(hexBytes('08 00 08 1a 03 00 00 00'), s, ctx)).toEqual(hexBytes('0a 00 08 1a 03 00 00 00 02 00'));
    ctx.allocator.release(s.section!, s.connId, 'put');
  });

  it('encodes DEVICE_INFO for device 1 as the spec shows', () => {
    expect(encodeDeviceRequest(V, MsgType.DEVICE_INFO, 1)).toEqual(hexBytes('0a 00 08 1a 04 00 00 00 01 00'));
  });

  it('answers DEVICE_INFO of device 0 with the 128-byte 4xxxvf reply (fallback caps, sym;asym, PF 0, node 0)', () => {
    const s = session();
    handleRequest(encodeNameRequest(V, MsgType.SECTION_GET, 'SSL'), s, ctx);
    const expected = hexBytes(`
000: 80 00 08 1a 04 00 00 00 00 00 0e 00 41 49 00 00
010: 0f b2 03 04 00 00 00 00 00 00 00 00 00 00 00 00
020: 00 00 00 00 00 00 00 00 04 00 02 00 01 00 00 00
030: 06 00 00 00 00 00 02 00 02 00 02 00 00 00 00 00
040: 34 78 78 78 76 66 00 00`, 128);
    expect(handleRequest(encodeDeviceRequest(V, MsgType.DEVICE_INFO, 0), s, ctx)).toEqual(expected);
    ctx.allocator.release(s.section!, s.connId, 'put');
  });

  it('answers INSTANCE_INFO for CY instance 0 of device 0 with sym bank 1/core 2 and asym bank 0/core 0', () => {
    const s = session();
    handleRequest(encodeNameRequest(V, MsgType.SECTION_GET, 'SSL'), s, ctx);
    const req = hexBytes('10 00 08 1a 07 00 00 00 06 00 00 00 00 00 00 00');
    expect(encodeInstanceRequest(V, MsgType.INSTANCE_INFO, 6, 0, 0)).toEqual(req);
    expect(handleRequest(req, s, ctx)).toEqual(hexBytes(`
000: 28 00 08 1a 07 00 00 00 00 00 01 00 01 00 02 00
010: 00 02 00 00 01 00 00 00 00 00 01 00 00 00 40 00
020: 00 00 01 00 01 00 00 00`));
    ctx.allocator.release(s.section!, s.connId, 'put');
  });

  it('answers VFIO_FILE with fd -1 and the group path, /dev/vfio/107 for SSL_INT_0 device 0', () => {
    const s = session();
    handleRequest(encodeNameRequest(V, MsgType.SECTION_GET, 'SSL'), s, ctx);
    const r = handleRequest(encodeDeviceRequest(V, MsgType.VFIO_FILE, 0), s, ctx);
    expect(r).toEqual(hexBytes('18 00 08 1a 09 00 00 00 ff ff 2f 64 65 76 2f 76 66 69 6f 2f 31 30 37 00'));
    ctx.allocator.release(s.section!, s.connId, 'put');
  });

  it('encodes the VFIO_FILE reply for /dev/vfio/100 as the 24 bytes of the spec', async () => {
    const { encodeVfioFile } = await import('../../../src/protocol/encode.js');
    expect(encodeVfioFile(V, -1, '/dev/vfio/100')).toEqual(hexBytes('18 00 08 1a 09 00 00 00 ff ff 2f 64 65 76 2f 76 66 69 6f 2f 31 30 30 00'));
  });

  it('answers PF_DEV_INFO for PF 1 = 0000:70:00.0 with the 36 bytes of the spec (no section needed)', () => {
    const r = handleRequest(encodeDeviceRequest(V, MsgType.PF_DEV_INFO, 1), session(), ctx);
    expect(r).toEqual(hexBytes('24 00 08 1a 0b 00 00 00 01 00 00 00 00 00 00 70 34 78 78 78 00', 36));
  });

  it('encodes BAD "No section available" as the 29 bytes of the spec', () => {
    expect(encodeBad(V, BadText.NO_SECTION)).toEqual(hexBytes('1d 00 08 1a e7 03 00 00 4e 6f 20 73 65 63 74 69 6f 6e 20 61 76 61 69 6c 61 62 6c 65 00'));
  });

  it('gives every BAD text the length listed in protocol §10.0', () => {
    const lengths: Array<[string, number]> = [
      [BadText.VERSION, 61], [BadText.UNKNOWN_MESSAGE, 24], [BadText.INCONSISTENT_LENGTH, 28], [BadText.INVALID_INDEX, 22],
      [BadText.INVALID_DEVICE, 30], [BadText.SECTION_ALREADY, 34], [BadText.NO_SECTION, 29], [BadText.INTERNAL, 23],
      [BadText.MALLOC, 22], [BadText.SECTION_NOT_ALLOCATED, 30], [BadText.RELEASE_FAILED, 34], [BadText.PFS_INFO, 32],
      [BadText.UNKNOWN_INSTANCE_TYPE, 30],
    ];
    for (const [t, n] of lengths) expect(encodeBad(V, t).readUInt16LE(0), t).toBe(n);
    const nameLens = [35, 36, 37, 35, 39]; // DC, SYM, ASYM, CY, Decomp
    INSTANCE_TYPES.forEach((t, i) => {
      expect(encodeBad(V, t.nameText).length).toBe(nameLens[i]);
      expect(encodeBad(V, t.infoText).length).toBe(nameLens[i]);
    });
  });
});
