// Health and following the host, against the real daemon on the simulator: faults withhold exactly the sick PF's VFs
// with a reason naming it, recovery re-admits, flapping does not flap grants, VFs and PFs that come and go are
// followed without SIGHUP and a held section never moves.

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { QATCTL, startDaemon, runDaemonToExit, type RunningDaemon } from '../helpers/daemon.js';
import { simHost } from '../helpers/sim.js';
import { QatClient } from '../../src/client/qatclient.js';
import { adminRequest } from '../../src/admin/client.js';
import { inject } from '../../src/sim/inject.js';
import type { HealthView } from '../../src/health/monitor.js';
import type { AdminEvent } from '../../src/admin/events.js';
import type { SectionsView } from '../../src/admin/views.js';

const A = '0000:6b:00.0';
const B = '0000:70:00.0';
/** A fast loop for tests; the recovery time stays long enough that a test never races it. */
const FAST = ['--health-interval', '200ms', '--health-recover', '1s'];

let running: RunningDaemon[] = [];
const clients: QatClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

async function daemon(spec: string, args: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon(simHost(spec), [...FAST, ...args]);
  running.push(d);
  return d;
}

const admin = <T>(d: RunningDaemon, op: string, args: Record<string, unknown> = {}): Promise<T> => adminRequest<T>(path.join(d.host.roots.run, 'qatmgr-admin.sock'), op, args);
const pfOf = async (d: RunningDaemon, bdf: string) => (await admin<HealthView>(d, 'health')).pfs.find((p) => p.bdf === bdf)!;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const inState = (d: RunningDaemon, bdf: string, state: string) => waitFor(`${bdf} ${state}`, async () => {
  const p = await pfOf(d, bdf);
  return p.state === state ? p : undefined;
});

/** A client that gets a section, and the PFs of the VFs it was given. */
async function grant(d: RunningDaemon): Promise<{ section: string; pfs: string[] } | string> {
  const c = await QatClient.connect(d.socket);
  clients.push(c);
  try {
    const section = await c.sectionGet('test');
    const n = await c.numDevices();
    const pfs: string[] = [];
    for (let i = 0; i < n; i++) pfs.push((await c.deviceId(i)).replace(/:[0-9a-f]{2}\.[0-7]$/, ':00.0'));
    return { section, pfs };
  } catch (e) {
    return (e as Error).message;
  }
}

const events = async (d: RunningDaemon, kinds: string[]) => (await admin<{ events: AdminEvent[] }>(d, 'events', { kinds })).events;

