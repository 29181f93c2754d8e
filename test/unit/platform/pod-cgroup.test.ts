import { describe, expect, it } from 'vitest';
import { podFromCgroupFile, podFromCgroupPath } from '../../../src/platform/pod-cgroup.js';

const UID = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
const U_ = UID.replace(/-/g, '_');
const ID = 'ab'.repeat(32);

describe('pod and container from a cgroup path', () => {
  it.each([
    ['systemd driver, containerd, burstable', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U_}.slice/cri-containerd-${ID}.scope`, 'burstable', 'systemd', 'containerd'],
    ['systemd driver, CRI-O, guaranteed', `/kubepods.slice/kubepods-pod${U_}.slice/crio-${ID}.scope`, 'guaranteed', 'systemd', 'cri-o'],
    ['systemd driver, cri-dockerd, besteffort', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${U_}.slice/docker-${ID}.scope`, 'besteffort', 'systemd', 'docker'],
    ['cgroupfs driver, containerd', `/kubepods/burstable/pod${UID}/${ID}`, 'burstable', 'cgroupfs', null],
    ['cgroupfs driver, CRI-O, guaranteed', `/kubepods/pod${UID}/crio-${ID}`, 'guaranteed', 'cgroupfs', 'cri-o'],
    ['kind node (kubelet.slice root)', `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${U_}.slice/cri-containerd-${ID}.scope`, 'besteffort', 'systemd', 'containerd'],
    ['a prefix before kubepods (nested node)', `/system.slice/docker-0123.scope/kubepods/besteffort/pod${UID}/${ID}`, 'besteffort', 'cgroupfs', null],
  ])('reads %s', (_what, p, qos, driver, runtime) => {
    expect(podFromCgroupPath(p)).toEqual({ podUid: UID, containerId: ID, qos, driver, runtime, cgroup: p });
  });

  it('gives the pod but no container for a process in the pod cgroup outside any container (CRI-O conmon)', () => {
    const p = `/kubepods.slice/kubepods-pod${U_}.slice/crio-conmon-${ID}.scope`;
    expect(podFromCgroupPath(p)).toMatchObject({ podUid: UID, containerId: null });
  });

  it.each([
    ['a host service', '/system.slice/nginx.service'],
    ['a docker container outside Kubernetes', `/system.slice/docker-${ID}.scope`],
    ['a pod-like name outside kubepods', `/pod${UID}/${ID}`],
    ['a malformed UID', `/kubepods/burstable/pod1234/${ID}`],
    ['the root', '/'],
  ])('finds no pod in %s', (_what, p) => {
    expect(podFromCgroupPath(p)).toBeUndefined();
  });

  it('reads the v2 line of /proc/<pid>/cgroup first, and a v1 controller line when the v2 line names no pod (hybrid hosts)', () => {
    const v2 = `0::/kubepods.slice/kubepods-pod${U_}.slice/cri-containerd-${ID}.scope`;
    expect(podFromCgroupFile(`12:cpu,cpuacct:/other\n${v2}\n`)?.containerId).toBe(ID);
    const hybrid = `12:memory:/kubepods/burstable/pod${UID}/${ID}\n1:name=systemd:/kubepods/burstable/pod${UID}/${ID}\n0::/\n`;
    expect(podFromCgroupFile(hybrid)).toMatchObject({ podUid: UID, containerId: ID, driver: 'cgroupfs' });
    expect(podFromCgroupFile('0::/user.slice/user-0.slice/session-1.scope\n')).toBeUndefined();
    expect(podFromCgroupFile('garbage\n\n')).toBeUndefined();
  });
});
