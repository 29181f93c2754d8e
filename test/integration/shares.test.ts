// Shares per uid over a real socket: caps and reservations for clients running as different users, reload without
// moving held sections, and bad settings named by file and line at start-up and at reload.

import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runDaemonToExit, hostArgs, QATCTL } from '../helpers/daemon.js';
import { simHost } from '../helpers/sim.js';
import { Scene, type RawHolder } from '../helpers/raw-holder.js';
import type { SectionsView } from '../../src/admin/views.js';
import type { GeneratedHost } from '../../src/sim/index.js';

const NOBODY = { uid: 65534, gid: 65534 };
const OTHER = { uid: 65533, gid: 65534 };

const scene = new Scene();
afterEach(() => scene.teardown());

/** A 2-PF host with 8 one-VF sections (POLICY=1) whose socket other uids of group 65534 can reach, with these shares. */
function hostWithShares(conf: string): GeneratedHost {
  const host = simHost('4xxx:2x4');
  fs.chmodSync(path.dirname(path.dirname(host.roots.sys)), 0o755);
  fs.writeFileSync(path.join(host.roots.etc, 'sysconfig', 'qat'), 'POLICY=1\n');
  fs.mkdirSync(path.join(host.roots.etc, 'qat', 'shares.d'), { recursive: true });
  fs.writeFileSync(path.join(host.roots.etc, 'qat', 'shares.d', '50-test.conf'), conf);
  return host;
}
const confPath = (host: GeneratedHost): string => path.join(host.roots.etc, 'qat', 'shares.d', '50-test.conf');

const hold = (as: { uid?: number; gid?: number } = {}): Promise<RawHolder> => scene.hold(as);
const sections = (): Promise<SectionsView> => scene.admin<SectionsView>('sections');

function rescan(host: GeneratedHost): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, [QATCTL, 'rescan', '--run-dir', host.roots.run], { encoding: 'utf8' });
}

describe('shares per uid', () => {
  it('caps one user, keeps reserved sections for another, and shows both in qatctl sections', async () => {
    const host = hostWithShares('# test shares\nuid:65534: max 2\nuid:65533: min 3\n');
    await scene.start(host, ['--socket-group', '65534']);
    const capped = [await hold(NOBODY), await hold(NOBODY), await hold(NOBODY)];
    expect(capped.map((h) => h.answer)).toEqual(['HELD SSL_INT_0', 'HELD SSL_INT_1', 'BAD No section available: uid:65534 holds its maximum of 2']);
    // 6 free, 3 of them kept for uid 65533: root gets 3, the 4th is refused
    const root = [await hold(), await hold(), await hold(), await hold()];
    expect(root.map((h) => h.answer)).toEqual(['HELD SSL_INT_2', 'HELD SSL_INT_3', 'HELD SSL_INT_4', 'BAD No section available: the 3 free sections are reserved (uid:65533: min 3, holds 0)']);
    expect((await hold(OTHER)).answer).toBe('HELD SSL_INT_5');

    const v = await sections();
    expect(v.shares.map((s) => [s.subject, s.min, s.max, s.held, s.reserved, s.where.replace(host.roots.etc, '<etc>')])).toEqual([
      ['uid:65534', 0, 2, 2, 0, '<etc>/qat/shares.d/50-test.conf:2'],
      ['uid:65533', 3, null, 1, 2, '<etc>/qat/shares.d/50-test.conf:3'],
    ]);
    expect(v.sections.find((s) => s.name === 'SSL_INT_0')!.shares).toEqual(['uid:65534']);
    const m = await scene.admin<{ text: string }>('metrics');
    expect(m.text).toMatch(/^qatmgr_bad_replies_total\{text="No section available \(by a rule\)"\} 2$/m);
    expect(m.text).toMatch(/^qatmgr_share_sections\{share="uid:65533",state="held"\} 1$/m);
    const table = spawnSync(process.execPath, [QATCTL, 'sections', '--run-dir', host.roots.run], { encoding: 'utf8' });
    expect(table.stdout).toMatch(/^SHARE\s+MIN\s+MAX\s+HELD\s+RESERVED\s+FROM$/m);
    expect(table.stdout).toMatch(/^uid:65533\s+3\s+-\s+1\s+2\s+\S+50-test\.conf:3$/m);
  });

  it('applies changed shares on reload without moving held sections, and keeps the old ones when the new file is bad', async () => {
    const host = hostWithShares('uid:65534: max 1\n');
    await scene.start(host, ['--socket-group', '65534']);
    const first = await hold(NOBODY);
    expect(first.section).toBe('SSL_INT_0');
    expect((await hold(NOBODY)).answer).toBe('BAD No section available: uid:65534 holds its maximum of 1');

    fs.writeFileSync(confPath(host), 'uid:65534: max 2\n');
    expect(rescan(host).status).toBe(0);
    expect((await sections()).sections[0]).toMatchObject({ name: 'SSL_INT_0', state: 'held', holderPid: first.pid });
    expect((await hold(NOBODY)).section).toBe('SSL_INT_1');
    expect((await hold(NOBODY)).answer).toBe('BAD No section available: uid:65534 holds its maximum of 2');

    fs.writeFileSync(confPath(host), 'uid:65534: max 3\nuid:65534: min 1\n');
    const bad = rescan(host);
    expect(bad.status).toBe(2);
    expect(bad.stderr.replaceAll(host.roots.etc, '<etc>')).toContain('rescan failed, still serving the previous devices: <etc>/qat/shares.d/50-test.conf:2: uid:65534 already has a share at <etc>/qat/shares.d/50-test.conf:1');
    expect((await hold(NOBODY)).answer).toBe('BAD No section available: uid:65534 holds its maximum of 2');
  });
});

describe('bad shares at start-up', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['min above max', 'nginx.service: min 3, max 2\n', /50-test\.conf:1: nginx\.service: min 3 is above max 2/],
    ['unknown subject syntax', '\nnginx: max 2\n', /50-test\.conf:2: "nginx" is not a unit/],
    ['reservations above the section count', 'uid:1: min 5\nuid:2: min 4\n', /50-test\.conf:2: uid:2: min 4 brings the reserved sections to 9, more than the 8 sections of the plan/],
  ];
  for (const [what, conf, msg] of cases) {
    it(`refuses to start on ${what}, naming file and line`, async () => {
      const host = hostWithShares(conf);
      const r = await runDaemonToExit(['--foreground', ...hostArgs(host)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
    });
  }
});
