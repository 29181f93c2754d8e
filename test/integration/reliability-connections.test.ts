// Issue 18, items 4, 8, 10 and 11: what clients can do to the client socket (and the metrics port) is bounded and counted.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SimFixture } from '../helpers/lifecycle-sim.js';
import { useSimDaemons, rssMb, sleep } from '../helpers/sim-daemons.js';
import { connectMany, RawConn } from '../helpers/rawconn.js';
import { QatClient } from '../../src/client/qatclient.js';
import { encodeBareRequest, encodeDeviceRequest, encodeNameRequest } from '../../src/protocol/encode.js';

const V = 0x1a08;
const NUM_PF_DEVS = encodeBareRequest(V, 10);
const PF_DEV_INFO = encodeDeviceRequest(V, 11, 0);
const env = useSimDaemons('default', 'qat-rel-conn-');
const start = env.start;
const status = env.status;
let sim: SimFixture;
let socket: string;
beforeEach(() => { ({ sim, socket } = env); });

async function handshakeOk(): Promise<void> {
  const c = await QatClient.connect(socket);
  const r = await c.handshake('probe');
  expect(r.section).toMatch(/^SSL_INT_/);
  await c.close();
}

describe('item 4: nothing on the request path needs a new descriptor', () => {
  it('ulimit -n 256 and 300 silent connections: the first-request timeouts are logged (throttled) and the daemon keeps serving', async () => {
    const d = await start([], { nofile: 256 });
    const silent = await connectMany(socket, 300);
    try {
      await d.waitLog((l) => l.event === 'first_request_timeout');
      await sleep(1500);
      expect(d.proc.exitCode).toBe(null);
      expect(d.err.join('\n')).not.toContain('Cannot find module');
      const timeouts = d.logs.filter((l) => l.event === 'first_request_timeout');
      expect(timeouts.length).toBeLessThanOrEqual(4);
      await handshakeOk();
      const st = await status();
      expect(st.connections.evicted + st.connections.rejected).toBeGreaterThan(0);
    } finally {
      silent.close();
    }
  });

  it('a TCP flood of the metrics port at the fd limit is cut at 16 connections, counted, and scrapes work after it', async () => {
    const d = await start(['--metrics-listen', '127.0.0.1:0'], { nofile: 256 });
    const port = Number(/:(\d+)$/.exec((await status()).metricsListen ?? '')?.[1]);
    const flood: net.Socket[] = [];
    await Promise.all(Array.from({ length: 300 }, () => new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => resolve());
      s.once('connect', () => resolve());
      flood.push(s);
    })));
    await d.waitLog((l) => l.event === 'metrics_dropped');
    expect(d.logs.filter((l) => l.event === 'metrics_dropped').length).toBeLessThanOrEqual(3);
    for (const s of flood) s.destroy();
    await sleep(200);
    const text = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.0\r\n\r\n'));
      let b = '';
      s.on('data', (c) => { b += c; });
      s.on('end', () => resolve(b));
      s.on('error', reject);
    });
    expect(text).toContain('qatmgr_connections_accepted_total');
    expect(d.proc.exitCode).toBe(null);
  });
});

describe('item 8: a client that never reads its replies cannot grow the daemon', () => {
  it('pipelining PF_DEV_INFO without reading for 3 s: the connection is held, RSS stays flat, others are served', async () => {
    const d = await start();
    await handshakeOk();
    const before = rssMb(d.pid);
    const hog = net.connect(socket);
    await new Promise((r) => hog.once('connect', r));
    hog.pause();
    const burst = Buffer.concat(Array.from({ length: 512 }, () => PF_DEV_INFO));
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      if (hog.writableLength < 1 << 20) hog.write(burst);
      await sleep(5);
    }
    const st = await status();
    expect(st.connections.held).toBeGreaterThanOrEqual(1);
    await handshakeOk();
    const after = rssMb(d.pid);
    expect(after - before, `RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MB`).toBeLessThan(48);
    hog.destroy();
    await sleep(300);
    expect(rssMb(d.pid) - before).toBeLessThan(48);
  });

  it('a client that stops reading for a while still gets every reply, complete and in order, once it reads again', async () => {
    await start();
    const c = await RawConn.open(socket);
    c.sock.pause();
    const n = 20_000; // 2.5 MB of DEVICE_INFO-sized replies: the daemon holds the connection rather than buffering them
    c.write(Buffer.concat([encodeNameRequest(V, 1, 'bp'), ...Array.from({ length: n }, (_, i) => encodeDeviceRequest(V, 4, i % 2))]));
    await sleep(500);
    c.sock.resume();
    const replies = await c.waitReplies(n + 1, 20_000);
    expect(replies.length).toBe(n + 1);
    expect(replies.slice(1).every((r, i) => r.length === 128 && r.readUInt16LE(8) === i % 2)).toBe(true);
    expect((await status()).connections.held).toBeGreaterThanOrEqual(1);
    c.end();
  });
});

