// `qatctl selftest` as a process: against the daemon on the default simulator, through libqat-sim.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startDaemon, QATCTL, type RunningDaemon } from '../helpers/daemon.js';
import { buildLibqatSim, missingToolchain } from '../helpers/libqat-sim.js';
import { killAndWait } from '../helpers/client-proc.js';
import { tmpDir } from '../helpers/sim.js';
import { QatClient as ProtocolClient } from '../../src/client/qatclient.js';
import type { SelftestReport } from '../../src/selftest/run.js';

const missing = missingToolchain();
if (missing) console.warn(`SKIPPING qatctl selftest tests: ${missing}`);

interface Run { proc: ChildProcess; done: Promise<{ code: number | string; out: string; err: string }> }

function selftest(args: string[]): Run {
  const proc = spawn(process.execPath, [QATCTL, 'selftest', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { err += d; });
  const done = new Promise<{ code: number | string; out: string; err: string }>((resolve) =>
    proc.on('exit', (code, sig) => resolve({ code: code ?? sig ?? -1, out, err })),
  );
  return { proc, done };
}

async function nextSection(socket: string): Promise<string> {
  const c = await ProtocolClient.connect(socket);
  try {
    const section = await c.sectionGet('probe');
    await c.sectionPut(section); // a clean release, so the daemon's "Force release" lines are only the selftests'
    return section;
  } catch (e) {
    return `ERR ${(e as Error).message}`;
  } finally {
    await c.close();
  }
}

/** Poll until the next client would be given `want` (the section is held / free again). */
async function waitNextSection(socket: string, want: string, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  let got = '';
  while (Date.now() < deadline) {
    got = await nextSection(socket);
    if (got === want) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
}

describe.skipIf(missing !== undefined)('qatctl selftest', () => {
  let lib = '';
  let daemon: RunningDaemon;
  const base = (): string[] => ['--lib', lib, '--socket', daemon.socket];

  beforeAll(async () => {
    lib = buildLibqatSim();
    daemon = await startDaemon('default', ['--debug', '1']);
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('on the default simulator every one of the 4 DC and 2 CY instances passes, exit 0, with rates and latencies', async () => {
    const r = await selftest([...base(), '--json', '--duration', '0.1']).done;
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as SelftestReport;
    expect(report.passed).toBe(true);
    expect(report.interrupted).toBe(false);
    expect(report.instances.filter((i) => i.kind === 'dc').map((i) => i.name)).toEqual(['dc0', 'dc1', 'dc2', 'dc3']);
    expect(report.instances.filter((i) => i.kind === 'cy')).toHaveLength(2);
    for (const i of report.instances) {
      expect(i.passed, `${i.name}: ${i.error}`).toBe(true);
      expect(i.ops).toBeGreaterThan(0);
      expect(i.opsPerSec).toBeGreaterThan(0);
      expect(i.mbPerSec).toBeGreaterThan(0);
      expect(i.p50Us).toBeGreaterThan(0);
      expect(i.p99Us).toBeGreaterThanOrEqual(i.p50Us);
    }
    // the section was given back: the next process gets SSL_INT_0
    expect(await nextSection(daemon.socket)).toBe('SSL_INT_0');
  });

  it('prints an aligned per-instance table and a verdict line for humans', async () => {
    const r = await selftest([...base(), '--duration', '50ms', '--size', '1k']).done;
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^instance\s+kind\s+device\s+result\s+ops\/s\s+MB\/s\s+p50 us\s+p99 us/);
    expect(lines.filter((l) => /^dc\d\s+dc\s+70:01\.0\s+pass\s/.test(l))).toHaveLength(4);
    expect(lines.filter((l) => /^sym\d\s+cy\s+6b:01\.0\s+pass\s/.test(l))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^all 6 instances passed/);
  });

  it('a selftest killed with SIGKILL loses its section on the daemon side: the next client gets it', async () => {
    const run = selftest([...base(), '--json', '--duration', '60']);
    expect(await waitNextSection(daemon.socket, 'SSL_INT_1')).toBe('SSL_INT_1'); // it holds SSL_INT_0
    await killAndWait(run.proc, 'SIGKILL');
    expect(await waitNextSection(daemon.socket, 'SSL_INT_0')).toBe('SSL_INT_0');
    expect(daemon.stdout()).toMatch(/Force release of section SSL_INT_0/);
  });

  it('Ctrl-C (SIGINT) stops early, releases the section itself and exits 130 with a partial report', async () => {
    const run = selftest([...base(), '--json', '--duration', '60']);
    expect(await waitNextSection(daemon.socket, 'SSL_INT_1')).toBe('SSL_INT_1');
    const before = (daemon.stdout().match(/Force release/g) ?? []).length;
    run.proc.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    const report = JSON.parse(r.out) as SelftestReport;
    expect(report.interrupted).toBe(true);
    expect(report.passed).toBe(false);
    expect(await nextSection(daemon.socket)).toBe('SSL_INT_0');
    // released with SECTION_PUT, not by the daemon noticing a dead connection
    expect((daemon.stdout().match(/Force release/g) ?? []).length).toBe(before);
  });

  it('two selftests at once get different sections: disjoint devices, both pass', async () => {
    const [a, b] = await Promise.all([selftest([...base(), '--json', '--duration', '0.3']).done, selftest([...base(), '--json', '--duration', '0.3']).done]);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    const devs = (r: { out: string }) => new Set((JSON.parse(r.out) as SelftestReport).instances.map((i) => i.busAddress));
    const da = devs(a);
    const db = devs(b);
    expect(da.size).toBe(2);
    expect(db.size).toBe(2);
    expect([...da].filter((x) => db.has(x))).toEqual([]);
  });

  it('with no daemon it exits 3 and says icp_sal_userStart failed and to check qatmgr', async () => {
    const r = await selftest(['--lib', lib, '--socket', path.join(tmpDir(), 'none.sock')]).done;
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/icp_sal_userStart\("SSL"\) returned CPA_STATUS_FAIL.*is qatmgr running.*\[QATMGR_E_LIBQAT_START\]/);
    expect(r.out).toBe('');
  });

  it('a --lib without the libraries exits 3 naming the file it tried', async () => {
    const dir = tmpDir();
    const r = await selftest(['--lib', dir, '--socket', daemon.socket]).done;
    expect(r.code).toBe(3);
    expect(r.err).toContain(path.join(dir, 'libusdm.so.0'));
    expect(r.err).toContain('QATMGR_E_LIBQAT_LOAD');
  });

  it('a bad --size or --duration is a usage error (exit 1) quoting the value', async () => {
    const r = await selftest([...base(), '--size', '12q']).done;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--size: "12q"/);
    const d = await selftest([...base(), '--duration', 'forever']).done;
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/--duration "forever" is not a duration/);
  });
});
