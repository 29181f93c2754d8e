import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdSection, spawnDaemon, waitConnectable, type Holder, type Proc } from '../helpers/lifecycle-daemon.js';
import { makeSim, type SimFixture } from '../helpers/lifecycle-sim.js';

let sim: SimFixture;
let daemons: Proc[] = [];
let holders: Holder[] = [];
let socket: string;

beforeEach(() => {
  sim = makeSim('default', 'qat-restart-');
  socket = path.join(sim.roots.run, 'qatmgr.sock');
});
afterEach(async () => {
  for (const h of holders) await h.kill();
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) { d.proc.kill('SIGKILL'); await d.exited; }
  holders = [];
  daemons = [];
  sim.cleanup();
});

async function start(): Promise<Proc> {
  const d = spawnDaemon(sim.args);
  daemons.push(d);
  await d.waitLog((l) => l.event === 'ready');
  return d;
}

describe('restart after SIGKILL', () => {
  it('never hands a new client a VF still held by a living old client, and hands it out again once that client exits', async () => {
    const first = await start();
    for (let i = 0; i < 3; i++) holders.push(await holdSection(socket));
    expect(holders.map((h) => h.section)).toEqual(['SSL_INT_0', 'SSL_INT_1', 'SSL_INT_2']);

    first.proc.kill('SIGKILL');
    await first.exited;
    const t0 = performance.now();
    const second = spawnDaemon(sim.args);
    daemons.push(second);
    await waitConnectable(socket);
    const servingMs = performance.now() - t0;
    const ready = await second.waitLog((l) => l.event === 'ready');
    const adopted = second.logs.filter((l) => l.event === 'adopt');
    expect(adopted.map((l) => [l.section, l.pid])).toEqual(holders.map((h) => [h.section, h.pid]));
    expect(ready.msg).toContain('3 held');
    expect(ready.msg).toContain('3 adopted');
    // qatctl sees them as adopted (admin API)
    const q = spawnSync(process.execPath, [path.resolve('dist/daemon/qatctl.js'), 'allocations', '--json', '--run-dir', sim.roots.run], { encoding: 'utf8' });
    expect(q.status, q.stderr).toBe(0);
    const rows = (JSON.parse(q.stdout) as { allocations: Array<{ section: string; pid: number; adopted: boolean }> }).allocations;
    expect(rows.map((r) => [r.section, r.pid, r.adopted])).toEqual(holders.map((h) => [h.section, h.pid, true]));
    // numbers for the report (not asserted: timing belongs in bench/)
    console.log(`restart: SIGKILL -> serving again in ${servingMs.toFixed(0)} ms (daemon build ${String(ready.ms)} ms), ${adopted.length} allocations adopted`);

    const held = new Set(holders.flatMap((h) => h.vfs));
    const newcomer = await holdSection(socket);
    holders.push(newcomer);
    expect(newcomer.section).toBe('SSL_INT_3');
    for (const vf of newcomer.vfs) expect(held.has(vf)).toBe(false);

    // the owner of SSL_INT_1 exits: its section is free again and is the first-fit choice
    const leaving = holders[1];
    await leaving.kill();
    await second.waitLog((l) => l.event === 'release' && l.reason === 'owner-exited' && l.section === 'SSL_INT_1');
    const next = await holdSection(socket);
    holders.push(next);
    expect(next.section).toBe('SSL_INT_1');
    expect(next.vfs).toEqual(leaving.vfs);
  });

  it('frees the sections of clients that died while the daemon was down', async () => {
    const first = await start();
    const a = await holdSection(socket);
    const b = await holdSection(socket);
    holders.push(a, b);
    first.proc.kill('SIGKILL');
    await first.exited;
    await a.kill();
    const second = await start();
    expect(second.logs.filter((l) => l.event === 'adopt').map((l) => l.pid)).toEqual([b.pid]);
    expect(second.logs.find((l) => l.event === 'ledger_gone')).toMatchObject({ section: a.section, pid: a.pid, reason: 'process exited' });
    const c = await holdSection(socket);
    holders.push(c);
    expect(c.section).toBe(a.section);
  });

  it('starts with a ledger whose only entry is bad, reports the entry and keeps the file aside', async () => {
    fs.mkdirSync(sim.roots.run, { recursive: true });
    const ledger = path.join(sim.roots.run, 'qatmgr.ledger');
    fs.writeFileSync(ledger, '{"format": "qatmgr-ledger/1", "entries": [{"pid": "x"}]}');
    const d = await start();
    // error/warn-level lines come on stderr, which may be read after stdout's 'ready'
    const line = await d.waitLog((l) => l.event === 'ledger_line_skipped');
    expect(line).toMatchObject({ line: 1, reason: 'entries[0].section is not a name' });
    expect(fs.readdirSync(sim.roots.run).some((f) => f.startsWith('qatmgr.ledger.damaged-'))).toBe(true);
    const c = await holdSection(socket);
    holders.push(c);
    expect(c.section).toBe('SSL_INT_0');
  });
});