describe('item 10: one process cannot lock everyone out', () => {
  it('1024 connections that each sent one valid frame hold every slot: 5 new handshakes all succeed (idle ones are closed first)', async () => {
    await start();
    const idle = await connectMany(socket, 1024, NUM_PF_DEVS);
    try {
      await sleep(300);
      // five libqat processes arrive and keep their sections: each one takes the slot of an idle connection
      const newcomers: QatClient[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await QatClient.connect(socket);
        expect((await c.handshake(`late${i}`)).section).toBe(`SSL_INT_${i}`);
        newcomers.push(c);
      }
      const st = await status();
      expect(st.connections).toMatchObject({ cap: 1024, evicted: 5, rejected: 0 });
      expect(st.connections.open).toBeLessThanOrEqual(1024);
      await sleep(100);
      expect(idle.closed()).toBe(5);
      // the ones closed were the first to connect (idle longest)
      expect(idle.socks.slice(0, 5).every((s) => s.destroyed)).toBe(true);
      for (const c of newcomers) await c.close();
    } finally {
      idle.close();
    }
  });

  it('another user is held to --max-connections-per-uid: its oldest idle connections are closed, root\'s are not', async () => {
    fs.chmodSync(sim.dir, 0o755);
    await start(['--socket-group', '65534', '--max-connections-per-uid', '8']);
    const mine = await connectMany(socket, 4, NUM_PF_DEVS);
    // a self-contained script (nothing from the checkout) running as nobody: 12 connections, one frame each
    const script = `
      const net = require('node:net');
      const frame = Buffer.from(${JSON.stringify([...NUM_PF_DEVS])});
      const socks = [];
      (async () => {
        for (let i = 0; i < 12; i++) {
          const s = net.connect(process.argv[1]);
          s.on('error', () => {});
          await new Promise((r) => s.once('connect', r));
          s.write(frame);
          await new Promise((r) => s.once('data', r));
          socks.push(s);
        }
        await new Promise((r) => setTimeout(r, 300));
        process.stdout.write(JSON.stringify(socks.map((s) => !s.destroyed && !s.readableEnded)));
        process.exit(0);
      })();`;
    const out = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, ['-e', script, socket], { uid: 65534, gid: 65534, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
      let b = '';
      p.stdout!.on('data', (c) => { b += c; });
      p.on('exit', () => resolve(b));
    });
    const open = JSON.parse(out) as boolean[];
    expect(open).toEqual([false, false, false, false, true, true, true, true, true, true, true, true]);
    expect(mine.closed()).toBe(0);
    expect((await status()).connections).toMatchObject({ perUid: 8, evicted: 4 });
    mine.close();
  });

  it('--idle-timeout counts from the last complete request: a byte every 150 ms does not keep a connection', async () => {
    await start(['--idle-timeout', '600ms']);
    const dribble = await RawConn.open(socket);
    const busy = await QatClient.connect(socket);
    dribble.write(NUM_PF_DEVS);
    await dribble.waitReplies(1);
    const partial = encodeNameRequest(V, 1, 'x'.repeat(200));
    let i = 0;
    const timer = setInterval(() => { if (!dribble.closed && i < partial.length) dribble.write(partial.subarray(i, ++i)); void busy.numPfs().catch(() => {}); }, 150);
    await Promise.race([dribble.closedAt, sleep(15_000)]);
    clearInterval(timer);
    // closed while its bytes were still coming (the whole frame would take 30 s at this pace)
    expect(dribble.closed).toBe(true);
    expect(i).toBeLessThan(partial.length);
    expect(await busy.numPfs()).toBe(2);
    await busy.close();
  });
});

describe('item 11: clients cannot flood the log', () => {
  it('2000 malformed frames make a few protocol_error lines, each saying how many were held back', async () => {
    const d = await start();
    const bad = Buffer.from([0xff, 0xff, 0, 0]);
    const floods = await connectMany(socket, 2000, bad);
    // the daemon closes each one on its bad frame
    for (let i = 0; i < 100 && floods.closed() < 2000; i++) await sleep(50);
    expect(floods.closed()).toBe(2000);
    // a second later one more: its line reports what the last window held back
    await sleep(1100);
    await RawConn.open(socket).then((c) => { c.write(bad); return c.closedAt; });
    await sleep(100);
    const lines = d.logs.filter((l) => l.event === 'protocol_error');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(5);
    // every bad frame is accounted for: logged, or counted in the next line's `suppressed` (unless its connection
    // was closed at the cap, before its frame was read, to make room for a newer one)
    const { evicted } = (await status()).connections;
    expect(lines.length + lines.reduce((n, l) => n + Number(l.suppressed), 0)).toBe(2001 - evicted);
    expect(String(lines.at(-1)!.msg)).toMatch(/\(\d+ more like it in the last second not logged\)/);
  });

  it('connections refused at the cap make a few lines, with the count held back', async () => {
    const d = await start(['--max-connections', '4']);
    const holders = await Promise.all(Array.from({ length: 4 }, () => QatClient.connect(socket)));
    for (const h of holders) await h.sectionGet('SSL');
    const extra = await connectMany(socket, 500);
    await sleep(300);
    extra.close();
    const lines = d.logs.filter((l) => l.event === 'connection_rejected');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect((await status()).connections.rejected).toBe(500);
    for (const h of holders) await h.close();
  });
});
