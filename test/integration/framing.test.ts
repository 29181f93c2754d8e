// Stream framing, malformed frames, timeouts and the connection cap, over a real socket.

import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/rawconn.js';
import { encodeNameRequest, encodeBareRequest, encodeDeviceRequest } from '../../src/protocol/encode.js';
import { readCString } from '../../src/protocol/decode.js';
import { QatClient } from '../../src/client/qatclient.js';

const V = 0x1a08;
let d: RunningDaemon;
beforeAll(async () => { d = await startDaemon('4xxx:2x16', ['--first-request-timeout', '300ms', '--max-connections', '8']); });
afterAll(async () => { await d.stop(); });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('framing', () => {
  it('reassembles a request written one byte at a time', async () => {
    const c = await RawConn.open(d.socket);
    const req = encodeNameRequest(V, 1, 'SSL');
    for (const b of req) { c.write(Buffer.from([b])); await sleep(2); }
    const [r] = await c.waitReplies(1);
    expect(readCString(r, 8)).toMatch(/^SSL_INT_\d+$/);
    c.end();
  });

  it('answers several requests sent in one write, in order, one reply each', async () => {
    const c = await RawConn.open(d.socket);
    c.write(Buffer.concat([encodeNameRequest(V, 1, 'SSL'), encodeBareRequest(V, 3), encodeDeviceRequest(V, 5, 1), encodeBareRequest(V, 10), encodeDeviceRequest(V, 5, 9)]));
    const r = await c.waitReplies(5);
    expect(r.map((x) => x.readUInt16LE(4))).toEqual([1, 3, 5, 10, 999]);
    expect(r[1].readUInt16LE(8)).toBe(2);
    expect(readCString(r[2], 8)).toMatch(/^0000:70:0[0-2]\.\d$/);
    expect(readCString(r[4], 8)).toBe('Invalid device number');
    c.end();
  });

  it.each([[0], [7], [265], [0xffff]])('closes the connection on a frame length of %i without answering', async (len) => {
    const c = await RawConn.open(d.socket);
    const b = Buffer.alloc(16);
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(V, 2);
    c.write(b);
    await c.closedAt;
    expect(c.replies).toHaveLength(0);
  });

  it('releases the section of a connection closed for a bad frame', async () => {
    const c = await RawConn.open(d.socket);
    c.write(encodeNameRequest(V, 1, 'SSL'));
    const [r] = await c.waitReplies(1);
    const name = readCString(r, 8);
    c.write(Buffer.from([3, 0]));
    await c.closedAt;
    // first fit: the freed section is the lowest free one again
    const q = await QatClient.connect(d.socket);
    expect(await q.sectionGet('SSL')).toBe(name);
    await q.close();
  });

  it('closes a connection that sends no complete request within the first-request timeout', async () => {
    const c = await RawConn.open(d.socket);
    c.write(Buffer.from([12])); // one byte, then silence (upstream pinned a thread forever: quirk 9)
    const t0 = Date.now();
    await c.closedAt;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.replies).toHaveLength(0);
  });

  it('keeps a connection that has made its first request open indefinitely (idle timeout off by default)', async () => {
    const c = await QatClient.connect(d.socket);
    await c.numPfs();
    await sleep(500);
    expect(await c.numPfs()).toBe(2);
    await c.close();
  });

  it('at --max-connections closes the connection idle longest (holding no section) for a newcomer', async () => {
    const conns: QatClient[] = [];
    for (let i = 0; i < 8; i++) {
      conns.push(await QatClient.connect(d.socket));
      await conns[i].numPfs();
    }
    for (const c of conns.slice(1)) await c.numPfs(); // conns[0] is now the one idle longest
    const extra = await QatClient.connect(d.socket);
    expect(await extra.numPfs()).toBe(2);
    await expect(conns[0].numPfs()).rejects.toThrow();
    expect(await conns[1].numPfs()).toBe(2);
    await Promise.all([...conns.slice(1), extra].map((c) => c.close()));
  });

  it('at --max-connections refuses a newcomer when every open connection holds a section', async () => {
    const holders = await Promise.all(Array.from({ length: 8 }, () => QatClient.connect(d.socket)));
    for (const h of holders) await h.sectionGet('SSL');
    const extra = await RawConn.open(d.socket);
    await extra.closedAt;
    expect(await holders[0].numDevices()).toBe(2);
    await Promise.all(holders.map((c) => c.close()));
  });
});

describe('idle timeout', () => {
  it('closes an idle connection after --idle-timeout and frees its section', async () => {
    const e = await startDaemon('4xxx:1x2', ['--idle-timeout', '300ms']);
    try {
      const c = await RawConn.open(e.socket);
      c.write(encodeNameRequest(V, 1, 'SSL'));
      await c.waitReplies(1);
      await c.closedAt;
      const q = await QatClient.connect(e.socket);
      expect(await q.sectionGet('SSL')).toBe('SSL_INT_0');
      await q.close();
    } finally {
      await e.stop();
    }
  });
});
