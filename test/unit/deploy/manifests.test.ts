// deploy/kubernetes/ and deploy/container/ agree with the daemon: flags it accepts, paths it uses, privileges it needs.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDaemonArgs } from '../../../src/config/settings.js';
import { protoDir } from '../../../src/kubelet/grpc.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ds = fs.readFileSync(path.join(ROOT, 'deploy', 'kubernetes', 'daemonset.yaml'), 'utf8');

/** The items of a YAML block list under `key:` (the plain `- value` lines; comments skipped). */
function listUnder(text: string, key: string): string[] {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim() === `${key}:`);
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    const t = l.trim();
    if (t.startsWith('#') || t === '') continue;
    if (!t.startsWith('- ')) break;
    out.push(t.slice(2));
  }
  return out;
}

describe('the DaemonSet', () => {
  it('starts the daemon with flags it accepts, the plugin on and the VFIO probe off', () => {
    const args = listUnder(ds, 'args');
    const o = parseDaemonArgs(args, {});
    expect(o.kind).toBe('run');
    if (o.kind !== 'run') return;
    expect(o.settings.kubelet).toMatchObject({ dir: '/var/lib/kubelet', managed: 8, standalone: 'all' });
    expect(o.settings.vfioProbe).toBe(false);
    expect(o.settings.roots.run).toBe('/run/qat');
    // the scrape annotation, the container port and the listener agree
    expect(o.settings.metricsListen?.port).toBe(9464);
    expect(ds).toContain('prometheus.io/port: "9464"');
    expect(ds).toContain('containerPort: 9464');
  });

  it('runs in the host pid namespace, unprivileged, with no capability and a read-only root', () => {
    expect(ds).toMatch(/^\s+hostPID: true$/m);
    expect(ds).toMatch(/^\s+privileged: false$/m);
    expect(ds).toMatch(/^\s+allowPrivilegeEscalation: false$/m);
    expect(ds).toMatch(/drop: \["ALL"\]/);
    expect(ds).not.toMatch(/^\s+add:/m);
    expect(ds).toMatch(/^\s+readOnlyRootFilesystem: true$/m);
    expect(ds).toMatch(/^\s+automountServiceAccountToken: false$/m);
  });

  it('mounts every host path the daemon reads or serves, each at the same path as on the host', () => {
    const mounts = [...ds.matchAll(/- name: ([\w-]+)\n\s+mountPath: (\S+)/g)].map((m) => [m[1], m[2]]);
    const volumes = new Map([...ds.matchAll(/- name: ([\w-]+)\n\s+hostPath:\n\s+path: (\S+)/g)].map((m) => [m[1], m[2]]));
    expect(mounts.map(([, p]) => p).sort()).toEqual(['/dev/vfio', '/run/qat', '/sys', '/var/lib/kubelet/device-plugins', '/var/lib/kubelet/pod-resources']);
    // Allocate answers with host paths: each must be where the daemon sees it
    for (const [name, p] of mounts) expect(volumes.get(name), name).toBe(p);
  });

  it('names no registry: the image is a placeholder the operator sets', () => {
    expect(ds).toMatch(/image: REGISTRY\/qatmgr-ts:/);
  });
});

describe('the image build file', () => {
  const cf = fs.readFileSync(path.join(ROOT, 'deploy', 'container', 'Containerfile'), 'utf8');
  it('copies what the plugin loads at run time (proto/ beside dist/, as protoDir looks for it) and starts the daemon', () => {
    expect(cf).toContain('COPY proto ./proto');
    expect(cf).toContain('COPY --from=build /src/dist ./dist');
    expect(path.relative(ROOT, protoDir())).toBe('proto');
    expect(cf).toContain('ENTRYPOINT ["node", "/opt/qatmgr/dist/daemon/qatmgr.js"]');
  });
});
