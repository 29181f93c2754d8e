// Bench: what NumaAware costs per grant (lookup in /proc + the allocator's choice, on and off side by side) and what
// it buys: the share of local grants on a 2-node simulated host with clients pinned by taskset, feature off and on.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { renderTable } from '../src/text/table.js';
import { discover } from '../src/platform/discover.js';
import { buildPlan } from '../src/sections/plan.js';
import { Allocator, NO_RULES, type GrantRules, type Holder } from '../src/sections/allocator.js';
import { FallbackCapabilitySource } from '../src/devices/capabilities.js';
import { clientReader } from '../src/server/client-facts.js';
import { schedGetAffinity } from '../src/native/libc.js';
import { parseShareRule } from '../src/config/shares.js';
import { silentLogger } from '../src/log.js';
import { AdminClient } from '../src/admin/client.js';
import type { AllocationsView } from '../src/admin/views.js';
import { simulatedRoots } from '../src/config/roots.js';
import { buildC, tree, startOurs, runLoad, median, fmt, pointSeconds, repeats, REPO, RUNROOT } from './lib.js';

/** Two nodes of one CPU each, so that `taskset -c 0|1` puts a client on node 0|1 of a 2-core machine. */
export const SPEC = '4xxx:2x16,numa=2,cpus=2';
const GRANTS = 20_000;

interface CostCase { name: string; rules: GrantRules; pid: 'pinned' | 'both'; affinity: boolean; note: string }

/** µs per grant+release through the allocator, reading the client's facts as the handler does (once per connection). */
function grantCost(c: CostCase, dir: string, policy: number, pid: number): number {
  const inv = discover(simulatedRoots(dir), silentLogger());
  const caps = new FallbackCapabilitySource();
  const a = new Allocator(buildPlan(inv, policy, (vf) => caps.capsFor(vf), { perNode: c.rules.numa !== 'off' }));
  a.configure(c.rules);
  const read = clientReader('/proc', inv.cpus, c.rules, c.affinity ? schedGetAffinity : undefined);
  const base: Holder = { connId: 0, pid, uid: 0, gid: 0, processName: 'SSL', since: 0, requests: 0 };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < GRANTS; i++) {
    const h: Holder = { ...base, connId: i + 1, client: read?.(pid) };
    const s = a.tryAcquire(h).section;
    if (!s) throw new Error(`${c.name}: refused`);
    a.release(s, h.connId, 'put');
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / GRANTS;
}

const noIds = { user: () => undefined, group: () => undefined };

/** A process to look up: pinned to CPU 1 (node 1 of SPEC) or allowed on both CPUs. */
function sleeper(cpus?: string): ChildProcess {
  const argv = cpus ? ['taskset', '-c', cpus, 'sleep', '600'] : ['sleep', '600'];
  return spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
}

async function costTable(dir: string): Promise<string> {
  const prefer: GrantRules = { numa: 'prefer', shares: [] };
  const cases: CostCase[] = [
    { name: 'NumaAware=off (upstream first fit)', rules: NO_RULES, pid: 'pinned', affinity: true, note: 'nothing' },
    { name: 'prefer, client on one node', rules: prefer, pid: 'pinned', affinity: true, note: 'sched_getaffinity' },
    { name: 'strict, client on one node', rules: { numa: 'strict', shares: [] }, pid: 'pinned', affinity: true, note: 'sched_getaffinity' },
    { name: 'prefer, client on both nodes', rules: prefer, pid: 'both', affinity: true, note: 'sched_getaffinity + /proc/<pid>/stat (its CPU now)' },
    { name: 'prefer, client on one node, no syscall', rules: prefer, pid: 'pinned', affinity: false, note: '/proc/<pid>/status (the fallback)' },
    { name: 'prefer + a unit share', rules: { numa: 'prefer', shares: [parseShareRule('nginx.service: max 4096', 'bench:1', noIds)] }, pid: 'pinned', affinity: true, note: 'sched_getaffinity + /proc/<pid>/cgroup' },
  ];
  const pinned = sleeper('1');
  const both = sleeper();
  await new Promise((r) => setTimeout(r, 200)); // taskset has exec'd sleep
  const reps = Math.max(5, repeats());
  const rows: string[][] = [];
  try {
    // POLICY=1: sections of one node each (with POLICY=0 every section spans both nodes: nothing to choose)
    for (const policy of [1]) {
      const us = cases.map((c) => {
        const pid = (c.pid === 'pinned' ? pinned : both).pid!;
        grantCost(c, dir, policy, pid); // warm-up (JIT)
        return median(Array.from({ length: reps }, () => grantCost(c, dir, policy, pid)));
      });
      cases.forEach((c, i) => rows.push([String(policy), c.name, fmt(us[i], 2), i === 0 ? '-' : fmt(us[i] - us[0], 2), c.note]));
    }
  } finally {
    pinned.kill();
    both.kill();
  }
  return renderTable(['policy', 'rules', 'us per grant', 'added vs off', 'read per grant'], rows);
}

