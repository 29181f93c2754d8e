// qatctl doctor against the real daemon on a simulated host: all PASS while it serves; exit codes and --json.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { QATCTL, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { runCli } from '../helpers/run-cli.js';
import { breakers } from '../fixtures/doctor-hosts.js';

const run = promisify(execFile);
const running: RunningDaemon[] = [];
afterAll(async () => { await Promise.all(running.map((d) => d.stop())); });

describe('qatctl doctor with qatmgr serving the simulated host', () => {
  it('prints all 23 checks PASS and exits 0 while the real daemon answers on its socket', async () => {
    const d = await startDaemon('default');
    running.push(d);
    const { stdout } = await run(process.execPath, [QATCTL, 'doctor', '--sim-dir', d.host.dir, '--user', 'qatuser', '--expect', 'dc,sym,asym']);
    const lines = stdout.split('\n').filter((l) => /^(PASS|WARN|FAIL) /.test(l));
    expect(lines).toHaveLength(23);
    expect(lines.filter((l) => !l.startsWith('PASS'))).toEqual([]);
    expect(stdout).toContain(`stack.service     qat.service enabled`);
    expect(stdout).toContain('23 checks: 23 PASS, 0 WARN, 0 FAIL - ready');
  });

  it('exits 2 and names the fault when a check fails, with the same facts in --json', async () => {
    const d = await startDaemon('default');
    running.push(d);
    breakers.removeFirmware(d.host.roots);
    const human = await run(process.execPath, [QATCTL, 'doctor', '--sim-dir', d.host.dir]).then(() => undefined, (e: { code: number; stdout: string }) => e);
    expect(human?.code).toBe(2);
    expect(human?.stdout).toMatch(/^FAIL {2}firmware +missing in .*qat_4xxx_mmp\.bin/m);
    const json = await runCli(['doctor', '--sim-dir', d.host.dir, '--json']);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.out);
    expect(Object.keys(report)).toEqual(['results', 'summary']);
    expect(report.summary).toEqual({ pass: 22, warn: 0, fail: 1 });
    expect(report.results.map((r: { id: string }) => r.id)).toEqual([
      'devices', 'firmware', 'modules.loaded', 'modules.oot', 'cmdline.iommu', 'cmdline.iommu-pt', 'cmdline.vfio-ids', 'cmdline.noiommu',
      'vfio.groups', 'vfio.binding', 'vfio.nodes', 'access.group', 'access.member', 'access.memlock', 'oot.service', 'oot.conf',
      'oot.icp-root', 'oot.libs', 'stack.service', 'stack.sysconfig', 'stack.policy', 'stack.services', 'stack.expect',
    ]);
    expect(report.results[1]).toEqual({
      id: 'firmware', status: 'FAIL', seen: `missing in ${d.host.roots.firmware}: qat_4xxx_mmp.bin (plain, .xz or .zst)`,
      fix: [
        `install the distribution's linux-firmware package (Debian: firmware-misc-nonfree) or copy qat_4xxx_mmp.bin from linux-firmware.git into ${d.host.roots.firmware}/`,
        'then reload the driver: modprobe -r qat_4xxx && modprobe qat_4xxx',
      ],
    });
  });

  it('takes each root from its own option as well as from --sim-dir', async () => {
    const d = await startDaemon('default');
    running.push(d);
    const r = d.host.roots;
    const res = await runCli(['doctor', '--sysfs-root', r.sys, '--dev-root', r.dev, '--proc-root', r.proc, '--etc-root', r.etc,
      '--firmware-root', r.firmware, '--socket', d.socket, '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out).summary).toEqual({ pass: 23, warn: 0, fail: 0 });
    expect(fs.existsSync(d.socket)).toBe(true);
  });
});

describe('qatctl doctor usage', () => {
  it('rejects an unknown --expect service with exit 1', async () => {
    const r = await runCli(['doctor', '--expect', 'dc,zip']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--expect: unknown service "zip"');
  });

  it('documents every check in --help', async () => {
    const r = await runCli(['doctor', '--help']);
    expect(r.code).toBe(0);
    for (const id of ['devices', 'firmware', 'cmdline.noiommu', 'access.memlock', 'oot.libs', 'stack.expect']) expect(r.out).toContain(id);
  });
});
