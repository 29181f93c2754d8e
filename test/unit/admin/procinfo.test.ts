// Process facts: cgroup path -> unit/container, Cpus_allowed_list -> NUMA nodes, uid -> user name.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupPath, unitAndContainer, nodesForCpus, readProcessFacts, UserNames, CMDLINE_MAX } from '../../../src/admin/procinfo.js';

const cpus = { online: [0, 1, 2, 3, 4, 5, 6, 7], nodes: [[0, 1, 2, 3], [4, 5, 6, 7]], notes: [] };

describe('cgroup parsing', () => {
  it('takes the unified (0::) path when there is one, else the systemd controller', () => {
    expect(cgroupPath('0::/system.slice/nginx.service\n')).toBe('/system.slice/nginx.service');
    expect(cgroupPath('4:memory:/x\n1:name=systemd:/system.slice/haproxy.service\n')).toBe('/system.slice/haproxy.service');
    expect(cgroupPath('garbage')).toBeNull();
  });

  it('names the innermost systemd unit and the container runtime with a short id', () => {
    expect(unitAndContainer('/system.slice/nginx.service')).toEqual({ unit: 'nginx.service', container: null });
    expect(unitAndContainer('/user.slice/user-1000.slice/session-3.scope')).toEqual({ unit: 'session-3.scope', container: null });
    expect(unitAndContainer('/system.slice/docker-3f2a9b8c7d6e5f4a3b2c1d0e.scope')).toEqual({ unit: 'docker-3f2a9b8c7d6e5f4a3b2c1d0e.scope', container: 'docker:3f2a9b8c7d6e' });
    expect(unitAndContainer('/machine.slice/libpod-0123456789abcdef0123.scope/container')).toMatchObject({ container: 'podman:0123456789ab' });
    expect(unitAndContainer('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-aabbccddeeff00112233.scope')).toMatchObject({ container: 'containerd:aabbccddeeff' });
    expect(unitAndContainer('/docker/aabbccddeeff00112233')).toEqual({ unit: null, container: 'docker:aabbccddeeff' });
    expect(unitAndContainer('/lxc.payload.web1')).toMatchObject({ container: 'lxc:web1' });
    expect(unitAndContainer('/')).toEqual({ unit: null, container: null });
  });
});

describe('NUMA nodes of a process', () => {
  it('lists the nodes whose CPUs the process may run on', () => {
    expect(nodesForCpus([0, 1], cpus)).toEqual([0]);
    expect(nodesForCpus([3, 4], cpus)).toEqual([0, 1]);
    expect(nodesForCpus([6], cpus)).toEqual([1]);
    expect(nodesForCpus([99], cpus)).toEqual([]);
  });
});

describe('readProcessFacts on a fake /proc', () => {
  it('reads comm, a truncated cmdline, the unit and the allowed nodes; a missing pid is not alive', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-pids-'));
    const p = path.join(root, '42');
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, 'comm'), 'nginx\n');
    fs.writeFileSync(path.join(p, 'cmdline'), ['nginx: worker process', '-g', 'x'.repeat(300)].join('\0') + '\0');
    fs.writeFileSync(path.join(p, 'cgroup'), '0::/system.slice/nginx.service\n');
    fs.writeFileSync(path.join(p, 'status'), 'Name:\tnginx\nCpus_allowed_list:\t4-7\n');
    const f = readProcessFacts(root, 42, cpus);
    expect(f).toMatchObject({ alive: true, comm: 'nginx', unit: 'nginx.service', container: null, numaNodes: [1] });
    expect(f.cmdline!.startsWith('nginx: worker process -g xxx')).toBe(true);
    expect(f.cmdline!.length).toBe(CMDLINE_MAX);
    expect(f.cmdline!.endsWith('…')).toBe(true);
    expect(readProcessFacts(root, 43, cpus)).toMatchObject({ alive: false, comm: null, numaNodes: null });
    fs.rmSync(root, { recursive: true });
  });
});

describe('user names', () => {
  it('uses the first passwd file that knows the uid, then falls back to the number', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-passwd-'));
    fs.writeFileSync(path.join(root, 'a'), 'www:x:33:33::/:/bin/false\n');
    fs.writeFileSync(path.join(root, 'b'), 'root:x:0:0::/root:/bin/sh\nother:x:33:33::/:/bin/false\n');
    const u = new UserNames([path.join(root, 'missing'), path.join(root, 'a'), path.join(root, 'b')]);
    expect(u.name(33)).toBe('www');
    expect(u.name(0)).toBe('root');
    expect(u.name(4242)).toBe('4242');
    fs.rmSync(root, { recursive: true });
  });
});
