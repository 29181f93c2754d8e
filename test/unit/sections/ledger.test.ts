import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, LEDGER_FORMAT, parseLedger, readLedger, writeLedger, type LedgerData } from '../../../src/sections/ledger.js';
import { OwnerWatch } from '../../../src/sections/owner-watch.js';
import { processStartTime } from '../../../src/platform/processes.js';
import { silentLogger } from '../../../src/log.js';
import { allocatorFor, holder, makeSim, type SimFixture } from '../../helpers/lifecycle-sim.js';

let sim: SimFixture;
let file: string;
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

function waitExit(c: ChildProcess): Promise<void> {
  return new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
}

beforeEach(() => {
  sim = makeSim('4xxx:2x4');
  fs.mkdirSync(sim.roots.run, { recursive: true });
  file = path.join(sim.roots.run, 'qatmgr.ledger');
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  sim.cleanup();
});

describe('ledger file', () => {
  it('round-trips what was written', () => {
    const data: LedgerData = {
      format: LEDGER_FORMAT, bootId: 'b', daemonPid: 1, writtenAt: 'now',
      entries: [{ section: 'SSL_INT_0', vfs: ['0000:6b:00.1'], pid: 5, startTime: '77', uid: 1, gid: 2, processName: 'SSL', since: 3, adopted: false }],
    };
    writeLedger(file, data);
    expect(readLedger(file, 'b')).toEqual({ kind: 'ok', data, damage: [] });
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });

  it('calls text that is not JSON corrupt, without quoting any of it', () => {
    const r = parseLedger('root:x:0:0:root:/root:/bin/bash\n', undefined);
    expect(r).toMatchObject({ kind: 'corrupt', reason: expect.stringMatching(/^line 1 is not JSON/) });
    expect(JSON.stringify(r)).not.toContain('root:x');
  });

  it('skips an entry with a bad field, names the field and what it still says, and keeps the others', () => {
    const good = { section: 'SSL_INT_1', vfs: ['y'], pid: 9, startTime: '1', uid: 0, gid: 0, processName: 'a', since: 1 };
    const text = JSON.stringify({ format: LEDGER_FORMAT, entries: [{ section: 'SSL_INT_0', vfs: ['x'], pid: 7, startTime: 'soon', uid: 0, gid: 0, processName: 'a', since: 1 }, good] });
    const r = parseLedger(text, undefined);
    expect(r).toMatchObject({ kind: 'ok', damage: [{ line: 1, reason: 'entries[0].startTime is not a clock-tick count', pid: 7, section: 'SSL_INT_0' }] });
    expect(r.kind === 'ok' && r.data.entries.map((e) => e.section)).toEqual(['SSL_INT_1']);
  });

  it('calls a ledger of another format or another boot foreign', () => {
    expect(parseLedger(JSON.stringify({ format: 'other/9', entries: [] }), undefined)).toMatchObject({ kind: 'foreign' });
    expect(parseLedger(JSON.stringify({ format: LEDGER_FORMAT, bootId: 'old', entries: [] }), 'new')).toMatchObject({ kind: 'foreign', reason: expect.stringContaining('another boot') });
  });
});

describe('grants and releases', () => {
  it('records every grant with pid, start time, uid, section and VFs, and drops it on release', () => {
    const a = allocatorFor(sim.roots);
    const ledger = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    ledger.attach();
    const s = a.acquire({ ...holder(1, process.pid), uid: 4242 })!;
    let r = readLedger(file, undefined);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.data.entries).toEqual([{
      section: s.name, vfs: s.plan.devices.map((d) => d.vf.bdf), pid: process.pid, startTime: processStartTime('/proc', process.pid),
      uid: 4242, gid: 1000, processName: 'SSL', since: expect.any(Number), adopted: false,
    }]);
    a.release(s, 1, 'put');
    r = readLedger(file, undefined);
    expect(r.kind === 'ok' && r.data.entries).toEqual([]);
    ledger.close();
  });

  it('writes synchronously (a restarted daemon sees the grant at once) and fsyncs off the event loop', async () => {
    const a = allocatorFor(sim.roots);
    const ledger = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    ledger.attach();
    for (let i = 1; i <= 3; i++) a.acquire(holder(i, process.pid));
    const r = readLedger(file, undefined);
    expect(r.kind === 'ok' && r.data.entries.length).toBe(3);
    await ledger.flushed();
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(ledger.writeErrors).toBe(0);
    ledger.close();
  });
});

