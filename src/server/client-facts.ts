// What the grant rules need to know about a client, read from /proc at its SECTION_GET (once per connection).

import type { CpuTable } from '../platform/cpus.js';
import { clientNodes } from '../platform/cpus.js';
import { readClientProcess, processCurrentCpu } from '../platform/processes.js';
import type { ClientFacts, GrantRules } from '../sections/allocator.js';
import { shareNeeds } from '../sections/shares.js';
import type { ClientReader } from '../protocol/handler.js';

/**
 * A reader for `rules`, or undefined when they need nothing from /proc (NumaAware off and no unit or group share):
 * then no SECTION_GET pays for a read. On a host whose CPUs are all on one node every client is on that node, and
 * nothing is read for NUMA either. `affinity` reads a live process's CPUs by system call (the real /proc only).
 */
export function clientReader(
  pidsRoot: string, cpus: CpuTable, rules: GrantRules, affinity?: (pid: number) => number[] | undefined,
): ClientReader | undefined {
  const share = shareNeeds(rules.shares);
  const numa = rules.numa !== 'off';
  if (!numa && !share.cgroup && !share.groups) return undefined;
  const cpuNodes = cpus.nodes.map((_, n) => n).filter((n) => !cpus.cpuless?.includes(n));
  const everyone = cpuNodes.length === 1 ? cpuNodes : undefined;
  const want = { cpus: numa && everyone === undefined, groups: share.groups, cgroup: share.cgroup };
  return (pid: number): ClientFacts => {
    const p = readClientProcess(pidsRoot, pid, want, affinity);
    const facts: ClientFacts = {};
    if (numa) facts.nodes = everyone ?? (p.cpusAllowed === null ? null : clientNodes(p.cpusAllowed, () => processCurrentCpu(pidsRoot, pid), cpus));
    if (share.cgroup) facts.cgroup = p.cgroup;
    if (share.groups) facts.groups = p.groups;
    return facts;
  };
}
