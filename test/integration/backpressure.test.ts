// Replies under back-pressure: a client that stops reading still gets every reply, complete and in order.

import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/rawconn.js';
import { encodeNameRequest, encodeDeviceRequest, encodeBareRequest } from '../../src/protocol/encode.js';

const V = 0x1a08;
let d: RunningDaemon;
beforeAll(async () => { d = await startDaemon('4xxx:2x16'); });
afterAll(async () => { await d.stop(); });

describe('back-pressure', () => {
  it('answers 6000 pipelined DEVICE_INFO requests in order while the client does not read for a while', async () => {
    const c = await RawConn.open(d.socket);
    c.write(encodeNameRequest(V, 1, 'bp'));
    await c.waitReplies(1);
    c.sock.pause();
    const n = 6000; // 6000 x 128-byte replies: far more than a Unix socket buffer holds
    const reqs: Buffer[] = [];
    for (let i = 0; i < n; i++) reqs.push(encodeDeviceRequest(V, 4, i % 2));
    c.write(Buffer.concat(reqs));
    await new Promise((r) => setTimeout(r, 400));
    c.sock.resume();
    const replies = await c.waitReplies(n + 1, 15000);
    expect(replies.length).toBe(n + 1);
    const devNums = replies.slice(1).map((r) => [r.length, r.readUInt16LE(4), r.readUInt16LE(8)]);
    expect(devNums.every(([len, type, dev], i) => len === 128 && type === 4 && dev === i % 2)).toBe(true);
    c.write(encodeBareRequest(V, 10));
    const more = await c.waitReplies(n + 2);
    expect(more[n + 1].readUInt16LE(4)).toBe(10);
    c.end();
  });
});
