// RLIMIT_MEMLOCK as pam_limits sets it, and the access.memlock verdict for the invoking user's live session.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configuredMemlock, liveMemlock } from '../../../src/doctor/limits.js';
import { checkAccess } from '../../../src/doctor/checks/access.js';
import { healthyHost } from '../../fixtures/doctor-hosts.js';
import { scanHost } from '../../../src/doctor/host-scan.js';
import { readSysconfig } from '../../../src/doctor/sysconfig.js';
import type { Roots } from '../../../src/config/roots.js';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'limits-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function etcWith(files: Record<string, string>): Roots {
  const etc = path.join(tmp, 'etc');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(etc, name)), { recursive: true });
    fs.writeFileSync(path.join(etc, name), text);
  }
  return { sys: '', dev: '', run: '', proc: '', pids: path.join(tmp, 'pids'), etc, firmware: '' };
}

describe('configured memlock', () => {
  it('prefers a line naming the user over @group over *, and a later equal line over an earlier one', () => {
    const roots = etcWith({
      'security/limits.conf': '*    soft memlock 1024\n@qat - memlock 65536\n',
      'security/limits.d/10-qat.conf': '@qat - memlock 131072\n',
      'security/limits.d/20-app.conf': 'app soft memlock 262144\napp hard memlock unlimited\n',
    });
    expect(configuredMemlock(roots, 'app', ['qat'], false)).toEqual({ bytes: 262144 * 1024, source: path.join(roots.etc, 'security/limits.d/20-app.conf:1') });
    expect(configuredMemlock(roots, 'other', ['qat'], false)!.bytes).toBe(131072 * 1024);
    expect(configuredMemlock(roots, 'nobody', [], false)!.bytes).toBe(1024 * 1024);
    expect(configuredMemlock(roots, 'root', [], true)).toBeUndefined();
  });

  it('reads unlimited and ignores hard-only and other items', () => {
    const roots = etcWith({ 'security/limits.conf': '@qat hard memlock 1\n@qat soft nofile 4096\n@qat soft memlock infinity\n' });
    expect(configuredMemlock(roots, 'u', ['qat'], false)!.bytes).toBe(Infinity);
  });

  it('reads the live soft limit from <pids>/<pid>/limits', () => {
    const roots = etcWith({});
    fs.mkdirSync(path.join(roots.pids, 'self'), { recursive: true });
    fs.writeFileSync(path.join(roots.pids, 'self', 'limits'), 'Limit                     Soft Limit           Hard Limit           Units     \nMax locked memory         8388608              8388608              bytes     \n');
    expect(liveMemlock(roots)).toBe(8 * 1024 * 1024);
  });
});

describe('access.memlock for the invoking user', () => {
  it('warns when the configured limit is enough but the current session still has the old one', () => {
    const h = healthyHost(path.join(tmp, 'h'));
    const roots = { ...h.roots, pids: path.join(tmp, 'pids') };
    fs.mkdirSync(path.join(roots.pids, 'self'), { recursive: true });
    fs.writeFileSync(path.join(roots.pids, 'self', 'limits'), 'Max locked memory         8388608              8388608              bytes     \n');
    const user = { name: 'qatuser', uid: 1001, gid: 1001, isInvoker: true };
    const res = checkAccess(scanHost(roots), roots, user, readSysconfig(roots), 64).find((r) => r.id === 'access.memlock')!;
    expect(res.status).toBe('WARN');
    expect(res.seen).toContain('configured 256 MiB');
    expect(res.seen).toContain('this session has 8 MiB');
    expect(res.fix[0]).toContain('log out and in again');
  });

  it('counts the VFs of a section from POLICY (POLICY=4: 4 x 16 MiB + app)', () => {
    const h = healthyHost(path.join(tmp, 'h'));
    fs.writeFileSync(path.join(h.roots.etc, 'sysconfig', 'qat'), 'POLICY=4\n');
    const user = { name: 'qatuser', uid: 1001, gid: 1001, isInvoker: false };
    const res = checkAccess(scanHost(h.roots), h.roots, user, readSysconfig(h.roots), 200).find((r) => r.id === 'access.memlock')!;
    expect(res.status).toBe('FAIL');
    expect(res.seen).toContain('POLICY=4: 4 VF(s) per section x 16 MiB + 200 MiB application = 264 MiB');
    expect(res.fix[0]).toBe('add to /etc/security/limits.d/qat.conf: @qat - memlock 270336');
  });
});
