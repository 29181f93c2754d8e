// The koffi bridge driving libqat-sim, whose icp_sal_userStart talks to our real daemon on the default simulator.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { buildLibqatSim, missingToolchain } from '../helpers/libqat-sim.js';
import { tmpDir } from '../helpers/sim.js';
import { QatClient as ProtocolClient } from '../../src/client/qatclient.js';
import { QatClient } from '../../src/libqat/qat-client.js';

const missing = missingToolchain();
if (missing) console.warn(`SKIPPING libqat bridge tests: ${missing}`);

const bdf16 = (id: string): number => {
  const m = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(id)!;
  return (parseInt(m[1], 16) << 8) | (parseInt(m[2], 16) << 3) | Number(m[3]);
};

async function sectionNextClientGets(socket: string): Promise<string> {
  const c = await ProtocolClient.connect(socket);
  try {
    const section = await c.sectionGet('probe');
    await c.sectionPut(section); // released before we return: no race with the daemon noticing EOF
    return section;
  } finally {
    await c.close();
  }
}

describe.skipIf(missing !== undefined)('libqat bridge against libqat-sim and the daemon', () => {
  let lib = '';
  let daemon: RunningDaemon;
  let client: QatClient | undefined;

  beforeAll(async () => {
    lib = buildLibqatSim();
    daemon = await startDaemon('default');
  });
  afterAll(async () => {
    await client?.stop();
    await daemon?.stop();
  });

  // libqat state is per process: this runs before any other start in this file holds it.
  it('without a daemon icp_sal_userStart fails and the error says to check qatmgr and its socket', async () => {
    const socket = path.join(tmpDir(), 'nobody-here.sock');
    await expect(QatClient.start({ lib, socket })).rejects.toMatchObject({
      code: 'QATMGR_E_LIBQAT_START',
      message: expect.stringMatching(/icp_sal_userStart\("SSL"\) returned CPA_STATUS_FAIL .*qatmgr running/),
    });
  });

  it('starts as a client of the daemon: SSL_INT_0 is taken while started and free again after stop', async () => {
    const c = await QatClient.start({ lib, socket: daemon.socket });
    try {
      expect(await sectionNextClientGets(daemon.socket)).toBe('SSL_INT_1');
    } finally {
      await c.stop();
    }
    expect(await sectionNextClientGets(daemon.socket)).toBe('SSL_INT_0');
  });

  it('enumerates exactly the instances the daemon granted for the section (names, devices, banks, cores)', async () => {
    // What the daemon hands SSL_INT_0, read over the wire; then give it back so the bridge gets the same one.
    const raw = await ProtocolClient.connect(daemon.socket);
    const granted = await raw.handshake('SSL');
    await raw.sectionPut(granted.section);
    await raw.close();
    expect(granted.section).toBe('SSL_INT_0');
    const want = (type: 'dc' | 'cy') =>
      granted.devices.flatMap((d) =>
        d.instances.filter((i) => i.type === type).map((i) => ({ name: i.name, bus: bdf16(d.id), bank: i.info.first.bank, core: i.info.first.core, pkg: d.info.pkgId })),
      );
    client = await QatClient.start({ lib, socket: daemon.socket });
    const have = (list: QatClient["dc"]) => list.map((i) => ({ name: i.name, bus: i.busAddress, bank: i.executionEngineId, core: i.cores[0], pkg: i.packageId }));
    expect(client.dc).toHaveLength(4);
    expect(client.cy).toHaveLength(2);
    expect(have(client.dc)).toEqual(want('dc'));
    expect(have(client.cy)).toEqual(want('cy'));
    expect(client.dc.every((i) => i.polled)).toBe(true);
  });

  it('round-trips 0 B, 1 B, 64 KiB and 1 MiB of text and incompressible data through raw deflate', async () => {
    const dc = await client!.openDc(0);
    const text = (n: number) => Buffer.from('the quick brown fox jumps over the lazy QAT ring '.repeat(Math.ceil(n / 49) + 1)).subarray(0, n);
    const cases = [Buffer.alloc(0), Buffer.from([0x7f]), text(65536), text(1 << 20), crypto.randomBytes(65536), crypto.randomBytes(1 << 20)];
    for (const data of cases) {
      const z = await dc.compress(data);
      const back = await dc.decompress(z.data, data.length);
      expect(Buffer.compare(Buffer.from(back.data), data), `${data.length} bytes`).toBe(0);
    }
    // the stream is plain raw deflate: zlib reads it too; text shrinks, random data does not
    const zText = await dc.compress(text(65536));
    expect(zText.data.length).toBeLessThan(65536 / 4);
    expect(Buffer.compare(zlib.inflateRawSync(zText.data), text(65536))).toBe(0);
    expect(zText.checksum).toBe(zlib.crc32(text(65536))); // the session asks for CRC32 of the uncompressed data
    await dc.close();
  });

  it('a full request ring answers CPA_STATUS_RETRY after its 512 slots, and every request completes once polled', async () => {
    const dc = await client!.openDc(1);
    const r = await dc.fillRing(1024);
    expect(r).toEqual({ accepted: 512, sawRetry: true, completed: 512, succeeded: 512, acceptedAfterDrain: true });
    await dc.close();
  });

  it('hashes and encrypts like node:crypto on a CY instance', async () => {
    const data = crypto.randomBytes(4096);
    const h = await client!.openCy(0, 'sha256');
    expect(Buffer.from(await h.run(data)).toString('hex')).toBe(crypto.createHash('sha256').update(data).digest('hex'));
    const key = crypto.randomBytes(32);
    const iv = crypto.randomBytes(16);
    const e = await client!.openCy(1, 'aes-256-cbc', key);
    const want = crypto.createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false).update(data);
    expect(Buffer.compare(Buffer.from(await e.run(data, iv)), want)).toBe(0);
    await h.close();
    await e.close();
  });

  it('wrong parameters come back as the CPA status, and the process keeps working', async () => {
    await expect(client!.openDc(0, { level: 99 })).rejects.toMatchObject({ code: 'QATMGR_E_CPA', details: { call: 'cpaDcInitSession', status: -4 } });
    const dc = await client!.openDc(0);
    await expect(dc.decompress(Buffer.from('this is not deflate data at all'), 1000)).rejects.toMatchObject({ code: 'QATMGR_E_CPA', details: { status: -1 } });
    const big = await dc.compress(crypto.randomBytes(8192));
    await expect(dc.decompress(big.data, 100)).rejects.toMatchObject({ details: { dcStatus: -11 } }); // CPA_DC_OVERFLOW
    const aes = await client!.openCy(0, 'aes-256-cbc');
    await expect(aes.run(Buffer.alloc(15), Buffer.alloc(16))).rejects.toMatchObject({ details: { call: 'cpaCySymPerformOp', status: -4 } });
    await expect(client!.openDc(7)).rejects.toMatchObject({ code: 'QATMGR_E_USAGE' });
    // one request's buffers must fit libusdm's 4 MiB blocks: said before anything is submitted
    await expect(dc.compress(Buffer.alloc(4 << 20))).rejects.toMatchObject({ code: 'QATMGR_E_USAGE', message: expect.stringMatching(/at most 4194304 bytes per block/) });
    const ok = await dc.compress(Buffer.from('still alive'));
    expect((await dc.decompress(ok.data, 11)).data).toEqual(new Uint8Array(Buffer.from('still alive')));
    await aes.close();
    await dc.close();
  });

});
