// A client's NUMA nodes, groups and cgroup from a fake /proc, and which node a process allowed on several is served from.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir, simHost } from '../../helpers/sim.js';
import { readCpuTable, nodesForCpus, clientNodes, type CpuTable } from '../../../src/platform/cpus.js';
import { readClientProcess, processCurrentCpu } from '../../../src/platform/processes.js';
import { clientReader } from '../../../src/server/client-facts.js';
import { parseShareRule } from '../../../src/config/shares.js';

const table: CpuTable = { online: [0, 1, 2, 3, 4, 5, 6, 7], nodes: [[0, 1, 2, 3], [4, 5, 6, 7]], cpuless: [], notes: [] };
const noIds = { user: () => undefined, group: () => undefined };

function fakeProc(pid: number, files: Record<string, string>): string {
  const root = tmpDir('qatmgr-proc-');
  fs.mkdirSync(path.join(root, String(pid)));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(root, String(pid), f), text);
  return root;
}
// a stat line whose command name holds a ')' (fields are counted after the last one): fields 4..38, then 39 = cpu
const stat = (cpu: number): string => `42 (a) b) S ${Array.from({ length: 35 }, (_, i) => i + 4).join(' ')} ${cpu} 0 0\n`;

describe('client nodes', () => {
  it('serves a process allowed on one node from that node, and never from a node without CPUs of its own', () => {
    expect(clientNodes([5], () => undefined, table)).toEqual([1]);
    expect(nodesForCpus([0, 1], { ...table, nodes: [[0, 1], [0, 1]], cpuless: [1] })).toEqual([0]);
  });

  it('puts first, for a process allowed on several nodes, the node it runs on, then the node with more of its CPUs', () => {
    expect(clientNodes([0, 1, 2, 3, 4, 5, 6, 7], () => 6, table)).toEqual([1, 0]);
    expect(clientNodes([3, 4, 5], () => undefined, table)).toEqual([1, 0]);
    expect(clientNodes([2, 3, 4, 5], () => undefined, table)).toEqual([0, 1]);
  });

  it('asks for the current CPU only when the process is allowed on more than one node', () => {
    let asked = 0;
    clientNodes([4], () => { asked++; return 0; }, table);
    expect(asked).toBe(0);
  });
});

describe('readClientProcess on a fake /proc', () => {
  const root = fakeProc(42, {
    status: 'Name:\tnginx\nUid:\t33\t33\t33\t33\nGroups:\t27 900 \nCpus_allowed:\tf0\nCpus_allowed_list:\t4-7\nMems_allowed_list:\t0-1\n',
    cgroup: '0::/system.slice/nginx.service\n',
    stat: stat(5),
  });

  it('reads only what is asked for', () => {
    expect(readClientProcess(root, 42, { cpus: true, groups: false, cgroup: false })).toEqual({ cpusAllowed: [4, 5, 6, 7], groups: null, cgroup: null });
    expect(readClientProcess(root, 42, { cpus: false, groups: true, cgroup: true })).toEqual({ cpusAllowed: null, groups: [27, 900], cgroup: '/system.slice/nginx.service' });
    expect(processCurrentCpu(root, 42)).toBe(5);
  });

  it('yields nulls for a process that is gone or a pid of 0', () => {
    expect(readClientProcess(root, 43, { cpus: true, groups: true, cgroup: true })).toEqual({ cpusAllowed: null, groups: null, cgroup: null });
    expect(readClientProcess(root, 0, { cpus: true, groups: true, cgroup: true })).toEqual({ cpusAllowed: null, groups: null, cgroup: null });
    expect(processCurrentCpu(root, 43)).toBeUndefined();
  });
});

describe('the edge reader of client facts', () => {
  it('is absent when the rules need nothing from /proc (NumaAware off, only uid and name shares)', () => {
    expect(clientReader('/proc', table, { numa: 'off', shares: [parseShareRule('uid:0: max 1', 'x:1', noIds), parseShareRule('name:SSL: min 1', 'x:2', noIds)] })).toBeUndefined();
  });

  it('reads the nodes for NumaAware and the cgroup for unit shares', () => {
    const root = fakeProc(42, { status: 'Name:\tx\nCpus_allowed_list:\t0-7\n', cgroup: '0::/system.slice/a.service\n', stat: stat(5) });
    const read = clientReader(root, table, { numa: 'prefer', shares: [parseShareRule('a.service: max 1', 'x:1', noIds)] })!;
    expect(read(42)).toEqual({ nodes: [1, 0], cgroup: '/system.slice/a.service' });
    expect(read(43)).toEqual({ nodes: null, cgroup: null });
  });

  it('reads nothing for NUMA on a host whose CPUs are all on one node: every client is on it', () => {
    const one = readCpuTable(simHost('4xxx:1x1').roots);
    expect(clientReader('/nonexistent', one, { numa: 'strict', shares: [] })!(42)).toEqual({ nodes: [0] });
  });
});
