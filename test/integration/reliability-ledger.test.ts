// Issue 18, items 1-3 and 7: a restarted daemon never grants a VF that a live process holds, whatever the ledger's fate.

import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { holdSection, spawnDaemon, type Holder, type LogLine, type Proc } from '../helpers/lifecycle-daemon.js';
import type { SimFixture } from '../helpers/lifecycle-sim.js';
import { useSimDaemons } from '../helpers/sim-daemons.js';
import { connectMany } from '../helpers/rawconn.js';

const env = useSimDaemons('default', 'qat-rel-ledger-');
const holders = env.holders;
const start = env.start;
let sim: SimFixture;
let socket: string;
let ledger: string;
beforeEach(() => {
  ({ sim, socket } = env);
  ledger = path.join(sim.roots.run, 'qatmgr.ledger');
});

async function kill9(d: Proc): Promise<void> {
  d.proc.kill('SIGKILL');
  await d.exited;
}

/** Take sections until `refusals` holders were refused; returns the holders that got one. */
async function holdUntilRefused(refusals: number, max = 16): Promise<{ got: Holder[]; refused: string[] }> {
  const got: Holder[] = [];
  const refused: string[] = [];
  for (let i = 0; i < max && refused.length < refusals; i++) {
    try {
      const h = await holdSection(socket);
      got.push(h);
      holders.push(h);
    } catch (e) {
      refused.push((e as Error).message);
    }
  }
  return { got, refused };
}

/** After a restart: every live holder adopted with its own VFs, and newcomers get none of them. */
async function expectNoDoubleGrant(d: Proc, live: Holder[]): Promise<void> {
  const adopted = d.logs.filter((l: LogLine) => l.event === 'adopt');
  expect(adopted.map((l) => l.pid).sort()).toEqual(live.map((h) => h.pid).sort());
  const held = new Set(live.flatMap((h) => h.vfs));
  for (let i = 0; i < 2; i++) {
    const n = await holdSection(socket);
    holders.push(n);
    for (const vf of n.vfs) expect(held.has(vf), `${vf} granted to pid ${n.pid} while a live process holds it`).toBe(false);
  }
}