describe('a fault on one PF withholds exactly its VFs, with the reason, until it recovers', () => {
  const cases: Array<{ fault: string; state: string; code: string; recover: string[]; refusalNames: boolean }> = [
    { fault: 'heartbeat-fail', state: 'unhealthy', code: 'heartbeat-failed', recover: ['heartbeat-ok'], refusalNames: true },
    { fault: 'fatal', state: 'unhealthy', code: 'fatal-error', recover: ['reset'], refusalNames: true },
    { fault: 'down', state: 'unhealthy', code: 'state-down', recover: ['up', 'vfs-on'], refusalNames: false },
    { fault: 'vfs-off', state: 'gone', code: 'no-vfs', recover: ['vfs-on'], refusalNames: false },
  ];
  for (const c of cases) {
    it(`${c.fault}: PF ${B} turns ${c.state} (${c.code}), PF ${A} keeps serving, recovery re-admits`, async () => {
      const d = await daemon('4xxx:2x16', ['--policy', '1']);
      await inject(d.host.dir, c.fault, B);
      const p = await inState(d, B, c.state);
      expect(p.reasons.map((r) => r.code)).toContain(c.code);
      expect((await pfOf(d, A)).state).toBe('healthy');
      // every new grant comes from A; once A's 16 sections are taken the next client is refused
      const got = [];
      for (let i = 0; i < 16; i++) got.push(await grant(d));
      expect(new Set(got.map((g) => (typeof g === 'string' ? g : g.pfs.join())))).toEqual(new Set([A]));
      expect(await grant(d)).toBe('BAD reply to 1: No section available');
      if (c.refusalNames) {
        const refusal = (await events(d, ['refusal'])).at(-1)!;
        expect(refusal.reason).toContain(`PF ${B} is ${c.state}: `);
      }
      const health = (await events(d, ['health'])).find((e) => e.bdfs[0] === B)!;
      expect(health.health).toMatchObject({ pf: B, from: 'healthy', to: c.state });
      for (const r of c.recover) await inject(d.host.dir, r, B, { resetMs: 300 });
      await inState(d, B, 'healthy');
      const back = await waitFor('a grant on PF B', async () => { const g = await grant(d); return typeof g !== 'string' && g.pfs.includes(B) ? g : undefined; });
      expect(back.pfs).toEqual([B]);
      expect((await events(d, ['rescan'])).some((e) => e.reason?.startsWith(`readmit PF ${B}`))).toBe(true);
    });
  }

  it('reset: a device that resets itself (auto_reset on) is withheld while it is down and re-admitted without an operator', async () => {
    const d = await daemon('4xxx:2x16', ['--policy', '1']);
    await inject(d.host.dir, 'auto-reset-on', B);
    const resetting = inject(d.host.dir, 'fatal', B, { resetMs: 1500 });
    const p = await inState(d, B, 'unhealthy');
    expect(p.reasons.map((r) => r.code).some((c) => ['in-reset', 'state-down', 'fatal-error'].includes(c))).toBe(true);
    expect(p.sources.autoReset).toBe(true);
    const g = await grant(d);
    expect(typeof g !== 'string' && g.pfs).toEqual([A]);
    await resetting;
    await inState(d, B, 'healthy');
    const rescans = (await events(d, ['rescan'])).map((e) => e.rescan!.trigger);
    expect(rescans).toContain(`readmit PF ${B}`);
    const back = await waitFor('a grant on PF B', async () => { const x = await grant(d); return typeof x !== 'string' && x.pfs.includes(B) ? x : undefined; });
    expect(back.pfs).toEqual([B]);
  });

  it('with policy 0 a section is served without the sick PF\'s VF (other PFs keep serving)', async () => {
    const d = await daemon('4xxx:2x4');
    await inject(d.host.dir, 'heartbeat-fail', B);
    await inState(d, B, 'unhealthy');
    const g = await grant(d);
    expect(g).toEqual({ section: 'SSL_INT_0', pfs: [A] });
    const devices = await admin<{ pfs: Array<{ bdf: string; health: { state: string }; vfs: Array<{ state: string; reason: string }> }> }>(d, 'devices');
    const b = devices.pfs.find((x) => x.bdf === B)!;
    expect(b.health.state).toBe('unhealthy');
    expect(b.vfs.filter((v) => v.state === 'withheld')).toHaveLength(3);
    expect(b.vfs.find((v) => v.state === 'withheld')!.reason).toMatch(/^PF 0000:70:00\.0 is unhealthy: firmware heartbeat failed/);
  });
});

describe('hysteresis', () => {
  it('a flapping heartbeat makes one transition to unhealthy, none back while it flaps, one back after', async () => {
    const d = await daemon('4xxx:2x4', ['--health-interval', '100ms', '--health-recover', '2s']);
    // changes 300 ms apart: every fail is seen (the loop looks every 100 ms), no good spell lasts the 2 s needed
    await inject(d.host.dir, 'heartbeat-flap', B, { flapCount: 6, flapPeriodMs: 300 });
    const during = (await events(d, ['health'])).filter((e) => e.bdfs[0] === B);
    expect(during.map((e) => `${e.health!.from}->${e.health!.to}`)).toEqual(['healthy->unhealthy']);
    await inState(d, B, 'healthy');
    const after = (await events(d, ['health'])).filter((e) => e.bdfs[0] === B);
    expect(after.map((e) => `${e.health!.from}->${e.health!.to}`)).toEqual(['healthy->unhealthy', 'unhealthy->healthy']);
  });
});

