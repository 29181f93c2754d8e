// qatctl simulate and probe as an operator runs them: real processes, real files, real socket.

import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { QATCTL, startDaemon } from '../helpers/daemon.js';
import { tmpDir } from '../helpers/sim.js';
import { QatClient } from '../../src/client/qatclient.js';

const qatctl = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [QATCTL, ...args], { encoding: 'utf8' });

describe('qatctl simulate', () => {
  it('writes a host the daemon serves, and says how to serve it', async () => {
    const out = path.join(tmpDir(), 'h');
    const r = qatctl('simulate', '420xx:2x4,numa=2', '--out', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/2 PFs, 8 VFs, 2 NUMA node\(s\), 16 CPUs/);
    expect(fs.existsSync(path.join(out, 'sys', 'bus', 'pci', 'drivers', '420xx', '0000:6b:00.0'))).toBe(true);
    expect(qatctl('simulate', '420xx:2x4', '--out', out).stderr).toMatch(/already holds a simulated host; pass --force/);
    expect(qatctl('simulate', 'bogus', '--out', path.join(tmpDir(), 'x')).status).toBe(1);
    expect(qatctl('simulate', '--help').stdout).toMatch(/FAMILY:PFSxVFS/);
  });
});

describe('qatctl probe', () => {
  it('prints what a process would get, releases, and exits 2 when the manager refuses', async () => {
    const d = await startDaemon('4xxx:1x1');
    try {
      const ok = qatctl('probe', '--socket', d.socket, '--json');
      expect(ok.status).toBe(0);
      const j = JSON.parse(ok.stdout);
      expect(j.section).toBe('SSL_INT_0');
      expect(j.devices[0].id).toBe('0000:6b:00.1');
      const holder = await QatClient.connect(d.socket);
      await holder.sectionGet('SSL');
      const refused = qatctl('probe', '--socket', d.socket);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/No section available/);
      await holder.close();
      expect(qatctl('probe', '--socket', path.join(tmpDir(), 'none.sock')).status).toBe(3);
    } finally {
      await d.stop();
    }
  });
});
