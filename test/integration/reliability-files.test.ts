// Issue 18, items 5, 6 and the "Also" paragraph: files and values the daemon does not own are checked, bounded, never trusted blindly.

import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import { DAEMON } from '../helpers/lifecycle-daemon.js';
import type { SimFixture } from '../helpers/lifecycle-sim.js';
import { useSimDaemons, rssMb } from '../helpers/sim-daemons.js';
import { runDaemonToExit } from '../helpers/daemon.js';
import { QatClient } from '../../src/client/qatclient.js';

const env = useSimDaemons('default', 'qat-rel-files-');
const start = env.start;
let sim: SimFixture;
let socket: string;
beforeEach(() => { ({ sim, socket } = env); });

const vfDir = (bdf: string): string => path.join(sim.roots.sys, 'devices', `pci0000:${bdf.slice(5, 7)}`, bdf);
const mkfifo = (p: string): void => { expect(spawnSync('mkfifo', [p]).status).toBe(0); };

describe('item 5: sysfs numbers are checked against the fields they feed', () => {
  it('a VF whose numa_node reads 70000 is served on node 0 with a warning naming the file and value, and DEVICE_INFO answers', async () => {
    fs.writeFileSync(path.join(vfDir('0000:6b:01.0'), 'numa_node'), '70000\n');
    const d = await start();
    const warn = await d.waitLog((l) => l.event === 'numa_node_invalid');
    expect(warn.msg).toContain('0000:6b:01.0/numa_node: "70000" is not a NUMA node number (-1..1023); using node 0');
    const c = await QatClient.connect(socket);
    expect(await c.sectionGet('SSL')).toBe('SSL_INT_0');
    expect(await c.deviceId(0)).toBe('0000:6b:01.0');
    expect((await c.deviceInfo(0)).nodeId).toBe(0);
    await c.close();
    expect(d.proc.exitCode).toBe(null);
  });
});

describe('item 6: special files neither hang the daemon nor fill its memory', () => {
  it('a FIFO or /dev/zero as --config is an error naming the file, at once', async () => {
    const fifo = path.join(sim.dir, 'config.fifo');
    mkfifo(fifo);
    // runDaemonToExit fails the test if the daemon is still running after 5 s (a hang on the FIFO)
    const a = await runDaemonToExit(['--foreground', ...sim.args, '--config', fifo], {}, 5000);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`qatmgr: ${fifo}: is a FIFO, not a regular file`);
    const b = await runDaemonToExit(['--foreground', ...sim.args, '--config', '/dev/zero'], {}, 5000);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('/dev/zero: is longer than 1048576 bytes');
  });

  it('a FIFO, or a link to /dev/zero, as the ledger is set aside unread; the daemon serves', async () => {
    const ledger = path.join(sim.roots.run, 'qatmgr.ledger');
    fs.mkdirSync(sim.roots.run, { recursive: true });
    mkfifo(ledger);
    const d = await start();
    expect(await d.waitLog((l) => l.event === 'ledger_rejected')).toMatchObject({ kind: 'foreign', reason: 'is a FIFO, not a regular file' });
    expect(fs.lstatSync(ledger).isFile()).toBe(true);
    d.proc.kill('SIGTERM');
    await d.exited;
    fs.rmSync(ledger);
    fs.symlinkSync('/dev/zero', ledger);
    const e = await start();
    expect(await e.waitLog((l) => l.event === 'ledger_rejected')).toMatchObject({ kind: 'foreign', reason: 'is a symbolic link (not followed)' });
    expect(rssMb(e.pid)).toBeLessThan(200);
  });

  it('a FIFO as a VF\'s numa_node and /dev/zero as a PF\'s uevent skip those VFs with the reason; the rest is served', async () => {
    const nodeFile = path.join(vfDir('0000:70:01.0'), 'numa_node');
    fs.rmSync(nodeFile);
    mkfifo(nodeFile);
    const pfUevent = path.join(sim.roots.sys, 'devices', 'pci0000:6b', '0000:6b:00.0', 'uevent');
    fs.rmSync(pfUevent);
    fs.symlinkSync('/dev/zero', pfUevent);
    const d = await start();
    const skipped = d.logs.filter((l) => l.event === 'vf_skipped');
    expect(skipped.find((l) => String(l.reason).includes('0000:70:01.0/numa_node: not a regular file'))).toBeDefined();
    expect(skipped.filter((l) => String(l.reason).includes('physfn/uevent: no PCI_SLOT_NAME (is a character device, not a regular file)'))).toHaveLength(16);
    const c = await QatClient.connect(socket);
    expect(await c.sectionGet('SSL')).toMatch(/^SSL_INT_/);
    expect(await c.deviceId(0)).toMatch(/^0000:70:/);
    await c.close();
    expect(rssMb(d.pid)).toBeLessThan(200);
  });
});

describe('also: settings the daemon is given', () => {
  it('ServicesEnabled=foo stops the daemon as it stops qatctl provision, naming file, line and value', async () => {
    const cfg = path.join(sim.roots.etc, 'sysconfig', 'qat');
    fs.writeFileSync(cfg, 'POLICY=0\nServicesEnabled=foo\n');
    const r = await runDaemonToExit(['--foreground', ...sim.args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}:2: ServicesEnabled="foo": unknown service "foo"; services are asym, sym, dc, decomp, dcc`);
  });

  it('a 1 MB value with ESC and CR is echoed cut and escaped', async () => {
    const cfg = path.join(sim.dir, 'big.conf');
    fs.writeFileSync(cfg, `POLICY="\x1b[2J\r${'9'.repeat(1_000_000)}"\n`);
    const r = await runDaemonToExit(['--foreground', ...sim.args, '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}:1: POLICY="\\u001b[2J\\r9999`);
    expect(r.stderr).toContain('… (1000005 characters) is not a number 0..4096');
    expect(r.stderr).not.toMatch(/[\x1b\r]/);
    expect(r.stderr.length).toBeLessThan(600);
  });

  it('100,000 unknown keys make 21 warning lines, and the daemon gets ready with nobody reading its stderr', async () => {
    const cfg = path.join(sim.dir, 'many.conf');
    fs.writeFileSync(cfg, Array.from({ length: 100_000 }, (_, i) => `K${i}=1\n`).join(''));
    // stderr is a pipe nobody drains: 100,000 warning lines would fill it and block the daemon's writes for good
    const proc = spawn(process.execPath, [DAEMON, '--foreground', '-d', '1', ...sim.args, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const ready = await new Promise<boolean>((resolve) => {
        let out = '';
        const t = setTimeout(() => resolve(false), 15_000);
        proc.stdout!.on('data', (b) => { out += b; if (out.includes('"event":"ready"')) { clearTimeout(t); resolve(true); } });
      });
      expect(ready).toBe(true);
      let err = '';
      proc.stderr!.on('data', (b) => { err += b; });
      await new Promise((r) => setTimeout(r, 200));
      const lines = err.split('\n').filter((l) => l.includes('"event":"config"'));
      expect(lines).toHaveLength(21);
      expect(lines[20]).toContain('99980 more remarks like these not shown');
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('[0:0:0:0:0:0:0:1] is loopback: metrics are served there', async () => {
    const d = await start(['--metrics-listen', '[0:0:0:0:0:0:0:1]:0']);
    const st = await env.status();
    const port = Number(/:(\d+)$/.exec(st.metricsListen ?? '')?.[1]);
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '::1', port, path: '/metrics' }, (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b)); }).on('error', reject);
    });
    expect(body).toContain('qatmgr_sections_planned 16');
    expect(d.proc.exitCode).toBe(null);
  });
});
