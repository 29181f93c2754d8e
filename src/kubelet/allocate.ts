// What Allocate tells the kubelet to give a container (pure): device nodes, mounts and environment, per mode.
//
// Standalone (VFs given directly, as Intel's plugin does): every VF's /dev/vfio/<group> and /dev/vfio/vfio, and
// QAT0..QATn-1 = the VFs' PCI addresses (Intel's plugin's variables, numbered per container). libqat then finds no
// manager socket and serves itself from the VFIO groups it can open; QAT_POLICY=<number of VFs> makes it use all
// of them (unset, it stops at 6: qatlib's qat_mgr_client.c).
//
// Managed: the same device nodes for the reserved sections' VFs, and the reservation's socket directory mounted
// read-only at /run/qat (libqat's compiled-in socket is /run/qat/qatmgr.sock; connect() needs no write access to
// the mount), so the container's libqat asks this daemon and gets exactly its sections.
//
// Memory hints: the kubelet cannot set RLIMIT_MEMLOCK or give hugepages through a device plugin (the limit comes
// from the container runtime's own limit, hugepages from the pod's resources); QATMGR_MEMLOCK_BYTES says how much
// one libqat process will lock (16 MiB per VF it holds plus 64 MiB for the application, the rule `qatctl doctor`
// checks), so an entrypoint can compare it with `ulimit -l`.

import path from 'node:path';
import type { VfInfo } from '../platform/discover.js';
import { PER_VF_MIB } from '../doctor/checks/access.js';
import type { ContainerAllocateResponse, DeviceSpec } from './api.js';

/** Where the reservation's socket directory appears inside the container. */
export const CONTAINER_RUN_DIR = '/run/qat';
const APP_MIB = 64;
const MIB = 1024 * 1024;

export function memlockBytes(vfs: number): number {
  return (vfs * PER_VF_MIB + APP_MIB) * MIB;
}

/** Device nodes for `vfs`, each once, then the VFIO container node (host paths under the dev root). */
function deviceSpecs(vfs: readonly VfInfo[], devRoot: string): DeviceSpec[] {
  const out: DeviceSpec[] = [];
  const seen = new Set<string>();
  for (const vf of vfs) {
    if (seen.has(vf.vfioPath)) continue;
    seen.add(vf.vfioPath);
    out.push({ container_path: vf.vfioPath, host_path: vf.vfioNode, permissions: 'rw' });
  }
  out.push({ container_path: '/dev/vfio/vfio', host_path: path.join(devRoot, 'vfio', 'vfio'), permissions: 'rw' });
  return out;
}

export function standaloneResponse(vfs: readonly VfInfo[], devRoot: string): ContainerAllocateResponse {
  const envs: Record<string, string> = {};
  vfs.forEach((vf, i) => { envs[`QAT${i}`] = vf.bdf; });
  envs.QAT_POLICY = String(vfs.length);
  envs.QATMGR_MEMLOCK_BYTES = String(memlockBytes(vfs.length));
  return { envs, mounts: [], devices: deviceSpecs(vfs, devRoot), annotations: {} };
}

/** `sections`: the reservation's sections in order, each with its VFs (one libqat process holds one section). */
export function managedResponse(key: string, sections: ReadonlyArray<{ name: string; vfs: readonly VfInfo[] }>, socketDir: string, devRoot: string): ContainerAllocateResponse {
  const vfs = sections.flatMap((s) => s.vfs);
  return {
    envs: {
      QATMGR_RESERVATION: key,
      QATMGR_SECTIONS: sections.map((s) => s.name).join(','),
      // used only if the manager cannot be reached: libqat then serves itself from these VFs
      QAT_POLICY: String(vfs.length),
      // per process: a process holds one section
      QATMGR_MEMLOCK_BYTES: String(memlockBytes(Math.max(...sections.map((s) => s.vfs.length)))),
    },
    mounts: [{ container_path: CONTAINER_RUN_DIR, host_path: socketDir, read_only: true }],
    devices: deviceSpecs(vfs, devRoot),
    annotations: {},
  };
}
