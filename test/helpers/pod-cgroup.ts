// A fake Kubernetes pod cgroup for tests: a real cgroup (v2) named as the kubelet's systemd driver names a
// container's, so a process moved into it shows a kubepods path in /proc/<pid>/cgroup. Needs root and a
// writable cgroup2 mount; `cgroup2Root()` says why not when there is none.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';

/** The cgroup2 mount to make test cgroups in, or the reason there is none. */
export function cgroup2Root(): { root: string } | { why: string } {
  if (process.getuid?.() !== 0) return { why: 'not root: cannot create cgroups' };
  let mounts: string;
  try { mounts = fs.readFileSync('/proc/self/mounts', 'utf8'); } catch { return { why: 'cannot read /proc/self/mounts' }; }
  const m = mounts.split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2');
  if (!m) return { why: 'no cgroup2 mount (cgroup v1 only)' };
  const probe = path.join(m[1], `qatmgr-probe-${process.pid}`);
  try { fs.mkdirSync(probe); fs.rmdirSync(probe); } catch (e) { return { why: `cannot create a cgroup under ${m[1]}: ${(e as Error).message}` }; }
  return { root: m[1] };
}

export class FakePodCgroup {
  readonly podUid = randomUUID();
  readonly containerId = randomBytes(32).toString('hex');
  readonly top: string;
  /** The container's cgroup directory. */
  readonly dir: string;
  /** The path as /proc/<pid>/cgroup shows it. */
  readonly cgroupPath: string;

  constructor(private readonly root: string) {
    const name = `qatmgr-test-${process.pid}-${randomBytes(3).toString('hex')}`;
    const rel = path.join(name, 'kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${this.podUid.replace(/-/g, '_')}.slice`, `cri-containerd-${this.containerId}.scope`);
    this.top = path.join(root, name);
    this.dir = path.join(root, rel);
    this.cgroupPath = `/${rel}`;
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Move a process into the container's cgroup. */
  add(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** Move what is left back to the root and remove the cgroups, deepest first. */
  cleanup(): void {
    try {
      for (const pid of fs.readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { fs.writeFileSync(path.join(this.root, 'cgroup.procs'), pid); } catch { /* exited */ }
      }
    } catch { /* gone */ }
    for (let d = this.dir; d.startsWith(this.top); d = path.dirname(d)) {
      try { fs.rmdirSync(d); } catch { /* not empty or gone */ }
    }
  }
}
