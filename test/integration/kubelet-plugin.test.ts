// The kubelet device plugin of the real daemon, against a kubelet stand-in over real gRPC on Unix sockets.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { spawnDaemon, holdSection, type Proc } from '../helpers/lifecycle-daemon.js';
import { QATCTL, ROOT } from '../helpers/daemon.js';
import { validate, type Schema } from './json-schema.js';
import { makeSim, type SimFixture } from '../helpers/lifecycle-sim.js';
import { inject } from '../../src/sim/inject.js';
import { KubeletStandIn, waitFor } from '../helpers/kubelet-standin.js';
import { cgroup2Root, FakePodCgroup } from '../helpers/pod-cgroup.js';

let sim: SimFixture | undefined;
let daemon: Proc | undefined;
let kubelet: KubeletStandIn | undefined;

afterEach(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) { daemon.proc.kill('SIGKILL'); await daemon.exited; }
  await kubelet?.stop();
  sim?.cleanup();
  sim = daemon = kubelet = undefined;
});

async function setUp(spec: string, flags: string[] = [], opts: { versions?: string[]; startKubelet?: boolean } = {}): Promise<{ sim: SimFixture; daemon: Proc; kubelet: KubeletStandIn }> {
  sim = makeSim(spec, 'qat-k8s-');
  kubelet = new KubeletStandIn(path.join(sim.dir, 'kubelet'), { versions: opts.versions });
  if (opts.startKubelet !== false) await kubelet.start();
  daemon = spawnDaemon([...sim.args, '--kubelet-plugin', '--kubelet-dir', kubelet.dir, '--kubelet-health-interval', '100ms', ...flags]);
  await daemon.waitLog((l) => l.event === 'ready');
  return { sim, daemon, kubelet };
}