describe('shutdown', () => {
  it('records no release once closed: connections closed by a stopping daemon are not releases', () => {
    const a = allocatorFor(sim.roots);
    const ledger = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    ledger.attach();
    const s = a.acquire(holder(1, process.pid))!;
    ledger.close();
    a.release(s, 1, 'disconnect');
    const r = readLedger(file, undefined);
    expect(r.kind === 'ok' && r.data.entries.map((e) => e.section)).toEqual([s.name]);
  });
});

describe('restore after a restart', () => {
  function grantTo(pids: number[]): void {
    const a = allocatorFor(sim.roots);
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    l.attach();
    pids.forEach((pid, i) => a.acquire(holder(i + 1, pid)));
    l.close();
  }

  it('keeps the section of a live owner held and frees the one of a dead owner', async () => {
    const live = sleeper();
    const dead = sleeper();
    grantTo([live.pid!, dead.pid!]);
    dead.kill('SIGKILL');
    await waitExit(dead);

    const a = allocatorFor(sim.roots);
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    const report = l.restore();
    expect(report.adopted.map((x) => [x.section, x.pid])).toEqual([['SSL_INT_0', live.pid]]);
    expect(report.gone).toEqual([{ section: 'SSL_INT_1', pid: dead.pid, reason: 'process exited' }]);
    expect(a.sections[0].holder).toMatchObject({ pid: live.pid, adopted: true });
    expect(a.sections[1].holder).toBeNull();
    expect(a.adoptedSections().map((s) => s.name)).toEqual(['SSL_INT_0']);
    // a new client gets the first section nobody alive holds
    expect(a.acquire(holder(10, process.pid))!.name).toBe('SSL_INT_1');
    l.close();
  });

  it('frees an adopted section when its owner exits (pidfd)', async () => {
    const owner = sleeper();
    grantTo([owner.pid!]);
    const a = allocatorFor(sim.roots);
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    l.attach();
    expect(l.restore().adopted[0].watch).toBe('pidfd');
    const released = new Promise<string>((r) => a.once('release', (_s, _h, reason) => r(reason)));
    owner.kill('SIGKILL');
    expect(await released).toBe('owner-exited');
    expect(a.sections[0].holder).toBeNull();
    const r = readLedger(file, undefined);
    expect(r.kind === 'ok' && r.data.entries).toEqual([]);
    l.close();
  });

  it('frees an adopted section when its owner exits, polling /proc where there is no pidfd', async () => {
    const owner = sleeper();
    grantTo([owner.pid!]);
    const a = allocatorFor(sim.roots);
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger(), watch: new OwnerWatch({ pidsRoot: '/proc', noPidfd: true, pollMs: 20 }) });
    expect(l.restore().adopted[0].watch).toBe('proc-poll');
    const released = new Promise<string>((r) => a.once('release', (_s, _h, reason) => r(reason)));
    owner.kill('SIGKILL');
    expect(await released).toBe('owner-exited');
    l.close();
  });

  it('does not adopt for a pid that now belongs to another process', () => {
    const owner = sleeper();
    grantTo([owner.pid!]);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.entries[0].startTime = '1';
    fs.writeFileSync(file, JSON.stringify(data));
    const a = allocatorFor(sim.roots);
    const report = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() }).restore();
    expect(report.adopted).toEqual([]);
    expect(report.gone[0].reason).toBe('pid now belongs to another process');
  });

  it('holds every section that overlaps a live owner\'s VFs when the policy changed', () => {
    const owner = sleeper();
    grantTo([owner.pid!]); // policy 0: SSL_INT_0 = one VF of each PF
    const a = allocatorFor(sim.roots, 1); // policy 1: one VF per section
    const report = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() }).restore();
    expect(report.adopted.map((x) => x.section)).toEqual(['SSL_INT_0', 'SSL_INT_1']);
    expect(a.counts().held).toBe(2);
  });

  it('moves a corrupt ledger aside, reports it, and starts with nothing adopted', () => {
    fs.writeFileSync(file, 'garbage\n');
    const a = allocatorFor(sim.roots);
    const report = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() }).restore();
    expect(report.problem).toMatchObject({ kind: 'corrupt', reason: expect.stringMatching(/^line 1 is not JSON/) });
    expect(report.problem!.movedTo).toMatch(/qatmgr\.ledger\.corrupt-/);
    expect(fs.readFileSync(report.problem!.movedTo!, 'utf8')).toBe('garbage\n');
    // an empty ledger takes its place at once
    expect(readLedger(file, undefined)).toMatchObject({ kind: 'ok', data: { entries: [] }, damage: [] });
    expect(a.counts().held).toBe(0);
  });

  it('moves a foreign ledger aside', () => {
    fs.writeFileSync(file, JSON.stringify({ format: 'somebody-else/1', entries: [] }));
    const report = new Ledger({ file, pidsRoot: '/proc', allocator: allocatorFor(sim.roots), log: silentLogger() }).restore();
    expect(report.problem).toMatchObject({ kind: 'foreign' });
    expect(report.problem!.movedTo).toMatch(/\.foreign-/);
  });

  it('gives a process that connects again its own adopted section back instead of a second one', () => {
    grantTo([process.pid]);
    const a = allocatorFor(sim.roots);
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    l.restore();
    l.attach();
    const again = a.acquire(holder(50, process.pid))!;
    expect(again.name).toBe('SSL_INT_0');
    expect(again.holder?.connId).toBe(50);
    expect(again.holder?.adopted).toBeUndefined();
    expect(a.adoptedSections()).toEqual([]);
    // another process still gets the next free section
    expect(a.acquire(holder(51, process.pid + 1_000_000))!.name).toBe('SSL_INT_1');
    l.close();
  });

  it('keeps adopted sections in the ledger so a second restart adopts them again', () => {
    const owner = sleeper();
    grantTo([owner.pid!]);
    new Ledger({ file, pidsRoot: '/proc', allocator: allocatorFor(sim.roots), log: silentLogger() }).restore();
    const a = allocatorFor(sim.roots);
    const report = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() }).restore();
    expect(report.adopted.map((x) => x.pid)).toEqual([owner.pid]);
  });
});

