// The admin API against the real daemon on a simulated host: holder facts, forced release, drain, refusals, bad input.

import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import fs from 'node:fs';
import { startDaemon, startHolder, qatctl, adminRaw, type Daemon, type Holder } from './admin-harness.js';
import { AdminClient } from '../../src/admin/client.js';
import { QatClient } from '../../src/client/qatclient.js';
import { cgroupPath, unitAndContainer } from '../../src/admin/procinfo.js';
import type { AllocationsView, SectionsView, StatusView } from '../../src/admin/views.js';
import type { AdminEvent } from '../../src/admin/events.js';

let d: Daemon;
let admin: AdminClient;
const holders: Holder[] = [];

async function hold(name: string): Promise<Holder> {
  const h = await startHolder(d.socket, name);
  holders.push(h);
  return h;
}

async function freeAll(): Promise<void> {
  await Promise.all(holders.splice(0).map((h) => h.close()));
  // the daemon sees the disconnects asynchronously
  for (let i = 0; i < 100; i++) {
    const s = await admin.request<StatusView>('status');
    if (s.sections.held === 0 && s.connections.open === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const name of ['0000:6b:01.0', '0000:70:01.0', '0000:6b:02.0']) await admin.request('undrain', { bdf: name });
}

beforeAll(async () => {
  // group 65534 (nogroup) on both sockets lets the suite connect as nobody
  d = await startDaemon('default', ['--socket-group', '65534']);
  admin = await AdminClient.connect(d.adminSocket);
});
afterEach(freeAll);
afterAll(async () => {
  admin?.close();
  await d?.stop();
});

describe('admin API on the simulated default host (16 sections of 2 VFs)', () => {
  it('allocations shows each holder with the pid, uid, user and comm that /proc reports for that process', async () => {
    const a = await hold('qat-holder-a');
    const b = await hold('qat-holder-b');
    expect(a.section).toBe('SSL_INT_0');
    expect(b.section).toBe('SSL_INT_1');
    const v = await admin.request<AllocationsView>('allocations');
    expect(v.allocations.map((r) => r.section)).toEqual(['SSL_INT_0', 'SSL_INT_1']);
    const [ra, rb] = v.allocations;
    expect(ra.pid).toBe(a.pid);
    expect(rb.pid).toBe(b.pid);
    expect(ra.pid).not.toBe(process.pid);
    expect(ra).toMatchObject({ uid: 0, gid: 0, user: 'root', comm: 'qat-holder-a', processName: 'qat-holder-a', alive: true, adopted: false });
    expect(rb.comm).toBe('qat-holder-b');
    expect(ra.bdfs).toEqual(['0000:6b:01.0', '0000:70:01.0']);
    expect(ra.vfNumaNodes).toEqual([0]);
    expect(ra.numaNodes).toEqual([0]);
    expect(ra.instances).toContain('asym0');
    // the handshake made many requests; all were counted while the section was held
    expect(ra.requests).toBeGreaterThan(10);
    expect(Date.parse(ra.since)).toBeLessThanOrEqual(Date.now());
    // unit and container come from the holder's own /proc/<pid>/cgroup
    const cg = unitAndContainer(cgroupPath(fs.readFileSync(`/proc/${a.pid}/cgroup`, 'utf8')) ?? '');
    expect([ra.unit, ra.container]).toEqual([cg.unit, cg.container]);
  });

  it('a holder running as another user is shown with its uid, gid and user name (SO_PEERCRED + passwd)', async () => {
    const h = await startHolder(d.socket, 'unprivileged', { uid: 65534, gid: 65534 });
    holders.push(h);
    expect(h.section).toBe('SSL_INT_0');
    const v = await admin.request<AllocationsView>('allocations');
    // the simulated host's etc/ has no passwd: the name comes from the real /etc/passwd
    expect(v.allocations[0]).toMatchObject({ pid: h.pid, uid: 65534, gid: 65534, user: 'nobody', comm: 'unprivileged' });
  });

  it('a forced release frees the section at once and the old holder gets BAD on its next request', async () => {
    const a = await hold('victim');
    expect(a.section).toBe('SSL_INT_0');
    const r = await qatctl(['release', 'SSL_INT_0', '--admin-socket', d.adminSocket]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`from pid ${a.pid}`);
    const v = await admin.request<AllocationsView>('allocations');
    expect(v.allocations).toEqual([]);
    // the old holder's connection is still open but no longer holds anything
    expect(await a.send('num')).toBe('BAD Invalid index');
    // and the section is granted to the next client
    const b = await hold('next');
    expect(b.section).toBe('SSL_INT_0');
    const ev = await admin.request<{ events: AdminEvent[] }>('events', { kinds: ['forced-release'] });
    expect(ev.events.at(-1)).toMatchObject({ kind: 'forced-release', section: 'SSL_INT_0', pid: a.pid, reason: 'forced' });
  });

  it('releasing a section that is not held fails with exit status 2 and QATMGR_E_ADMIN_NOT_HELD', async () => {
    const r = await qatctl(['release', '5', '--admin-socket', d.adminSocket]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('QATMGR_E_ADMIN_NOT_HELD');
    const u = await qatctl(['release', 'SSL_INT_99', '--admin-socket', d.adminSocket]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('QATMGR_E_ADMIN_NOT_FOUND');
  });

  it('a caller that is not root (uid 65534) may read but cannot release, drain or undrain', async () => {
    const a = await hold('kept');
    const nobody = { uid: 65534, gid: 65534 };
    const st = await qatctl(['status', '--json', '--admin-socket', d.adminSocket], nobody);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout).sections.held).toBe(1);
    for (const args of [['release', 'SSL_INT_0'], ['drain', '0000:6b:02.0'], ['undrain', '0000:6b:02.0']]) {
      const r = await qatctl([...args, '--admin-socket', d.adminSocket], nobody);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toContain('QATMGR_E_ADMIN_PERMISSION');
      expect(r.stderr).toContain('uid 65534');
    }
    const v = await admin.request<AllocationsView>('allocations');
    expect(v.allocations.map((x) => [x.section, x.pid])).toEqual([['SSL_INT_0', a.pid]]);
    const s = await admin.request<SectionsView>('sections');
    expect(s.sections[1].state).toBe('free');
    expect(await a.send('num')).toBe('NUM 2');
  });

  it('drain stops new grants of a VF\'s section without disturbing its current holder', async () => {
    const a = await hold('busy');
    expect(a.section).toBe('SSL_INT_0');
    // drain a VF of the held section and one of the next free section
    expect((await qatctl(['drain', '0000:6b:01.0', '--reason', 'maintenance', '--admin-socket', d.adminSocket])).code).toBe(0);
    const r = await qatctl(['drain', '6b:02.0', '--json', '--admin-socket', d.adminSocket]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ bdf: '0000:6b:02.0', section: 'SSL_INT_1', outOfService: true, changed: true, holderPid: null });
    // the holder keeps working
    expect(await a.send('num')).toBe('NUM 2');
    // a new client skips the drained SSL_INT_1
    const b = await hold('newcomer');
    expect(b.section).toBe('SSL_INT_2');
    // after the holder leaves, its drained section is not handed out again
    await a.close();
    const c = await hold('after');
    expect(c.section).toBe('SSL_INT_3');
    const s = await admin.request<SectionsView>('sections');
    expect(s.sections[0]).toMatchObject({ state: 'out-of-service', reason: 'VF 0000:6b:01.0 is out of service (maintenance)' });
    // undrain makes it grantable again
    expect((await qatctl(['undrain', '0000:6b:01.0', '--admin-socket', d.adminSocket])).code).toBe(0);
    const e = await hold('back');
    expect(e.section).toBe('SSL_INT_0');
    const ev = await admin.request<{ events: AdminEvent[] }>('events', { kinds: ['drain', 'undrain'] });
    expect(ev.events.slice(-3).map((x) => [x.kind, x.bdfs[0]])).toEqual([['drain', '0000:6b:01.0'], ['drain', '0000:6b:02.0'], ['undrain', '0000:6b:01.0']]);
    expect(ev.events.at(-3)!.reason).toBe('maintenance');
  });

  it('drain of an unknown or malformed BDF fails with exit status 2', async () => {
    const r = await qatctl(['drain', '0000:ff:1f.7', '--admin-socket', d.adminSocket]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('QATMGR_E_ADMIN_NOT_FOUND');
    const m = await qatctl(['drain', 'nonsense', '--admin-socket', d.adminSocket]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('is not a PCI address');
  });

  it('malformed admin requests get JSON errors and the daemon keeps serving clients and admins', async () => {
    const r = await adminRaw(d.adminSocket, [
      '{not json',
      '[1,2]',
      JSON.stringify({ v: 1, id: 7, op: 'no-such-op' }),
      JSON.stringify({ v: 2, id: 8, op: 'status' }),
      JSON.stringify({ v: 1, id: 9, op: 'events', args: [] }),
      JSON.stringify({ v: 1, id: 10, op: 'events', args: { limit: -3 } }),
      JSON.stringify({ v: 1, id: 11, op: '__proto__' }),
      JSON.stringify({ v: 1, id: 'last', op: 'status' }),
    ].join('\n') + '\n', 8);
    const answers = r.lines.map((l) => JSON.parse(l));
    expect(answers.map((a) => a.ok ? 'ok' : a.error.code)).toEqual([
      'QATMGR_E_ADMIN_BAD_REQUEST', 'QATMGR_E_ADMIN_BAD_REQUEST', 'QATMGR_E_ADMIN_UNKNOWN_OP', 'QATMGR_E_ADMIN_VERSION',
      'QATMGR_E_ADMIN_BAD_REQUEST', 'QATMGR_E_ADMIN_BAD_REQUEST', 'QATMGR_E_ADMIN_UNKNOWN_OP', 'ok',
    ]);
    expect(answers.map((a) => a.id)).toEqual([null, null, 7, 8, 9, 10, 11, 'last']);
    for (const a of answers) expect(a.v).toBe(1);

    // a line over 64 KiB: one error answer, then the connection is closed
    const big = await adminRaw(d.adminSocket, Buffer.alloc(70 * 1024, 'x'), 1);
    expect(JSON.parse(big.lines[0]).error.code).toBe('QATMGR_E_ADMIN_TOO_LARGE');
    const big2 = await adminRaw(d.adminSocket, `{"v":1,"op":"status","pad":"${'y'.repeat(66 * 1024)}"}\n`, 1);
    expect(JSON.parse(big2.lines[0]).error.code).toBe('QATMGR_E_ADMIN_TOO_LARGE');

    // the daemon still serves: a libqat client gets a section, the admin socket answers
    const c = await QatClient.connect(d.socket);
    expect(await c.sectionGet('after-garbage')).toBe('SSL_INT_0');
    await c.close();
    expect((await admin.request<StatusView>('status')).pid).toBe(d.proc.pid);
    expect(d.proc.exitCode).toBeNull();
  });

  it('rescan on an unchanged host answers a report with nothing added or removed', async () => {
    const r = await admin.request<{ sectionsBefore: number; sectionsAfter: number; addedVfs: string[]; removedVfs: string[] }>('rescan');
    expect(r.sectionsAfter).toBe(r.sectionsBefore);
    expect([r.addedVfs, r.removedVfs]).toEqual([[], []]);
  });
});

describe('refusals on a host with 2 sections (4xxx:1x2)', () => {
  let small: Daemon;
  let a2: AdminClient;
  const mine: Holder[] = [];
  beforeAll(async () => {
    small = await startDaemon('4xxx:1x2');
    a2 = await AdminClient.connect(small.adminSocket);
  });
  afterAll(async () => {
    await Promise.all(mine.map((h) => h.close()));
    a2?.close();
    await small?.stop();
  });

  it('a refused SECTION_GET is recorded with the reason: every section held, and by which processes', async () => {
    const h1 = await startHolder(small.socket, 'worker-1');
    const h2 = await startHolder(small.socket, 'worker-2');
    mine.push(h1, h2);
    expect([h1.section, h2.section]).toEqual(['SSL_INT_0', 'SSL_INT_1']);
    const late = await startHolder(small.socket, 'worker-3');
    mine.push(late);
    expect(late.first).toBe('BAD No section available');
    const ev = await a2.request<{ events: AdminEvent[] }>('events', { kinds: ['refusal'] });
    expect(ev.events).toHaveLength(1);
    const e = ev.events[0];
    expect(e).toMatchObject({ kind: 'refusal', pid: late.pid, uid: 0, processName: 'worker-3', section: null });
    expect(e.reason).toContain('2 of 2 sections held');
    expect(e.reason).toContain(String(h1.pid));
    expect(e.detail!.holders.map((x) => [x.pid, x.processName])).toEqual([[h1.pid, 'worker-1'], [h2.pid, 'worker-2']]);
    // qatctl allocations shows the refusal with its reason
    const r = await qatctl(['allocations', '--admin-socket', small.adminSocket]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Recent refusals');
    expect(r.stdout).toMatch(new RegExp(`${late.pid}\\s+0\\s+worker-3\\s+worker-1\\[${h1.pid}\\] worker-2\\[${h2.pid}\\]\\s+2 of 2 sections held`));
  });

  it('a refusal caused by a drained VF names the VF that is out of service', async () => {
    await Promise.all(mine.splice(0).map((h) => h.close()));
    const h1 = await startHolder(small.socket, 'only');
    mine.push(h1);
    expect(h1.section).toBe('SSL_INT_0');
    const sec = await a2.request<SectionsView>('sections');
    const bdf1 = sec.sections[1].vfs[0].bdf;
    await a2.request('drain', { bdf: bdf1, reason: 'bad fan' });
    const late = await startHolder(small.socket, 'refused');
    mine.push(late);
    expect(late.first).toBe('BAD No section available');
    const ev = await a2.request<{ events: AdminEvent[] }>('events', { kinds: ['refusal'], limit: 1 });
    expect(ev.events[0].reason).toContain(`1 out-of-service: VF ${bdf1} is out of service (bad fan)`);
    expect(ev.events[0].detail!.outOfService).toEqual([bdf1]);
  });
});
