// 100,000+ random and mutated frames over the socket: the daemon stays up, answers each, and leaks no section.

import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/rawconn.js';
import { encodeNameRequest, encodeBareRequest, encodeDeviceRequest, encodeInstanceRequest } from '../../src/protocol/encode.js';
import { QatClient } from '../../src/client/qatclient.js';

const V = 0x1a08;
let d: RunningDaemon;
beforeAll(async () => { d = await startDaemon('4xxx:2x16'); });
afterAll(async () => { await d.stop(); });

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  encodeNameRequest(V, 1, 'SSL'), encodeNameRequest(V, 2, 'SSL_INT_0'), encodeBareRequest(V, 3), encodeDeviceRequest(V, 4, 0),
  encodeDeviceRequest(V, 5, 1), encodeInstanceRequest(V, 7, 6, 1, 0), encodeInstanceRequest(V, 8, 1, 2, 1), encodeDeviceRequest(V, 9, 0),
  encodeBareRequest(V, 10), encodeDeviceRequest(V, 11, 1),
];

/** A frame with a valid length field (8..264) and random or mutated content. */
function frame(r: () => number): Buffer {
  const mode = r();
  let b: Buffer;
  if (mode < 0.4) {
    const len = 8 + Math.floor(r() * 257);
    b = Buffer.alloc(len);
    for (let i = 2; i < len; i++) b[i] = Math.floor(r() * 256);
    if (r() < 0.7) b.writeUInt16LE(V, 2);
    if (r() < 0.5) b.writeUInt16LE(Math.floor(r() * 13), 4);
  } else {
    b = Buffer.from(VALID[Math.floor(r() * VALID.length)]);
    const flips = 1 + Math.floor(r() * 3);
    for (let k = 0; k < flips; k++) {
      const at = 2 + Math.floor(r() * (b.length - 2));
      b[at] ^= 1 << Math.floor(r() * 8);
    }
    if (r() < 0.2) {
      // grow or shrink, keeping the length field truthful
      const len = Math.min(264, Math.max(8, b.length + Math.floor(r() * 9) - 4));
      const nb = Buffer.alloc(len);
      b.copy(nb, 0, 0, Math.min(len, b.length));
      b = nb;
    }
  }
  b.writeUInt16LE(b.length, 0);
  return b;
}

describe('fuzz', () => {
  it('answers 100,000 random and mutated frames one reply each, then serves a correct handshake with every section free', async () => {
    const r = rng(0xc0ffee);
    const CONNS = 20;
    const PER_CONN = 5000;
    let answered = 0;
    await Promise.all(Array.from({ length: CONNS }, async () => {
      const c = await RawConn.open(d.socket);
      for (let sent = 0; sent < PER_CONN;) {
        const batch: Buffer[] = [];
        for (let k = 0; k < 250 && sent < PER_CONN; k++, sent++) batch.push(frame(r));
        c.write(Buffer.concat(batch));
        await c.waitReplies(sent, 20_000);
      }
      expect(c.closed).toBe(false);
      expect(c.replies).toHaveLength(PER_CONN);
      // every reply is well formed: a known type, our version, a length within the response struct
      for (const rep of c.replies) {
        expect(rep.readUInt16LE(2)).toBe(V);
        expect(rep.length).toBeLessThanOrEqual(268);
      }
      answered += c.replies.length;
      c.end();
    }));
    expect(answered).toBe(CONNS * PER_CONN);

    // frames with impossible lengths close their connection and nothing else
    const r2 = rng(7);
    for (let i = 0; i < 200; i++) {
      const c = await RawConn.open(d.socket);
      const b = Buffer.alloc(2 + Math.floor(r2() * 40));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(r2() * 256);
      b.writeUInt16LE(r2() < 0.5 ? Math.floor(r2() * 8) : 265 + Math.floor(r2() * 65000), 0);
      c.write(b);
      await c.closedAt;
    }

    await new Promise((res) => setTimeout(res, 100));
    expect(d.proc.exitCode).toBeNull();
    const q = await QatClient.connect(d.socket);
    const hs = await q.handshake('SSL');
    expect(hs.section).toBe('SSL_INT_0');
    expect(hs.devices).toHaveLength(2);
    // no section stayed owned: all 16 can be held at once
    const clients = await Promise.all(Array.from({ length: 15 }, () => QatClient.connect(d.socket)));
    const names = await Promise.all(clients.map((c) => c.sectionGet('x')));
    expect(new Set([hs.section, ...names]).size).toBe(16);
    await Promise.all([q, ...clients].map((c) => c.close()));
  }, 120_000);
});
