// qatctl rescan: the admin API drives the daemon's SIGHUP rescan; new VFs become sections, a failed scan changes nothing.

import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { QATCTL, startDaemon } from '../helpers/daemon.js';
import { simHost } from '../helpers/sim.js';
import { QatClient } from '../../src/client/qatclient.js';

describe('qatctl rescan', () => {
  it('picks up a VF that appeared after start-up and keeps the held section', async () => {
    const host = simHost('4xxx:1x4');
    const node = path.join(host.roots.dev, 'vfio', '103');
    fs.rmSync(node);
    // the health loop would follow the new VF by itself (test/integration/health.test.ts): here the manual rescan does
    const d = await startDaemon(host, ['--policy', '1', '--health-interval', '0']);
    try {
      const holder = await QatClient.connect(d.socket);
      expect(await holder.sectionGet('SSL')).toBe('SSL_INT_0');
      fs.writeFileSync(node, '');
      const r = spawnSync(process.execPath, [QATCTL, 'rescan', '--run-dir', host.roots.run, '--json'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const rep = JSON.parse(r.stdout);
      expect(rep.addedVfs).toEqual(['0000:6b:00.4']);
      expect([rep.sectionsBefore, rep.sectionsAfter]).toEqual([3, 4]);
      expect(await holder.numDevices()).toBe(1);
      const got: string[] = [];
      for (let k = 0; k < 3; k++) {
        const c = await QatClient.connect(d.socket);
        got.push(await c.sectionGet('x'));
      }
      expect(got).toEqual(['SSL_INT_1', 'SSL_INT_2', 'SSL_INT_3']);

      // a scan that finds nothing fails and leaves the daemon serving what it had
      fs.renameSync(path.join(host.roots.dev, 'vfio'), path.join(host.roots.dev, 'vfio.away'));
      const bad = spawnSync(process.execPath, [QATCTL, 'rescan', '--run-dir', host.roots.run], { encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/rescan failed, still serving the previous devices: .*cannot list VFIO groups/);
      expect(await holder.numDevices()).toBe(1);
      await holder.close();
    } finally {
      await d.stop();
    }
  });
});
