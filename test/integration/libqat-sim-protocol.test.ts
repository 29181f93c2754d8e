// libqat-sim's icp_sal_userStart/Stop say to qatmgr what libqat says (protocol §11), seen through a recording proxy.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { buildLibqatSim, missingToolchain } from '../helpers/libqat-sim.js';
import { tmpDir } from '../helpers/sim.js';
import { QatClient } from '../../src/libqat/qat-client.js';
import { QatClient as ProtocolClient } from '../../src/client/qatclient.js';

const missing = missingToolchain();
if (missing) console.warn(`SKIPPING libqat-sim protocol tests: ${missing}`);

interface Seen { len: number; version: number; type: number; payload: Buffer }

/** Forwards bytes both ways between a client and the daemon, splitting the client's side into messages. */
function recordingProxy(target: string, at: string): Promise<{ seen: Seen[]; close: () => void }> {
  const seen: Seen[] = [];
  const server = net.createServer((c) => {
    const up = net.connect(target);
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8 && buf.length >= buf.readUInt16LE(0)) {
        const len = buf.readUInt16LE(0);
        seen.push({ len, version: buf.readUInt16LE(2), type: buf.readUInt16LE(4), payload: Buffer.from(buf.subarray(8, len)) });
        buf = buf.subarray(len);
      }
      up.write(d);
    });
    up.on('data', (d) => c.write(d));
    c.on('close', () => up.end());
    up.on('close', () => c.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  return new Promise((resolve) => server.listen(at, () => resolve({ seen, close: () => server.close() })));
}

describe.skipIf(missing !== undefined)('libqat-sim talks to qatmgr like libqat', () => {
  let lib = '';
  let daemon: RunningDaemon;

  beforeAll(async () => {
    lib = buildLibqatSim();
    daemon = await startDaemon('default');
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('sends SECTION_GET, NUM_DEVICES, per device DEVICE_ID/DEVICE_INFO/DEVICE_ID/VFIO_FILE and its instances, SECTION_PUT at stop, all at version 0x1A08', async () => {
    const at = path.join(tmpDir(), 'proxy.sock');
    const proxy = await recordingProxy(daemon.socket, at);
    try {
      const client = await QatClient.start({ lib, socket: at, name: 'SSL' });
      await client.stop();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      proxy.close();
    }
    const { seen } = proxy;
    expect(seen.every((m) => m.version === 0x1a08)).toBe(true);
    expect(seen.map((m) => m.type)).toEqual([
      1, 3,
      5, 4, 5, 9, 7, 8, 7, 8, // device 0 (sym;asym VF): 2 CY instances
      5, 4, 5, 9, 7, 8, 7, 8, 7, 8, 7, 8, // device 1 (dc VF): 4 DC instances
      2,
    ]);
    expect(seen[0]).toMatchObject({ len: 12, payload: Buffer.from('SSL\0') });
    expect(seen.at(-1)).toMatchObject({ len: 18, payload: Buffer.from('SSL_INT_0\0') });
    const lens = Object.fromEntries(seen.map((m) => [m.type, m.len]));
    expect(lens).toMatchObject({ 3: 8, 4: 10, 5: 10, 7: 16, 8: 16, 9: 10 });
    // INSTANCE_* carry (type, num, device): CY (6) on device 0, DC (1) on device 1
    const inst = seen.filter((m) => m.type === 7).map((m) => [m.payload.readUInt32LE(0), m.payload.readUInt16LE(4), m.payload.readUInt16LE(6)]);
    expect(inst).toEqual([[6, 0, 0], [6, 1, 0], [1, 0, 1], [1, 1, 1], [1, 2, 1], [1, 3, 1]]);
  });

  it('when every section is taken, icp_sal_userStart fails with CPA_STATUS_FAIL, as libqat does', async () => {
    const d = await startDaemon('4xxx:1x1');
    try {
      const first = await QatClient.start({ lib, socket: d.socket });
      await first.stop();
      // hold the only section with a raw connection, then try again
      const holder = await ProtocolClient.connect(d.socket);
      expect(await holder.sectionGet('holder')).toBe('SSL_INT_0');
      await expect(QatClient.start({ lib, socket: d.socket })).rejects.toMatchObject({ code: 'QATMGR_E_LIBQAT_START', details: { status: -1 } });
      await holder.close();
    } finally {
      await d.stop();
    }
  });
});
