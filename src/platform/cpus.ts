// Online CPUs and NUMA nodes (the CPU table that core_affinity is drawn from), with upstream's gaps fixed.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { readAttr, listDir } from './fsio.js';
import { MAX_NUMA_NODES } from '../kernel/numa.js';

/** CPU numbers go into 16-bit `core` fields of INSTANCE_INFO: a larger one cannot be served. */
export const MAX_CPU_ID = 0xffff;

export interface CpuTable {
  online: number[];
  /** CPUs of each node (index = node number); an empty or unknown node falls back to all online CPUs. */
  nodes: number[][];
  /** Nodes whose CPU list is that fallback (no online CPU of their own): no process runs on them. */
  cpuless?: number[];
  /** Remarks worth logging (empty nodes, missing files). */
  notes: string[];
}

/** Parse a kernel CPU list such as "0-3,8,10-11". */
export function parseCpuList(text: string): number[] | undefined {
  const t = text.trim();
  if (t === '') return [];
  const out: number[] = [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || b > MAX_CPU_ID) return undefined;
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

export function readCpuTable(roots: Roots): CpuTable {
  const notes: string[] = [];
  const sysCpu = path.join(roots.sys, 'devices', 'system', 'cpu', 'online');
  const onlineRaw = readAttr(sysCpu);
  let online = onlineRaw.ok ? parseCpuList(onlineRaw.text) : undefined;
  if (!online || online.length === 0) {
    notes.push(`${sysCpu}: unreadable or empty; assuming CPU 0 only`);
    online = [0];
  }
  const nodeDir = path.join(roots.sys, 'devices', 'system', 'node');
  const nodeNames: string[] = [];
  for (const n of listDir(nodeDir) ?? []) {
    if (!/^node\d+$/.test(n)) continue;
    if (Number(n.slice(4)) < MAX_NUMA_NODES && n === `node${Number(n.slice(4))}`) nodeNames.push(n);
    else notes.push(`${nodeDir}/${n.slice(0, 32)}: not a node number the kernel uses (0..${MAX_NUMA_NODES - 1}); ignored`);
  }
  const nodes: number[][] = [];
  const onlineSet = new Set(online);
  const cpuless: number[] = [];
  let maxNode = -1;
  for (const n of nodeNames) maxNode = Math.max(maxNode, Number(n.slice(4)));
  for (let i = 0; i <= maxNode; i++) {
    const r = readAttr(path.join(nodeDir, `node${i}`, 'cpulist'));
    const list = r.ok ? parseCpuList(r.text) : undefined;
    const usable = (list ?? []).filter((c) => onlineSet.has(c));
    if (usable.length === 0) {
      // upstream divides by zero here (quirk 18); we hand out all online CPUs instead
      if (nodeNames.includes(`node${i}`)) notes.push(`NUMA node ${i} has no online CPUs; its devices use all online CPUs`);
      // the one online list, not a copy per node (nodes are read, never changed)
      nodes.push(online);
      cpuless.push(i);
    } else {
      nodes.push(usable);
    }
  }
  if (nodes.length === 0) nodes.push(online);
  return { online, nodes, cpuless, notes };
}

/** The CPU list for a device's node; an out-of-range node (quirk 18) gets all online CPUs. */
export function cpusForNode(table: CpuTable, node: number): number[] {
  return table.nodes[node] ?? table.online;
}

/** NUMA nodes that share at least one CPU with `allowed` (nodes without CPUs of their own never do). */
export function nodesForCpus(allowed: number[], cpus: CpuTable): number[] {
  const set = new Set(allowed);
  const out: number[] = [];
  cpus.nodes.forEach((list, node) => {
    if (!cpus.cpuless?.includes(node) && list.some((c) => set.has(c))) out.push(node);
  });
  return out;
}

/**
 * The nodes a process may run on, the one its section should come from first. A process allowed on several nodes
 * prefers the node of the CPU it is running on now (`currentCpu`, asked only then), then the node holding more of its allowed CPUs,
 * then the lower number: the memory libqat allocates right after the handshake is placed on the node of the CPU
 * that touches it first, so the VF near that node is the local one.
 */
export function clientNodes(allowed: number[], currentCpu: () => number | undefined, cpus: CpuTable): number[] {
  const nodes = nodesForCpus(allowed, cpus);
  if (nodes.length < 2) return nodes;
  const set = new Set(allowed);
  const weight = new Map(nodes.map((n) => [n, cpus.nodes[n].filter((c) => set.has(c)).length]));
  const cpu = currentCpu();
  const here = cpu === undefined ? undefined : nodes.find((n) => cpus.nodes[n].includes(cpu));
  return nodes.sort((a, b) => (a === here ? -1 : b === here ? 1 : weight.get(b)! - weight.get(a)! || a - b));
}