describe('following the host without SIGHUP', () => {
  it('SR-IOV off then on: free sections of the gone VFs are withdrawn and come back, the held section never moves and its holder is listed as affected', async () => {
    const d = await daemon('4xxx:2x16', ['--policy', '1']);
    const before = await admin<SectionsView>(d, 'sections');
    expect(before.sections).toHaveLength(32);
    const held = await grant(d); // SSL_INT_0 on A
    const onB = await grant(d); // SSL_INT_1 on B
    expect(onB).toEqual({ section: 'SSL_INT_1', pfs: [B] });
    await inject(d.host.dir, 'vfs-off', B);
    const p = await inState(d, B, 'gone');
    expect(p.affected).toEqual([{ section: 'SSL_INT_1', pid: process.pid, processName: 'test', bdfs: ['0000:70:01.0'] }]);
    const off = await waitFor('B\'s free sections withdrawn', async () => {
      const s = await admin<SectionsView>(d, 'sections');
      return s.sections.length === 17 ? s : undefined;
    });
    expect(off.sections.find((s) => s.name === 'SSL_INT_1')!.vfs.map((v) => v.bdf)).toEqual(['0000:70:01.0']);
    expect(off.sections.find((s) => s.name === 'SSL_INT_0')!.vfs.map((v) => v.bdf)).toEqual(['0000:6b:01.0']);
    const health = await admin<HealthView>(d, 'health');
    expect(health.host.changes).toBeGreaterThanOrEqual(1);
    await inject(d.host.dir, 'vfs-on', B);
    const on = await waitFor('B\'s sections back', async () => {
      const s = await admin<SectionsView>(d, 'sections');
      return s.sections.length === 32 ? s : undefined;
    });
    expect(on.sections.find((s) => s.name === 'SSL_INT_1')).toMatchObject({ state: 'held', vfs: [{ bdf: '0000:70:01.0' }] });
    expect(on.sections.find((s) => s.name === 'SSL_INT_0')).toMatchObject({ state: 'held', vfs: [{ bdf: '0000:6b:01.0' }] });
    expect(typeof held).not.toBe('string');
    await inState(d, B, 'healthy');
    const rescans = await events(d, ['rescan']);
    expect(rescans.some((e) => e.rescan!.trigger.startsWith('host: '))).toBe(true);
  });

  it('a PF removed and added again is followed: gone, then back with its sections', async () => {
    const d = await daemon('4xxx:2x16', ['--policy', '1']);
    await inject(d.host.dir, 'remove', B);
    const p = await inState(d, B, 'gone');
    expect(p.reasons).toEqual([{ code: 'pf-missing', text: 'not in the system any more' }]);
    await waitFor('16 sections', async () => (await admin<SectionsView>(d, 'sections')).sections.length === 16);
    await inject(d.host.dir, 'add', B);
    await waitFor('32 sections', async () => (await admin<SectionsView>(d, 'sections')).sections.length === 32);
    await inState(d, B, 'healthy');
  });

  it('a new section overlapping a held one forms as soon as that one is released, without another rescan', async () => {
    const host = simHost('4xxx:1x4');
    fs.writeFileSync(path.join(host.roots.etc, 'sysconfig', 'qat'), 'POLICY=1\n');
    const d = await startDaemon(host, FAST);
    running.push(d);
    const c = await QatClient.connect(d.socket);
    expect(await c.sectionGet('holder')).toBe('SSL_INT_0');
    fs.writeFileSync(path.join(host.roots.etc, 'sysconfig', 'qat'), 'POLICY=2\n');
    const r = spawnSync(process.execPath, [QATCTL, 'rescan', '--run-dir', host.roots.run, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).deferred).toEqual(['SSL_INT_0']);
    await c.sectionPut('SSL_INT_0');
    await c.close();
    const s = await waitFor('the deferred section', async () => {
      const v = await admin<SectionsView>(d, 'sections');
      return v.sections.some((x) => x.vfs.length === 2 && x.vfs[0].bdf === '0000:6b:00.1') ? v : undefined;
    });
    expect(s.sections.map((x) => x.vfs.map((v) => v.bdf))).toEqual([['0000:6b:00.1', '0000:6b:00.2'], ['0000:6b:00.3', '0000:6b:00.4']]);
    expect((await events(d, ['rescan'])).map((e) => e.rescan!.trigger)).toEqual(['admin', 'release of SSL_INT_0']);
  });
});

