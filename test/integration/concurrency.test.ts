// Many clients at once, more than there are sections; a killed client's section comes back.

import { describe, it, expect, afterAll } from 'vitest';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { spawnClient, killAndWait } from '../helpers/client-proc.js';
import { QatClient } from '../../src/client/qatclient.js';

const running: RunningDaemon[] = [];
afterAll(async () => { await Promise.all(running.map((d) => d.stop())); });

describe('concurrent clients', () => {
  it('64 concurrent clients on 16 sections: 16 distinct sections granted, 48 told "No section available"', async () => {
    const d = await startDaemon('4xxx:2x16');
    running.push(d);
    const clients = await Promise.all(Array.from({ length: 64 }, () => QatClient.connect(d.socket)));
    const results = await Promise.all(clients.map((c) => c.handshake('SSL').then((r) => r.section, (e: Error) => `ERR ${e.message}`)));
    const granted = results.filter((r) => r.startsWith('SSL_INT_'));
    expect(new Set(granted).size).toBe(16);
    expect(granted.sort()).toEqual(Array.from({ length: 16 }, (_, k) => `SSL_INT_${k}`).sort());
    expect(results.filter((r) => r.includes('No section available'))).toHaveLength(48);
    // no VF is handed to two holders
    await Promise.all(clients.map((c) => c.close()));
    // everything is released once the daemon has seen the disconnects: all 16 can be held again at once
    let held: QatClient[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      held = await Promise.all(Array.from({ length: 16 }, () => QatClient.connect(d.socket)));
      const got = await Promise.all(held.map((c) => c.sectionGet('x').catch(() => null)));
      if (got.every((g) => g !== null)) {
        expect(new Set(got).size).toBe(16);
        break;
      }
      await Promise.all(held.map((c) => c.close()));
      held = [];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(held).toHaveLength(16);
    await Promise.all(held.map((c) => c.close()));
  });

  it('a client killed mid-session frees its section for the next process', async () => {
    const d = await startDaemon('4xxx:2x16', ['--debug', '1']);
    running.push(d);
    const a = spawnClient(d.socket);
    const b = spawnClient(d.socket);
    const ra = await a.result;
    const rb = await b.result;
    expect([ra.section, rb.section].sort()).toEqual(['SSL_INT_0', 'SSL_INT_1']);
    const holderOf0 = ra.section === 'SSL_INT_0' ? a : b;
    await killAndWait(holderOf0.proc);
    // the daemon sees EOF and releases; first fit hands SSL_INT_0 out again
    let got = '';
    for (let i = 0; i < 50 && got !== 'SSL_INT_0'; i++) {
      const c = await QatClient.connect(d.socket);
      got = await c.sectionGet('SSL');
      await c.close();
      if (got !== 'SSL_INT_0') await new Promise((r) => setTimeout(r, 20));
    }
    expect(got).toBe('SSL_INT_0');
    expect(d.stdout()).toMatch(/Force release of section SSL_INT_0/);
    const other = holderOf0 === a ? b : a;
    await killAndWait(other.proc);
  });

  it('logs a flood of refusals as one line per second with a count, not one line each', async () => {
    const d = await startDaemon('4xxx:1x1');
    running.push(d);
    const holder = await QatClient.connect(d.socket);
    await holder.sectionGet('SSL');
    const refuse = async (): Promise<string> => {
      const c = await QatClient.connect(d.socket);
      const r = await c.sectionGet('nginx').catch((e: Error) => e.message);
      await c.close();
      return r;
    };
    const first = await Promise.all(Array.from({ length: 30 }, refuse));
    expect(first.every((r) => r.includes('No section available'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    await refuse();
    await new Promise((r) => setTimeout(r, 100));
    const lines = d.stderr().split('\n').filter((l) => l.includes('"event":"no_section"'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(3);
    const last = JSON.parse(lines[lines.length - 1]);
    expect(last.suppressed).toBeGreaterThan(0);
    expect(last.msg).toMatch(/No section available for process "nginx" .*1 of 1 sections held .* more like it in the last second not logged; qatctl events lists each/);
    await holder.close();
  });

  it('records the client pid and uid from SO_PEERCRED in the grant log line', async () => {
    const d = await startDaemon('4xxx:1x2', ['--debug', '1']);
    running.push(d);
    const a = spawnClient(d.socket);
    expect((await a.result).section).toBe('SSL_INT_0');
    const line = d.stdout().split('\n').find((l) => l.includes('"event":"grant"'))!;
    expect(JSON.parse(line)).toMatchObject({ event: 'grant', section: 'SSL_INT_0', pid: a.proc.pid, uid: process.getuid!(), bdf: ['0000:6b:00.1'] });
    await killAndWait(a.proc);
  });
});
