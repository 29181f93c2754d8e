// Which Kubernetes pod and container a process runs in, from the cgroup paths in /proc/<pid>/cgroup.
//
// The kubelet puts every pod in a cgroup named after its UID and the container runtime puts each container in a
// cgroup named after the container id below it. Shapes accepted (any prefix before the kubepods part, so a
// kubelet with --cgroup-root, kind's kubelet.slice or a nested node works too):
//
//   systemd driver (cgroup v1 and v2):
//     .../kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/<runtime>-<id>.scope
//     .../kubepods.slice/kubepods-pod<uid>.slice/<runtime>-<id>.scope                       (Guaranteed QoS)
//     runtime prefixes: cri-containerd- (containerd), crio- (CRI-O), docker- (cri-dockerd)
//   cgroupfs driver (cgroup v1 and v2):
//     .../kubepods/burstable/pod<uid>/<id>        .../kubepods/pod<uid>/<id>      (containerd, cri-dockerd)
//     .../kubepods/besteffort/pod<uid>/crio-<id>                                  (CRI-O)
//
// The systemd driver spells the UID with '_' for '-' (a slice name cannot hold '-' inside a unit part); it is
// given back with '-'. On cgroup v1 every controller line names the same pod; the v2 line (`0::`) is read first,
// then the others, and the first line naming a pod wins (a v1 host in hybrid mode may show "/" on the v2 line).
// A process in the pod's cgroup but in no container's (CRI-O's conmon: crio-conmon-<id>.scope) has no container.

import fs from 'node:fs';
import path from 'node:path';

export type PodQos = 'guaranteed' | 'burstable' | 'besteffort';

export interface PodIdentity {
  /** The pod's UID, with dashes (as the API server shows it). */
  podUid: string;
  /** The container id (64 hex digits), or null when the process is in the pod's cgroup but no container's. */
  containerId: string | null;
  qos: PodQos;
  /** Which kubelet cgroup driver the path shape says. */
  driver: 'systemd' | 'cgroupfs';
  /** Container runtime named by the path, when it names one. */
  runtime: 'containerd' | 'cri-o' | 'docker' | null;
  /** The cgroup path the identity was read from. */
  cgroup: string;
}

const UID = /^[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}$/;
const ID = /^[0-9a-f]{64}$/;
const RUNTIMES: Array<[string, NonNullable<PodIdentity['runtime']>]> = [['cri-containerd-', 'containerd'], ['crio-', 'cri-o'], ['docker-', 'docker']];

function qosOf(parts: string[]): PodQos {
  if (parts.some((p) => /(^|-)besteffort(\.slice)?$/.test(p))) return 'besteffort';
  if (parts.some((p) => /(^|-)burstable(\.slice)?$/.test(p))) return 'burstable';
  return 'guaranteed';
}

/** The container segment below the pod's: runtime and id, or undefined when it names no container. */
function containerOf(seg: string | undefined, systemd: boolean): { id: string; runtime: PodIdentity['runtime'] } | undefined {
  if (seg === undefined) return undefined;
  let s = seg;
  if (systemd) {
    if (!s.endsWith('.scope')) return undefined;
    s = s.slice(0, -'.scope'.length);
  }
  for (const [prefix, runtime] of RUNTIMES) {
    if (s.startsWith(prefix)) {
      const id = s.slice(prefix.length);
      return ID.test(id) ? { id, runtime } : undefined;
    }
  }
  // cgroupfs with containerd or cri-dockerd: the bare id
  return !systemd && ID.test(s) ? { id: s, runtime: null } : undefined;
}

/** The pod a single cgroup path names, or undefined. */
export function podFromCgroupPath(cgroup: string): PodIdentity | undefined {
  const parts = cgroup.split('/').filter(Boolean);
  const kube = parts.findIndex((p) => p === 'kubepods' || /(^|-)kubepods\.slice$/.test(p));
  if (kube < 0) return undefined;
  for (let i = kube + 1; i < parts.length; i++) {
    const p = parts[i];
    let uid: string | undefined;
    let systemd = false;
    let m: RegExpExecArray | null;
    if ((m = /-pod([0-9a-f_]+)\.slice$/.exec(p)) && UID.test(m[1])) {
      uid = m[1];
      systemd = true;
    } else if ((m = /^pod([0-9a-f-]+)$/.exec(p)) && UID.test(m[1])) {
      uid = m[1];
    }
    if (uid === undefined) continue;
    const c = containerOf(parts[i + 1], systemd);
    return {
      podUid: uid.replace(/_/g, '-'),
      containerId: c?.id ?? null,
      qos: qosOf(parts.slice(kube, i + 1)),
      driver: systemd ? 'systemd' : 'cgroupfs',
      runtime: c?.runtime ?? null,
      cgroup,
    };
  }
  return undefined;
}

/** The pod named by the text of /proc/<pid>/cgroup (v2 line first, then v1 controllers), or undefined. */
export function podFromCgroupFile(text: string): PodIdentity | undefined {
  const paths: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') paths.unshift(m[3]);
    else paths.push(m[3]);
  }
  for (const p of paths) {
    const id = podFromCgroupPath(p);
    if (id) return id;
  }
  return undefined;
}

/**
 * Read /proc/<pid>/cgroup under the live-process root: the pod identity, `null` for a process in no pod, or
 * `'gone'` when the process cannot be looked at (exited, or outside this pid namespace).
 */
export function readPodIdentity(pidsRoot: string, pid: number): PodIdentity | null | 'gone' {
  if (!Number.isInteger(pid) || pid <= 0) return 'gone';
  let text: string;
  try {
    text = fs.readFileSync(path.join(pidsRoot, String(pid), 'cgroup'), 'latin1');
  } catch {
    return 'gone';
  }
  return podFromCgroupFile(text) ?? null;
}