describe('journal', () => {
  it('appends one line per grant and release instead of rewriting the file', () => {
    const a = allocatorFor(sim.roots);
    const ledger = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    ledger.attach();
    const s0 = a.acquire(holder(1, process.pid))!;
    const ino = fs.statSync(file).ino;
    const s1 = a.acquire(holder(2, process.pid))!;
    a.release(s0, 1, 'put');
    expect(fs.statSync(file).ino).toBe(ino);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3); // header (with the first grant), grant, release
    expect(JSON.parse(lines[2])).toEqual({ r: s0.name, pid: process.pid });
    const r = readLedger(file, undefined);
    expect(r.kind === 'ok' && r.data.entries.map((e) => e.section)).toEqual([s1.name]);
    ledger.close();
  });

  it('compacts a long journal into a fresh snapshot and keeps the state', () => {
    const a = allocatorFor(sim.roots);
    const ledger = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    ledger.attach();
    const keep = a.acquire(holder(1, process.pid))!;
    for (let i = 0; i < 700; i++) {
      const s = a.acquire(holder(100 + i, process.pid))!;
      a.release(s, 100 + i, 'put');
    }
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(1025);
    const r = readLedger(file, undefined);
    expect(r.kind === 'ok' && r.data.entries.map((e) => e.section)).toEqual([keep.name]);
    ledger.close();
  });

  it('ignores a last line torn by a crash, and skips a bad line in the middle, reported by its number, keeping the rest', () => {
    const head = JSON.stringify({ format: LEDGER_FORMAT, bootId: null, daemonPid: 1, writtenAt: 'x', entries: [] });
    const g = (section: string): string => JSON.stringify({ g: { section, vfs: ['0000:6b:00.1'], pid: 9, startTime: '5', uid: 0, gid: 0, processName: 'a', since: 1 } });
    const torn = `${head}\n${g('SSL_INT_0')}\n{"g":{"section":"SSL_IN`;
    const ok = parseLedger(torn, undefined);
    expect(ok.kind === 'ok' && ok.data.entries.map((e) => e.section)).toEqual(['SSL_INT_0']);
    const mid = parseLedger(`${head}\n${g('SSL_INT_0')}\ngarbage\n${g('SSL_INT_1')}\n`, undefined);
    expect(mid).toMatchObject({ kind: 'ok', damage: [{ line: 3, reason: 'not JSON' }] });
    expect(mid.kind === 'ok' && mid.data.entries.map((e) => e.section)).toEqual(['SSL_INT_0', 'SSL_INT_1']);
    // a release whose section is not a name (the issue's {"r":5}) is skipped; the grant it would have undone stays
    const rel = parseLedger(`${head}\n${g('SSL_INT_0')}\n{"r":5}\n{"x":1}\n`, undefined);
    expect(rel).toMatchObject({ kind: 'ok', damage: [{ line: 3, reason: 'neither a grant nor a release' }, { line: 4, reason: 'neither a grant nor a release' }] });
    expect(rel.kind === 'ok' && rel.data.entries.map((e) => e.section)).toEqual(['SSL_INT_0']);
  });

  it('still reads a version-1 ledger (one pretty-printed JSON document)', () => {
    const v1 = JSON.stringify({ format: 'qatmgr-ledger/1', bootId: 'b', daemonPid: 1, writtenAt: 'w', entries: [{ section: 'SSL_INT_2', vfs: ['0000:6b:00.3'], pid: 7, startTime: '1', uid: 0, gid: 0, processName: 'SSL', since: 1 }] }, null, 1);
    const r = parseLedger(v1, 'b');
    expect(r.kind === 'ok' && r.data.entries.map((e) => [e.section, e.pid, e.adopted])).toEqual([['SSL_INT_2', 7, false]]);
  });
});

