// Issue 18, item 9: the admin socket cannot grow the daemon, starve libqat, or lock root out.

import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Proc } from '../helpers/lifecycle-daemon.js';
import { useSimDaemons, rssMb, sleep } from '../helpers/sim-daemons.js';
import { AdminClient } from '../../src/admin/client.js';
import { QatClient } from '../../src/client/qatclient.js';
import { adminRaw } from './admin-harness.js';
import type { StatusView } from '../../src/admin/views.js';

let others: ChildProcess[] = [];
// other users must reach the sockets: a traversable directory, sockets in group 65534
const env = useSimDaemons('default', 'qat-rel-admin-', (sim) => fs.chmodSync(sim.dir, 0o755));
let socket: string;
let adminSocket: string;
beforeEach(() => { ({ socket, adminSocket } = env); });
afterEach(() => {
  for (const p of others) if (p.exitCode === null) p.kill('SIGKILL');
  others = [];
});

const start = (args: string[] = []): Promise<Proc> => env.start(['--socket-group', '65534', ...args]);

/**
 * Run a self-contained script (nothing from the checkout, cwd /) as another user: tests that do so must not depend
 * on where the checkout lives. Resolves with its stdout once it prints a line (or exits).
 */
function runAs(uid: number, script: string, args: string[]): { proc: ChildProcess; firstLine: Promise<string> } {
  const proc = spawn(process.execPath, ['-e', script, ...args], { uid, gid: 65534, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
  others.push(proc);
  const firstLine = new Promise<string>((resolve) => {
    let b = '';
    proc.stdout!.on('data', (c) => { b += c; if (b.includes('\n')) resolve(b.split('\n')[0]); });
    proc.on('exit', () => resolve(b));
  });
  return { proc, firstLine };
}

/** Pipeline `op` requests on one admin connection, never reading the answers, until killed. */
const NON_READER = `
  const net = require('node:net');
  const s = net.connect(process.argv[1], () => {
    s.pause();
    let id = 0;
    const line = () => JSON.stringify({ v: 1, id: ++id, op: process.argv[2] }) + '\\n';
    const pump = () => { while (s.writableLength < 1 << 20) s.write(line()); setTimeout(pump, 5); };
    pump();
    process.stdout.write('flooding\\n');
  });
  s.on('error', () => process.exit(0));`;

/** Hold N admin connections open without a request; prints how many are still open after a while. */
const IDLE_HOLDER = `
  const net = require('node:net');
  const n = Number(process.argv[2]);
  const socks = [];
  (async () => {
    for (let i = 0; i < n; i++) {
      const s = net.connect(process.argv[1]);
      s.on('error', () => {});
      s.resume();
      await new Promise((r) => { s.once('connect', r); s.once('close', r); });
      socks.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    process.stdout.write(socks.filter((s) => !s.destroyed && !s.readableEnded).length + '\\n');
    setInterval(() => {}, 1000);
  })();`;

async function handshakeMs(): Promise<number> {
  const t0 = performance.now();
  const c = await QatClient.connect(socket);
  await c.handshake('probe');
  await c.close();
  return performance.now() - t0;
}

describe('item 9: the admin socket', () => {
  it('an unprivileged reader pipelining `sections` without reading is held: RSS stays flat, root and libqat are answered at once', async () => {
    const d = await start();
    await handshakeMs();
    const before = rssMb(d.pid);
    const flood = runAs(65534, NON_READER, [adminSocket, 'sections']);
    expect(await flood.firstLine).toBe('flooding');
    await sleep(2000);
    const admin = await AdminClient.connect(adminSocket);
    const t0 = performance.now();
    const st = await admin.request<StatusView>('status');
    const statusMs = performance.now() - t0;
    const hs: number[] = [];
    for (let i = 0; i < 10; i++) hs.push(await handshakeMs());
    const after = rssMb(d.pid);
    admin.close();
    expect(st.sections.total).toBe(16);
    expect(statusMs).toBeLessThan(2000);
    expect(Math.max(...hs)).toBeLessThan(2000);
    expect(after - before, `RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MB`).toBeLessThan(64);
  });

  it('a reader that does read, pipelining `allocations` and `metrics`, gets answers paced so libqat handshakes keep flowing', async () => {
    await start();
    const reader = `
      const net = require('node:net');
      const s = net.connect(process.argv[1], () => {
        let id = 0, answered = 0;
        const send = () => s.write(JSON.stringify({ v: 1, id: ++id, op: id % 2 ? 'allocations' : 'metrics' }) + '\\n');
        for (let i = 0; i < 16; i++) send();
        s.on('data', (b) => { for (const c of b) if (c === 10) { answered++; send(); } });
        setInterval(() => process.stdout.write(answered + '\\n'), 1500);
      });`;
    const r = runAs(65534, reader, [adminSocket]);
    const answered = Number(await r.firstLine);
    expect(answered).toBeGreaterThan(10); // the reader is served...
    const hs: number[] = [];
    for (let i = 0; i < 20; i++) hs.push(await handshakeMs());
    // ...and libqat's handshakes are not starved behind it (each waits at most behind one admin answer)
    expect(Math.max(...hs)).toBeLessThan(1500);
  });

  it('idle admin connections from other users never lock root out: 8 per user, 48 for all of them, the rest for root', async () => {
    const d = await start();
    // 70 idle connections from one user: it keeps 8 (its oldest are closed for its newest)
    const one = runAs(65534, IDLE_HOLDER, [adminSocket, '70']);
    expect(Number(await one.firstLine)).toBe(8);
    // seven more users with 10 each: together they never hold more than 48
    const more = [1, 2, 3, 4, 5, 6, 7].map((k) => runAs(60000 + k, IDLE_HOLDER, [adminSocket, '10']));
    const kept = await Promise.all(more.map((m) => m.firstLine.then(Number)));
    await sleep(200);
    const admin = await AdminClient.connect(adminSocket);
    const st = await admin.request<StatusView>('status');
    const metrics = await admin.request<{ text: string }>('metrics');
    admin.close();
    expect(st.version).toBeDefined();
    expect(kept.every((k) => k <= 8)).toBe(true);
    const evicted = Number(/qatmgr_admin_connections_closed_total\{reason="evicted"\} (\d+)/.exec(metrics.text)?.[1]);
    expect(evicted).toBeGreaterThanOrEqual(70 - 8 + 7 * 10 - (48 - 8));
    // sixteen root connections at once still get in and are answered
    const roots = await Promise.all(Array.from({ length: 16 }, () => AdminClient.connect(adminSocket)));
    const answers = await Promise.all(roots.map((c) => c.request<StatusView>('status')));
    expect(answers.every((a) => a.sections.total === 16)).toBe(true);
    for (const c of roots) c.close();
    expect(d.proc.exitCode).toBe(null);
  });

  it('an admin connection with no request for --admin-idle-timeout is told so and closed; a busy one stays', async () => {
    await start(['--admin-idle-timeout', '1s']);
    const quiet = adminRaw(adminSocket, '', 2, 4000); // resolves at the close: no second line comes
    const busy = await AdminClient.connect(adminSocket);
    const t0 = Date.now();
    const timer = setInterval(() => void busy.request('status').catch(() => {}), 300);
    const q = await quiet;
    const quietMs = Date.now() - t0;
    await sleep(1000);
    clearInterval(timer);
    expect(q.closed).toBe(true);
    expect(JSON.parse(q.lines[0])).toMatchObject({ ok: false, error: { code: 'QATMGR_E_ADMIN_IDLE' } });
    expect(quietMs).toBeGreaterThanOrEqual(900);
    expect((await busy.request<StatusView>('status')).sections.total).toBe(16);
    busy.close();
  });
});