describe('item 1: a grant that cannot be made durable is not made', () => {
  it('refuses grants with the reason while the ledger cannot be written (RLIMIT_FSIZE), and a restart adopts every grant it answered', async () => {
    // 2 KiB of ledger: the header and about eight entries fit, the next grants cannot be recorded
    const first = await start([], { fsizeKb: 2 });
    const { got, refused } = await holdUntilRefused(2);
    expect(got.length).toBeGreaterThan(2);
    expect(refused.length).toBe(2);
    for (const r of refused) expect(r).toMatch(/No section available/);
    const line = await first.waitLog((l) => l.event === 'no_section');
    expect(String(line.reason)).toMatch(/the allocation ledger .*qatmgr\.ledger cannot be written \(EFBIG/);
    await first.waitLog((l) => l.event === 'ledger_write_failed');
    const st = await env.status();
    expect(st.sections.held).toBe(got.length);
    expect(st.ledger).toMatchObject({ durable: false, refusedGrants: expect.any(Number) });

    // room again (three holders exit, the snapshot shrinks): the daemon writes the whole ledger again by itself
    for (const h of got.splice(0, 3)) await h.kill();
    await first.waitLog((l) => l.event === 'ledger_write_restored');
    const again = await holdSection(socket);
    holders.push(again);
    got.push(again);

    await kill9(first);
    const second = await start();
    await expectNoDoubleGrant(second, got);
  });

  it('at the fd limit (ulimit -n 256, 300 silent connections) stays up, counts what it turned away, and records every grant', async () => {
    const first = await start(['--first-request-timeout', '60s'], { nofile: 256 });
    const cap = await first.waitLog((l) => l.event === 'connection_cap');
    expect(Number(cap.cap)).toBeLessThan(256);
    const silent = await connectMany(socket, 300);
    try {
      const got: Holder[] = [];
      for (let i = 0; i < 3; i++) {
        const h = await holdSection(socket);
        got.push(h);
        holders.push(h);
      }
      const st = await env.status();
      expect(st.connections.cap).toBe(Number(cap.cap));
      expect(st.connections.open).toBeLessThanOrEqual(st.connections.cap);
      // everything beyond the cap was turned away by the daemon (not by accept(2) failing): counted
      expect(st.connections.evicted + st.connections.rejected).toBeGreaterThanOrEqual(300 + 3 - st.connections.cap);
      expect(st.ledger).toMatchObject({ durable: true, writeErrors: 0 });
      expect(first.proc.exitCode).toBe(null);

      await kill9(first);
      const second = await start();
      await expectNoDoubleGrant(second, got);
    } finally {
      silent.close();
    }
  });
});

describe('item 2: one daemon per run directory', () => {
  it('a second daemon on a live daemon\'s run directory (--admin-socket=none) exits without touching the ledger, and the live one keeps recording', async () => {
    const first = await start();
    const a = await holdSection(socket);
    const b = await holdSection(socket);
    holders.push(a, b);
    const before = fs.readFileSync(ledger);
    const ino = fs.statSync(ledger).ino;
    const other = path.join(sim.dir, 'other.sock');
    const second = spawnDaemon([...sim.args, '--admin-socket=none', '--socket', other]);
    const exit = await second.exited;
    expect(exit.code).toBe(255);
    expect(second.err.join('\n')).toContain(`Another qatmgr is running -- pid=${first.pid}: it holds the run directory ${sim.roots.run}`);
    expect(second.err.join('\n')).toContain('QATMGR_E_RUN_DIR_BUSY');
    expect(fs.readFileSync(ledger).equals(before)).toBe(true);
    expect(fs.statSync(ledger).ino).toBe(ino);
    expect(fs.existsSync(other)).toBe(false);

    // the live daemon's next grants still reach the file: after its crash every live holder is adopted
    const c = await holdSection(socket);
    const e = await holdSection(socket);
    holders.push(c, e);
    await kill9(first);
    const third = await start();
    await expectNoDoubleGrant(third, [a, b, c, e]);
  });
});

describe('item 3: a bad journal line costs that line, not the ledger', () => {
  it('adopts every live holder of a ledger with bad lines ({"r":5}, garbage), reports each line and keeps the file aside', async () => {
    const first = await start();
    const live: Holder[] = [];
    for (let i = 0; i < 4; i++) {
      const h = await holdSection(socket);
      live.push(h);
      holders.push(h);
    }
    await kill9(first);
    fs.appendFileSync(ledger, '{"r":5}\nnot json at all\n{"g":{"section":"SSL_INT_9","pid":"soon"}}\n');
    const second = await start();
    const skipped = second.logs.filter((l) => l.event === 'ledger_line_skipped');
    expect(skipped.map((l) => l.reason)).toEqual(['neither a grant nor a release', 'not JSON', 'grant.vfs is not a list of PCI addresses']);
    expect(second.logs.find((l) => l.event === 'ledger_damaged')).toMatchObject({ skipped: 3, kept: 4 });
    expect(fs.readdirSync(sim.roots.run).filter((f) => f.startsWith('qatmgr.ledger.damaged-'))).toHaveLength(1);
    await expectNoDoubleGrant(second, live);
  });

  it('never puts a foreign file\'s content into the log or the status answer (ledger symlinked to /etc/passwd)', async () => {
    fs.mkdirSync(sim.roots.run, { recursive: true });
    fs.symlinkSync('/etc/passwd', ledger);
    const d = await start();
    const line = await d.waitLog((l) => l.event === 'ledger_rejected');
    expect(line).toMatchObject({ kind: 'foreign', reason: 'is a symbolic link (not followed)' });
    const st = await env.status();
    const everything = `${d.out.join('\n')}\n${d.err.join('\n')}\n${JSON.stringify(st)}`;
    expect(everything).not.toContain('root:x:0:0');
    expect(fs.readFileSync('/etc/passwd', 'utf8')).toContain('root:');
    expect(fs.lstatSync(ledger).isFile()).toBe(true);
  });
});

describe('item 7: no link in the run directory is followed', () => {
  it('a symlink planted at qatmgr.ledger.tmp is removed, not written through; the ledger stays a regular file', async () => {
    fs.mkdirSync(sim.roots.run, { recursive: true });
    const victim = path.join(sim.dir, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    fs.symlinkSync(victim, `${ledger}.tmp`);
    await start();
    const h = await holdSection(socket);
    holders.push(h);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.lstatSync(ledger).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(ledger, 'utf8')).toContain(`"pid":${h.pid}`);
  });

  it('refuses a run directory that other users may write into, naming its mode', async () => {
    fs.mkdirSync(sim.roots.run, { recursive: true });
    fs.chmodSync(sim.roots.run, 0o777);
    const d = spawnDaemon(sim.args);
    expect((await d.exited).code).toBe(255);
    expect(d.err.join('\n')).toContain(`run directory ${sim.roots.run} is writable by its group (mode 0777)`);
    expect(fs.readdirSync(sim.roots.run)).toEqual([]);
  });
});