describe('reservations (format 3)', () => {
  const reservation = { key: 'SSL_INT_1', resource: 'qat.intel.com/managed', sections: ['SSL_INT_1'], vfs: ['0000:6b:00.2', '0000:70:00.2'], since: 5, pod: { uid: 'u-1', containerId: 'c'.repeat(64), namespace: 'shop', name: 'web', container: 'nginx' } };

  it('writes version 2 while there is no reservation and version 3 with the reservations in the header once there is one', () => {
    const a = allocatorFor(sim.roots);
    const list: typeof reservation[] = [];
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: a, log: silentLogger() });
    l.setReservations(() => list);
    l.persist();
    expect(JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[0]).format).toBe('qatmgr-ledger/2');
    list.push(reservation);
    l.reservationsChanged();
    const head = JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[0]);
    expect(head.format).toBe('qatmgr-ledger/3');
    expect(head.reservations).toEqual([reservation]);
    l.close();
    const again = new Ledger({ file, pidsRoot: '/proc', allocator: allocatorFor(sim.roots), log: silentLogger() });
    expect(again.restore().reservations).toEqual([reservation]);
    again.close();
  });

  it('keeps the reservations on disk through a restart of a daemon that does not take them over', () => {
    writeLedger(file, { format: 'qatmgr-ledger/3' as never, bootId: null, daemonPid: 1, writtenAt: '', entries: [], reservations: [reservation] });
    const l = new Ledger({ file, pidsRoot: '/proc', allocator: allocatorFor(sim.roots), log: silentLogger() });
    l.restore();
    l.close();
    expect(readLedger(file, undefined)).toMatchObject({ kind: 'ok', data: { format: 'qatmgr-ledger/3', reservations: [reservation] } });
  });

  it('names the first bad field of a reservation and drops the reservations only (held entries are kept)', () => {
    const held = { section: 'SSL_INT_0', pid: 4242, startTime: '1', uid: 0, gid: 0, processName: 'SSL', since: 1767225600000, vfs: ['0000:6b:00.1'] };
    const text = JSON.stringify({ format: 'qatmgr-ledger/3', entries: [held], reservations: [{ ...reservation, sections: [] }] });
    const r = parseLedger(text, undefined);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.damage).toEqual([{ line: 1, reason: 'reservations[0].sections is not a list of section names' }]);
    expect(r.data.entries.map((e) => e.section)).toEqual(['SSL_INT_0']);
    expect(r.data.reservations).toBeUndefined();
    const pod = parseLedger(JSON.stringify({ format: 'qatmgr-ledger/3', entries: [], reservations: [{ ...reservation, pod: { uid: 3 } }] }), undefined);
    expect(pod.kind === 'ok' && pod.damage).toEqual([{ line: 1, reason: 'reservations[0].pod is not {uid, containerId, namespace, name, container}' }]);
  });
});