describe('registration and ListAndWatch', () => {
  it('registers one resource per services set under Intel plugin names, each with its own socket, and lists every VF healthy with its NUMA node', async () => {
    const { kubelet: k } = await setUp('4xxx:2x4,numa=2');
    const cy = await k.plugin('qat.intel.com/cy');
    const dc = await k.plugin('qat.intel.com/dc');
    expect(cy.req).toMatchObject({ version: 'v1beta1', endpoint: 'qatmgr-cy.sock', options: { pre_start_required: false, get_preferred_allocation_available: true } });
    expect(dc.req.endpoint).toBe('qatmgr-dc.sock');
    expect(cy.options).toEqual({ pre_start_required: false, get_preferred_allocation_available: true });
    expect(cy.lists[0].map((d) => [d.ID, d.health, d.topology?.nodes.map((n) => n.ID)])).toEqual([
      ['0000:6b:00.1', 'Healthy', [0]], ['0000:6b:00.2', 'Healthy', [0]], ['0000:6b:00.3', 'Healthy', [0]], ['0000:6b:00.4', 'Healthy', [0]],
    ]);
    expect(dc.lists[0].map((d) => [d.ID, d.topology?.nodes.map((n) => n.ID)])).toEqual([
      ['0000:70:00.1', [1]], ['0000:70:00.2', [1]], ['0000:70:00.3', [1]], ['0000:70:00.4', [1]],
    ]);
    expect(k.plugins.has('qat.intel.com/managed')).toBe(false);
    const v = kubeletJson(sim!);
    expect(v.resources.map((r) => [r.name, r.kind, r.endpoint, (r.registration as { state: string }).state, r.devices, r.healthy])).toEqual([
      ['qat.intel.com/cy', 'standalone', 'qatmgr-cy.sock', 'registered', 4, 4], ['qat.intel.com/dc', 'standalone', 'qatmgr-dc.sock', 'registered', 4, 4],
    ]);
    const table = execFileSync(process.execPath, [QATCTL, 'kubelet', '--run-dir', sim!.roots.run], { encoding: 'utf8' });
    expect(table).toMatch(/qat\.intel\.com\/cy\s+qatmgr-cy\.sock\s+registered/);
  });

  it('answers qatctl kubelet with exit status 2 and a plain reason when the plugin is off', async () => {
    sim = makeSim('4xxx:1x2', 'qat-k8s-');
    daemon = spawnDaemon(sim.args);
    await daemon.waitLog((l) => l.event === 'ready');
    const r = spawnSync(process.execPath, [QATCTL, 'kubelet', '--run-dir', sim.roots.run], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the kubelet plugin is off (start qatmgr with --kubelet-plugin)');
  });
});

const pfState = (s: SimFixture, pf: string): string => path.join(s.roots.sys, 'bus', 'pci', 'devices', pf, 'qat', 'state');
const vfioNodeOf = (s: SimFixture, vf: string): string => path.join(s.roots.dev, 'vfio', path.basename(fs.readlinkSync(path.join(s.roots.sys, 'bus', 'pci', 'devices', vf, 'iommu_group'))));
const healthOf = (list: Array<{ ID: string; health: string }>): Record<string, string> => Object.fromEntries(list.map((d) => [d.ID, d.health]));

describe('ListAndWatch updates', () => {
  it('marks every VF of a PF whose qat/state goes down Unhealthy, and Healthy again when it comes back up, leaving other PFs alone', async () => {
    const { sim: s, kubelet: k } = await setUp('4xxx:2x2,services=sym;asym');
    await k.plugin('qat.intel.com/cy');
    fs.writeFileSync(pfState(s, '0000:70:00.0'), 'down\n');
    const down = await k.waitList('qat.intel.com/cy', (l) => l.some((d) => d.health === 'Unhealthy'), 'a VF Unhealthy');
    expect(healthOf(down)).toEqual({ '0000:6b:00.1': 'Healthy', '0000:6b:00.2': 'Healthy', '0000:70:00.1': 'Unhealthy', '0000:70:00.2': 'Unhealthy' });
    fs.writeFileSync(pfState(s, '0000:70:00.0'), 'up\n');
    const up = await k.waitList('qat.intel.com/cy', (l) => l.every((d) => d.health === 'Healthy'), 'all Healthy again');
    expect(up).toHaveLength(4);
  });

  it('takes PF health from the health loop: a failed firmware heartbeat makes the PF\'s VFs Unhealthy, recovery Healthy', async () => {
    const { sim: s, kubelet: k } = await setUp('4xxx:2x2,services=sym;asym', ['--health-interval', '200ms', '--health-recover', '500ms']);
    await k.plugin('qat.intel.com/cy');
    await inject(path.join(s.dir, 'host'), 'heartbeat-fail', '0000:70:00.0');
    const down = await k.waitList('qat.intel.com/cy', (l) => l.some((d) => d.health === 'Unhealthy'), 'a VF Unhealthy');
    expect(healthOf(down)).toEqual({ '0000:6b:00.1': 'Healthy', '0000:6b:00.2': 'Healthy', '0000:70:00.1': 'Unhealthy', '0000:70:00.2': 'Unhealthy' });
    await inject(path.join(s.dir, 'host'), 'heartbeat-ok', '0000:70:00.0');
    await k.waitList('qat.intel.com/cy', (l) => l.every((d) => d.health === 'Healthy'), 'all Healthy again');
  });

  it('drops a VF whose /dev/vfio node vanishes from the list and lists it again when the node is back', async () => {
    const { sim: s, kubelet: k } = await setUp('4xxx:1x3');
    await k.plugin('qat.intel.com/cy');
    const node = vfioNodeOf(s, '0000:6b:00.2');
    fs.renameSync(node, `${node}.away`);
    const gone = await k.waitList('qat.intel.com/cy', (l) => l.length === 2, 'the VF gone');
    expect(gone.map((d) => d.ID)).toEqual(['0000:6b:00.1', '0000:6b:00.3']);
    fs.renameSync(`${node}.away`, node);
    const back = await k.waitList('qat.intel.com/cy', (l) => l.length === 3, 'the VF back');
    expect(back.map((d) => d.ID)).toEqual(['0000:6b:00.1', '0000:6b:00.2', '0000:6b:00.3']);
  });

  it('marks a VF taken out of service with qatctl drain Unhealthy until it is undrained', async () => {
    const { sim: s, kubelet: k } = await setUp('4xxx:1x2');
    await k.plugin('qat.intel.com/cy');
    const ctl = (...a: string[]): string => execFileSync(process.execPath, [QATCTL, ...a, '--run-dir', s.roots.run], { encoding: 'utf8' });
    ctl('drain', '0000:6b:00.2', '--reason', 'bad cable');
    const l = await k.waitList('qat.intel.com/cy', (x) => x.some((d) => d.health === 'Unhealthy'), 'the drained VF Unhealthy');
    expect(healthOf(l)).toEqual({ '0000:6b:00.1': 'Healthy', '0000:6b:00.2': 'Unhealthy' });
    ctl('undrain', '0000:6b:00.2');
    await k.waitList('qat.intel.com/cy', (x) => x.every((d) => d.health === 'Healthy'), 'Healthy again');
  });
});

describe('Allocate and GetPreferredAllocation (VFs given directly)', () => {
  it('answers Allocate with each VF\'s VFIO group node and /dev/vfio/vfio, read-write, and QAT0..n, QAT_POLICY and the memlock hint', async () => {
    const { sim: s, kubelet: k } = await setUp('4xxx:1x4');
    await k.plugin('qat.intel.com/cy');
    const r = await k.allocate('qat.intel.com/cy', [['0000:6b:00.3', '0000:6b:00.1'], ['0000:6b:00.2']]);
    expect(r.container_responses).toHaveLength(2);
    const [a, b] = r.container_responses;
    const g3 = path.basename(vfioNodeOf(s, '0000:6b:00.3'));
    const g1 = path.basename(vfioNodeOf(s, '0000:6b:00.1'));
    expect(a.devices).toEqual([
      { container_path: `/dev/vfio/${g3}`, host_path: path.join(s.roots.dev, 'vfio', g3), permissions: 'rw' },
      { container_path: `/dev/vfio/${g1}`, host_path: path.join(s.roots.dev, 'vfio', g1), permissions: 'rw' },
      { container_path: '/dev/vfio/vfio', host_path: path.join(s.roots.dev, 'vfio', 'vfio'), permissions: 'rw' },
    ]);
    expect(a.envs).toEqual({ QAT0: '0000:6b:00.3', QAT1: '0000:6b:00.1', QAT_POLICY: '2', QATMGR_MEMLOCK_BYTES: String((2 * 16 + 64) * 1024 * 1024) });
    expect(a.mounts).toEqual([]);
    expect(a.annotations).toEqual({});
    expect(b.envs.QAT0).toBe('0000:6b:00.2');
    expect(b.envs.QAT_POLICY).toBe('1');
    expect(b.devices.map((d) => d.container_path)).toEqual([`/dev/vfio/${path.basename(vfioNodeOf(s, '0000:6b:00.2'))}`, '/dev/vfio/vfio']);
  });

  it('refuses Allocate of an unknown device ID, or of one asked for twice, with INVALID_ARGUMENT naming it', async () => {
    const { kubelet: k } = await setUp('4xxx:1x2');
    await k.plugin('qat.intel.com/cy');
    await expect(k.allocate('qat.intel.com/cy', [['0000:6b:00.1'], ['0000:99:00.1']])).rejects.toMatchObject({ code: 3, details: expect.stringContaining('unknown device ID "0000:99:00.1"') });
    await expect(k.allocate('qat.intel.com/cy', [['0000:6b:00.1'], ['0000:6b:00.1']])).rejects.toMatchObject({ code: 3, details: expect.stringContaining('"0000:6b:00.1" is asked for twice') });
  });

  it('prefers VFs of one NUMA node on a two-node host, spread over that node\'s PFs, and honours must-include devices', async () => {
    const { kubelet: k } = await setUp('4xxx:4x2,numa=2,services=sym;asym');
    const cy = await k.plugin('qat.intel.com/cy');
    const nodeOf = Object.fromEntries(cy.lists[0].map((d) => [d.ID, d.topology!.nodes[0].ID]));
    expect(Object.values(nodeOf)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    const all = Object.keys(nodeOf);
    const r = await k.preferred('qat.intel.com/cy', [
      // node 1 has more free devices offered: the pick stays there, one VF of each of its PFs first
      { available: ['0000:6b:00.1', '0000:75:00.1', '0000:75:00.2', '0000:7a:00.1', '0000:7a:00.2'], size: 2 },
      // a must-include device on node 0 keeps the rest on node 0
      { available: all, mustInclude: ['0000:70:00.2'], size: 3 },
      // more than one node holds: as few other nodes as possible
      { available: ['0000:6b:00.1', '0000:6b:00.2', '0000:75:00.1'], size: 3 },
    ]);
    const [one, two, three] = r.container_responses.map((c) => c.deviceIDs);
    expect(one).toEqual(['0000:75:00.1', '0000:7a:00.1']);
    expect(two[0]).toBe('0000:70:00.2');
    expect(two.map((id) => nodeOf[id])).toEqual([0, 0, 0]);
    expect(new Set(two.slice(1).map((id) => id.slice(0, 7)))).toEqual(new Set(['0000:6b']));
    expect(three.sort()).toEqual(['0000:6b:00.1', '0000:6b:00.2', '0000:75:00.1']);
    await expect(k.preferred('qat.intel.com/cy', [{ available: ['0000:6b:00.1'], size: 2 }])).rejects.toMatchObject({ code: 3, details: expect.stringContaining('allocation_size 2 is more than the 1 available') });
  });
});

describe('the kubelet coming and going', () => {
  it('registers again, on a fresh socket, within a few seconds of a kubelet restart that cleared the device-plugins directory', async () => {
    const { daemon: d, kubelet: k } = await setUp('4xxx:1x2');
    await k.plugin('qat.intel.com/cy');
    const t0 = Date.now();
    await k.restart();
    const again = await k.plugin('qat.intel.com/cy', 15_000);
    const ms = Date.now() - t0;
    expect(again.lists[0].map((x) => x.ID)).toEqual(['0000:6b:00.1', '0000:6b:00.2']);
    expect(fs.existsSync(path.join(k.pluginsDir, 'qatmgr-cy.sock'))).toBe(true);
    expect(ms).toBeLessThan(15_000);
    await d.waitLog((l) => l.event === 'kubelet_restarted');
    console.log(`kubelet restart -> registered again in ${ms} ms`);
  });

  it('says plainly that the kubelet is not there, keeps serving its host, and registers once the kubelet appears', async () => {
    const { daemon: d, kubelet: k } = await setUp('4xxx:1x2', ['--kubelet-standalone', '1'], { startKubelet: false });
    const err = await d.waitLog((l) => l.event === 'kubelet_register_failed');
    expect(String(err.msg)).toContain(`the kubelet's registration socket ${path.join(k.pluginsDir, 'kubelet.sock')} does not exist`);
    // the host still gets its section (the one not given to the kubelet)
    const host = await holdSection(path.join(sim!.roots.run, 'qatmgr.sock'));
    expect(host.section).toBe('SSL_INT_1');
    await host.kill();
    await k.start();
    await k.plugin('qat.intel.com/cy', 15_000);
  });

  it('reports a kubelet that speaks another device-plugin API version, registers nothing, and keeps serving its host', async () => {
    const { daemon: d, kubelet: k } = await setUp('4xxx:1x2', ['--kubelet-standalone', '1'], { versions: ['v1beta2'] });
    const err = await d.waitLog((l) => l.event === 'kubelet_register_failed');
    expect(String(err.msg)).toContain('"v1beta1" is not supported');
    expect(k.plugins.size).toBe(0);
    const host = await holdSection(path.join(sim!.roots.run, 'qatmgr.sock'));
    expect(host.section).toBe('SSL_INT_1');
    await host.kill();
  });
});

interface PodClient { proc: ChildProcess; pid: number; go(): Promise<{ section?: string; vfs?: string[]; error?: string }>; kill(): Promise<void> }

/** A libqat stand-in that waits to be moved into a pod's cgroup before it asks `socket` for a section. */
async function podClient(socket: string): Promise<PodClient> {
  const proc = spawn(process.execPath, [path.resolve('test/fixtures/pod-client.mjs'), socket], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (d) => { buf += d; const parts = buf.split('\n'); buf = parts.pop()!; lines.push(...parts); });
  const first = JSON.parse(await waitFor('the pod client to start', () => lines[0])) as { pid: number };
  return {
    proc, pid: first.pid,
    async go() {
      proc.stdin!.write('go\n');
      return JSON.parse(await waitFor('the pod client to get an answer', () => lines[1]));
    },
    kill: () => new Promise<void>((res) => { if (proc.exitCode !== null || proc.signalCode !== null) res(); else { proc.once('exit', () => res()); proc.kill('SIGKILL'); } }),
  };
}

const cg = cgroup2Root();
const clients: PodClient[] = [];
const cgroups: FakePodCgroup[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.kill();
  for (const g of cgroups.splice(0)) g.cleanup();
});
function fakePod(): FakePodCgroup {
  const g = new FakePodCgroup((cg as { root: string }).root);
  cgroups.push(g);
  return g;
}
async function clientIn(pod: FakePodCgroup | undefined, socket: string): Promise<PodClient> {
  const c = await podClient(socket);
  clients.push(c);
  pod?.add(c.pid);
  return c;
}
const refusals = (s: SimFixture): string[] =>
  JSON.parse(execFileSync(process.execPath, [QATCTL, 'events', '--json', '--run-dir', s.roots.run], { encoding: 'utf8' })).events.filter((e: { kind: string }) => e.kind === 'refusal').map((e: { reason: string }) => e.reason);
/** `qatctl <cmd> --json`, checked against schemas/<cmd>.json. */
function ctlJson<T>(s: SimFixture, cmd: string): T {
  const v = JSON.parse(execFileSync(process.execPath, [QATCTL, cmd, '--json', '--run-dir', s.roots.run], { encoding: 'utf8' }));
  expect(validate(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', `${cmd}.json`), 'utf8')) as Schema, v)).toEqual([]);
  return v as T;
}
const kubeletJson = (s: SimFixture) => ctlJson<{ reservations: Array<Record<string, unknown>>; resources: Array<Record<string, unknown>> }>(s, 'kubelet');
const allocationsJson = (s: SimFixture) => ctlJson<{ allocations: Array<{ section: string; pid: number; adopted: boolean; pod: { uid: string | null; containerId: string | null; namespace: string | null; name: string | null; container: string | null } | null }> }>(s, 'allocations').allocations;

describe.skipIf('why' in cg)(`managed mode: sections reserved for a container and granted to its processes${'why' in cg ? ` (skipped: ${cg.why})` : ''}`, () => {
  const MANAGED = 'qat.intel.com/managed';

  it('reserves the allocated section, mounts its socket directory read-only at /run/qat, and grants exactly that section to a process of the pod, not to a host process', async () => {
    const { sim: s, daemon: d, kubelet: k } = await setUp('4xxx:2x4', ['--kubelet-managed', '2', '--kubelet-standalone', '1']);
    const m = await k.plugin(MANAGED);
    expect(m.lists[0].map((x) => [x.ID, x.health, x.topology?.nodes.map((n) => n.ID)])).toEqual([['SSL_INT_0', 'Healthy', [0]], ['SSL_INT_1', 'Healthy', [0]]]);
    const r = await k.allocate(MANAGED, [['SSL_INT_1']]);
    const resp = r.container_responses[0];
    const dir = path.join(s.roots.run, 'k8s', 'SSL_INT_1');
    expect(resp.mounts).toEqual([{ container_path: '/run/qat', host_path: dir, read_only: true }]);
    expect(resp.envs).toEqual({ QATMGR_RESERVATION: 'SSL_INT_1', QATMGR_SECTIONS: 'SSL_INT_1', QAT_POLICY: '2', QATMGR_MEMLOCK_BYTES: String((2 * 16 + 64) * 1024 * 1024) });
    expect(resp.devices.map((x) => x.container_path)).toEqual([
      `/dev/vfio/${path.basename(vfioNodeOf(s, '0000:6b:00.2'))}`, `/dev/vfio/${path.basename(vfioNodeOf(s, '0000:70:00.2'))}`, '/dev/vfio/vfio',
    ]);
    const sock = path.join(dir, 'qatmgr.sock');
    expect(fs.statSync(sock).isSocket()).toBe(true);

    // a host process on the reservation's socket: refused, the section stays free
    const stranger = await clientIn(undefined, sock);
    expect((await stranger.go()).error).toContain('No section available');
    expect(refusals(s).at(-1)).toContain(`pid ${stranger.pid} is in no Kubernetes pod`);

    const pod = fakePod();
    const c = await clientIn(pod, sock);
    const got = await c.go();
    expect(got).toMatchObject({ section: 'SSL_INT_1', vfs: ['0000:6b:00.2', '0000:70:00.2'] });
    const bound = await d.waitLog((l) => l.event === 'reservation_bound');
    expect(bound).toMatchObject({ reservation: 'SSL_INT_1', podUid: pod.podUid, containerId: pod.containerId, qos: 'besteffort', cgroupDriver: 'systemd', runtime: 'containerd' });

    // another pod cannot use this reservation's socket
    const other = await clientIn(fakePod(), sock);
    expect((await other.go()).error).toContain('No section available');
    expect(refusals(s).at(-1)).toContain(`belongs to pod ${pod.podUid}`);

    // a host process on the client socket gets the host's section (SSL_INT_3), never a kubelet one
    const host = await holdSection(path.join(s.roots.run, 'qatmgr.sock'));
    expect(host.section).toBe('SSL_INT_3');
    await host.kill();
  });

  it('shows the pod namespace, name and container in qatctl allocations once the kubelet lists the container', async () => {
    const { sim: s, daemon: d, kubelet: k } = await setUp('4xxx:2x4', ['--kubelet-managed', '2']);
    await k.plugin(MANAGED);
    await k.allocate(MANAGED, [['SSL_INT_0']]);
    k.admit('shop', 'nginx-7d9f', 'web', MANAGED, ['SSL_INT_0']);
    const pod = fakePod();
    const c = await clientIn(pod, path.join(s.roots.run, 'k8s', 'SSL_INT_0', 'qatmgr.sock'));
    expect((await c.go()).section).toBe('SSL_INT_0');
    await d.waitLog((l) => l.event === 'reservation_named');
    const rows = allocationsJson(s);
    expect(rows).toEqual([expect.objectContaining({ section: 'SSL_INT_0', pid: c.pid, pod: { uid: pod.podUid, containerId: pod.containerId, namespace: 'shop', name: 'nginx-7d9f', container: 'web' } })]);
    const table = execFileSync(process.execPath, [QATCTL, 'allocations', '--run-dir', s.roots.run], { encoding: 'utf8' });
    expect(table).toContain('shop/nginx-7d9f/web');
  });

  it('refuses to Allocate a section again while a process of its reservation still holds it: nothing is reserved twice', async () => {
    const { sim: s, kubelet: k } = await setUp('4xxx:2x4', ['--kubelet-managed', '2']);
    await k.plugin(MANAGED);
    await k.allocate(MANAGED, [['SSL_INT_0']]);
    const c = await clientIn(fakePod(), path.join(s.roots.run, 'k8s', 'SSL_INT_0', 'qatmgr.sock'));
    expect((await c.go()).section).toBe('SSL_INT_0');
    await expect(k.allocate(MANAGED, [['SSL_INT_0', 'SSL_INT_1']])).rejects.toMatchObject({ code: 9, details: expect.stringContaining(`SSL_INT_0 is still held by pid ${c.pid}`) });
    await expect(k.allocate(MANAGED, [['SSL_INT_7']])).rejects.toMatchObject({ code: 3, details: expect.stringContaining('unknown device ID "SSL_INT_7"') });
    const v = kubeletJson(s);
    expect(v.reservations.map((r) => [r.key, r.sections])).toEqual([['SSL_INT_0', ['SSL_INT_0']]]);
  });

  it('after a restart of the daemon takes its reservations back from the ledger, opens their sockets again and confirms them with Pod Resources', async () => {
    const { sim: s, daemon: first, kubelet: k } = await setUp('4xxx:2x4', ['--kubelet-managed', '2']);
    await k.plugin(MANAGED);
    await k.allocate(MANAGED, [['SSL_INT_1']]);
    k.admit('shop', 'api-0', 'main', MANAGED, ['SSL_INT_1']);
    const pod = fakePod();
    const sock = path.join(s.roots.run, 'k8s', 'SSL_INT_1', 'qatmgr.sock');
    const c = await clientIn(pod, sock);
    expect((await c.go()).section).toBe('SSL_INT_1');
    first.proc.kill('SIGKILL');
    await first.exited;

    daemon = spawnDaemon([...s.args, '--kubelet-plugin', '--kubelet-dir', k.dir, '--kubelet-managed', '2']);
    const restored = await daemon.waitLog((l) => l.event === 'reservation_restored');
    expect(restored).toMatchObject({ reservation: 'SSL_INT_1', pod: { uid: pod.podUid, containerId: pod.containerId } });
    await daemon.waitLog((l) => l.event === 'ready');
    expect(fs.statSync(sock).isSocket()).toBe(true);
    // the process that held it keeps it (adopted), and is shown as that pod's
    const rows = allocationsJson(s);
    expect(rows).toEqual([expect.objectContaining({ section: 'SSL_INT_1', pid: c.pid, adopted: true, pod: expect.objectContaining({ uid: pod.podUid, namespace: 'shop', name: 'api-0', container: 'main' }) })]);
    await waitFor('a Pod Resources answer', () => k.listCalls > 0);
    // a new process of the same container reaches the daemon through the same mounted directory
    await c.kill();
    await daemon.waitLog((l) => l.event === 'release' && l.section === 'SSL_INT_1');
    const again = await clientIn(pod, sock);
    expect((await again.go()).section).toBe('SSL_INT_1');
  });

  it('recovers a reservation from the Pod Resources list when the ledger is lost', async () => {
    const { sim: s, daemon: first, kubelet: k } = await setUp('4xxx:2x4', ['--kubelet-managed', '2']);
    await k.plugin(MANAGED);
    await k.allocate(MANAGED, [['SSL_INT_0'], ['SSL_INT_1']]);
    // SSL_INT_1's container never started: the kubelet lists only SSL_INT_0's
    k.admit('batch', 'zip-1', 'worker', MANAGED, ['SSL_INT_0']);
    first.proc.kill('SIGKILL');
    await first.exited;
    fs.rmSync(path.join(s.roots.run, 'qatmgr.ledger'));

    daemon = spawnDaemon([...s.args, '--kubelet-plugin', '--kubelet-dir', k.dir, '--kubelet-managed', '2']);
    const rec = await daemon.waitLog((l) => l.event === 'reservation_recovered');
    expect(rec).toMatchObject({ reservation: 'SSL_INT_0', namespace: 'batch', pod: 'zip-1', container: 'worker' });
    const v = kubeletJson(s);
    expect(v.reservations).toEqual([expect.objectContaining({ key: 'SSL_INT_0', sections: ['SSL_INT_0'], pod: { namespace: 'batch', name: 'zip-1', container: 'worker', uid: null, containerId: null } })]);
    const c = await clientIn(fakePod(), path.join(s.roots.run, 'k8s', 'SSL_INT_0', 'qatmgr.sock'));
    expect((await c.go()).section).toBe('SSL_INT_0');
    // and the ledger has it again
    const ledger = JSON.parse(fs.readFileSync(path.join(s.roots.run, 'qatmgr.ledger'), 'utf8').split('\n')[0]);
    expect(ledger.format).toBe('qatmgr-ledger/3');
    expect(ledger.reservations.map((r: { key: string }) => r.key)).toEqual(['SSL_INT_0']);
  });

  it('ends a used reservation the kubelet no longer lists (its pod was deleted while the daemon was down) and gives its section back to the pool', async () => {
    const { sim: s, daemon: first, kubelet: k } = await setUp('4xxx:2x4', ['--kubelet-managed', '2']);
    await k.plugin(MANAGED);
    await k.allocate(MANAGED, [['SSL_INT_0']]);
    k.admit('web', 'shop-1', 'app', MANAGED, ['SSL_INT_0']);
    const c = await clientIn(fakePod(), path.join(s.roots.run, 'k8s', 'SSL_INT_0', 'qatmgr.sock'));
    expect((await c.go()).section).toBe('SSL_INT_0');
    await first.waitLog((l) => l.event === 'reservation_named');
    await c.kill();
    first.proc.kill('SIGTERM');
    await first.exited;
    k.pods = [];

    daemon = spawnDaemon([...s.args, '--kubelet-plugin', '--kubelet-dir', k.dir, '--kubelet-managed', '2']);
    const end = await daemon.waitLog((l) => l.event === 'reservation_end');
    expect(end).toMatchObject({ reservation: 'SSL_INT_0', why: expect.stringContaining('its pod has ended') });
    expect(kubeletJson(s).reservations).toEqual([]);
    expect(fs.existsSync(path.join(s.roots.run, 'k8s', 'SSL_INT_0'))).toBe(false);
    // the kubelet may give it to another pod now
    const r = await k.allocate(MANAGED, [['SSL_INT_0']]);
    expect(r.container_responses[0].envs.QATMGR_RESERVATION).toBe('SSL_INT_0');
  });
});