async function daemonTable(): Promise<string> {
  const { loadgen } = buildC();
  const dir = tree(SPEC);
  const secs = pointSeconds();
  const reps = repeats();
  const modes = ['off', 'prefer'];
  const servers = await Promise.all(modes.map((m) => startOurs(dir, 1, path.join(RUNROOT, `numa-${m}`), {}, [`--numa-aware=${m}`])));
  const results = new Map<string, Array<{ hs: number; cpu: number }>>(modes.map((m) => [m, []]));
  try {
    for (let i = 0; i < reps; i++) {
      // alternate which mode goes first, so load from elsewhere hits both alike
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const r = await runLoad(loadgen, servers[k].socket, 8, secs, servers[k].pid);
        results.get(modes[k])!.push({ hs: r.handshakesPerSec, cpu: r.serverCpuUsPerHandshake });
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return renderTable(['--numa-aware', 'handshakes/s', 'server CPU us/handshake'], modes.map((m) => {
    const rs = results.get(m)!;
    return [m, fmt(median(rs.map((r) => r.hs))), fmt(median(rs.map((r) => r.cpu)))];
  }));
}

const HOLDER = `
const { QatClient } = await import(${JSON.stringify(path.join(REPO, 'dist', 'src', 'client', 'qatclient.js'))});
const c = await QatClient.connect(process.argv[1]);
try { process.stdout.write('HELD ' + await c.sectionGet('SSL') + '\\n'); } catch (e) { process.stdout.write('BAD ' + e.message + '\\n'); }
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));
`;

/** A client pinned to `cpu` that holds its section until its stdin closes; resolves with its answer. */
function pinnedHolder(socket: string, cpu: number): Promise<{ proc: ChildProcess; answer: string }> {
  const proc = spawn('taskset', ['-c', String(cpu), process.execPath, '--input-type=module', '-e', HOLDER, socket], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).once('line', (answer) => resolve({ proc, answer }));
    proc.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

/** Arrival order of clients on nodes 0/1: a fixed shuffle (the same in every mode). */
function arrivals(onNode0: number, onNode1: number): number[] {
  const order = [...Array(onNode0).fill(0), ...Array(onNode1).fill(1)];
  let seed = 12345;
  for (let i = order.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

async function localityTable(): Promise<string> {
  const dir = tree(SPEC);
  const workloads = [
    { name: '16 clients, 8 per node', policy: 1, order: arrivals(8, 8) },
    { name: '24 clients, 6 on node 0, 18 on node 1', policy: 1, order: arrivals(6, 18) },
    { name: '16 clients, 8 per node', policy: 0, order: arrivals(8, 8) },
  ];
  const rows: string[][] = [];
  for (const w of workloads) {
    for (const mode of ['off', 'prefer', 'strict']) {
      const run = path.join(RUNROOT, `numa-local-${mode}-p${w.policy}`);
      const server = await startOurs(dir, w.policy, run, {}, [`--numa-aware=${mode}`]);
      const held: ChildProcess[] = [];
      let refused = 0;
      try {
        for (const node of w.order) {
          const h = await pinnedHolder(server.socket, node);
          held.push(h.proc);
          if (!h.answer.startsWith('HELD ')) refused++;
        }
        const admin = await AdminClient.connect(path.join(run, 'qatmgr-admin.sock'));
        const v = await admin.request<AllocationsView>('allocations');
        admin.close();
        const local = v.allocations.filter((a) => a.local === true).length;
        rows.push([w.name, String(w.policy), mode, String(v.allocations.length), String(local), `${fmt((100 * local) / w.order.length)} %`, String(refused)]);
      } finally {
        for (const p of held) p.stdin!.end();
        await Promise.all(held.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
        await server.stop();
      }
    }
  }
  return renderTable(['workload (clients pinned by taskset)', 'policy', '--numa-aware', 'granted', 'local', 'local of all clients', 'refused'], rows);
}

export async function run(): Promise<void> {
  const dir = tree(SPEC);
  process.stdout.write(`\n== numa: cost per grant in the allocator (${GRANTS} grant+release, median of ${Math.max(5, repeats())}), ${SPEC} ==\n`);
  process.stdout.write(await costTable(dir));
  process.stdout.write(`\n== numa: full libqat handshakes through the daemon, policy 1, 8 clients (one lookup per connection), ${pointSeconds()} s x ${repeats()} alternating ==\n`);
  process.stdout.write(await daemonTable());
  process.stdout.write(`\n== numa: share of local grants on ${SPEC} (VF on a node the client may run on; from qatctl allocations) ==\n`);
  process.stdout.write(await localityTable());
}