describe('the heartbeat relay (the unprivileged daemon cannot read debugfs)', () => {
  it('takes the readings the relay pushes, judges them at once, and refuses a malformed push naming the field', async () => {
    const d = await daemon('4xxx:2x4', ['--heartbeat', 'relay']);
    expect((await admin<HealthView>(d, 'health')).heartbeat.source).toBe('waiting-for-relay');
    const relay = (): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [QATCTL, 'heartbeat-relay', '--once', '--sim-dir', d.host.dir], { encoding: 'utf8' });
    let r = relay();
    expect(r.status, String(r.stdout)).toBe(0);
    expect(JSON.parse(String(r.stdout)).answer).toEqual({ accepted: 2, unknown: [], ignored: null });
    expect((await admin<HealthView>(d, 'health')).heartbeat.source).toBe('relay');
    await inject(d.host.dir, 'heartbeat-fail', B);
    r = relay();
    expect(r.status).toBe(0);
    // judged when pushed, not at the next tick of the daemon's loop
    expect((await pfOf(d, B)).state).toBe('unhealthy');
    await expect(admin(d, 'heartbeat', { intervalMs: 500, samples: [{ pf: B, status: 1 }] })).rejects.toThrow('args.samples[0].status must be 0 (alive) or -1, got 1');
    await expect(admin(d, 'heartbeat', { intervalMs: 5, samples: [] })).rejects.toThrow(/args.intervalMs must be an integer 100..3600000/);
  });
});

describe('bad input', () => {
  it('a bad health option stops the daemon with a message naming it', async () => {
    const host = simHost('4xxx:1x4');
    const args = ['--foreground', '--sysfs-root', host.roots.sys, '--dev-root', host.roots.dev, '--run-dir', host.roots.run];
    for (const [opt, msg] of [
      [['--health-interval', 'often'], 'command line: --health-interval="often" is not a duration 0..3600000 ms'],
      [['--health-interval', '50ms'], 'command line: --health-interval="50ms" is below 100ms (0 turns the health loop off)'],
      [['--heartbeat', 'sometimes'], 'command line: --heartbeat="sometimes" is not one of auto, debugfs, relay, off'],
    ] as const) {
      const r = await runDaemonToExit([...args, ...opt]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(msg);
    }
  });

  it('an odd qat/state is said once, naming the file and the value, and changes nothing', async () => {
    const d = await daemon('4xxx:2x4', ['--debug', '1']);
    const file = path.join(d.host.roots.sys, 'bus', 'pci', 'devices', B, 'qat', 'state');
    fs.writeFileSync(file, 'sideways\n');
    await waitFor('the warning', async () => d.stderr().includes('is not up or down'));
    await new Promise((r) => setTimeout(r, 600));
    const lines = d.stderr().split('\n').filter((l) => l.includes('is not up or down'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${file}: \\"sideways\\" is not up or down; keeping the last known state`);
    expect((await pfOf(d, B)).state).toBe('healthy');
    fs.writeFileSync(file, 'up\n');
    await waitFor('the all-clear', async () => d.stderr().includes('reads well again') || d.stdout().includes('reads well again'));
  });

  it('qatctl simulate --inject names an unknown fault or PF', () => {
    const host = simHost('4xxx:1x4');
    const run = (args: string[]) => spawnSync(process.execPath, [QATCTL, 'simulate', '--inject', ...args, '--sim-dir', host.dir], { encoding: 'utf8' });
    let r = run(['melt', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown fault "melt"/);
    r = run(['down', '0000:99:00.0']);
    expect(r.stderr).toMatch(/no PF "0000:99:00.0"/);
    r = run(['down']);
    expect(r.stderr).toMatch(/--inject down needs exactly one PF/);
  });
});
