// qatctl's admin commands as a user runs them: --json matches the schemas in schemas/, tables, help, exit codes.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, startHolder, qatctl, ROOT, type Daemon, type Holder } from './admin-harness.js';
import { validate, type Schema } from './json-schema.js';
import { COMMANDS } from '../../src/cli/commands/index.js';

const schema = (name: string): Schema => JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', `${name}.json`), 'utf8')) as Schema;

let d: Daemon;
const holders: Holder[] = [];
const at = (): string[] => ['--admin-socket', d.adminSocket];

beforeAll(async () => {
  d = await startDaemon('4xxx:1x4', ['--policy', '1']);
  holders.push(await startHolder(d.socket, 'nginx'), await startHolder(d.socket, 'haproxy'));
  // drain the last VF so every state appears, then make a refusal
  expect((await qatctl(['drain', '0000:6b:00.4', ...at()])).code).toBe(0);
  holders.push(await startHolder(d.socket, 'envoy'));
  holders.push(await startHolder(d.socket, 'refused'));
  expect(holders[3].first).toBe('BAD No section available');
});
afterAll(async () => {
  await Promise.all(holders.map((h) => h.close()));
  await d?.stop();
});

describe('qatctl --json output', () => {
  for (const [cmd, schemaName] of [['status', 'status'], ['devices', 'devices'], ['sections', 'sections'], ['allocations', 'allocations'], ['events', 'events'], ['metrics', 'metrics'], ['health', 'health']] as const) {
    it(`qatctl ${cmd} --json matches schemas/${schemaName}.json`, async () => {
      const r = await qatctl([cmd, '--json', ...at()]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const v = JSON.parse(r.stdout);
      expect(validate(schema(schemaName), v)).toEqual([]);
    });
  }

  it('the schemas reject output that breaks them (the checker is not vacuous)', async () => {
    const r = await qatctl(['allocations', '--json', ...at()]);
    const v = JSON.parse(r.stdout);
    v.allocations[0].pid = 'one';
    delete v.allocations[0].section;
    v.allocations[0].extra = 1;
    expect(validate(schema('allocations'), v)).toEqual(['$.allocations[0]: missing "section"', '$.allocations[0].pid: expected integer, got string', '$.allocations[0]: unexpected "extra"']);
  });

  it('every JSON answer line of the admin socket matches schemas/admin-response.json', async () => {
    const { adminRaw } = await import('./admin-harness.js');
    const r = await adminRaw(d.adminSocket, '{"v":1,"id":1,"op":"ops"}\nnope\n{"v":1,"id":"x","op":"status"}\n', 3);
    for (const l of r.lines) expect(validate(schema('admin-response'), JSON.parse(l))).toEqual([]);
  });
});

describe('qatctl human output', () => {
  it('allocations prints an aligned table with one row per held section and the recent refusal', async () => {
    const r = await qatctl(['allocations', ...at()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SECTION\s+VFS\s+PID\s+USER\s+PROCESS\s+UNIT\/CONTAINER\s+CPU NODES\s+VF NODES\s+LOCAL\s+SINCE\s+HELD\s+REQS$/);
    const rows = lines.slice(1, lines.indexOf(''));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['SSL_INT_0', 'SSL_INT_1', 'SSL_INT_2']);
    // columns line up: PID starts at the same offset in every row
    const col = lines[0].indexOf('VFS');
    for (const row of rows) expect(row.slice(col, col + 12)).toMatch(/^0000:6b:00\.\d/);
    expect(rows[0]).toContain(String(holders[0].pid));
    expect(rows[0]).toContain('nginx');
    expect(r.stdout).toContain('Recent refusals');
    expect(r.stdout).toContain('refused');
    // no colour when stdout is not a terminal
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('allocations --bdf answers "who holds this VF" with one row', async () => {
    const r = await qatctl(['allocations', '--bdf', '6b:00.2', '--refusals', '0', ...at()]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[1]).toMatch(new RegExp(`^SSL_INT_1\\s+0000:6b:00\\.2\\s+${holders[1].pid}\\s+root\\s+haproxy`));
    expect(rows).toHaveLength(4);
  });

  it('devices shows each VF with its PF, family, node, services, IOMMU group and state', async () => {
    const r = await qatctl(['devices', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PF\s+VF\s+FAMILY\s+NODE\s+SERVICES\s+IOMMU\s+STATE\s+SECTION\s+PID\s+REASON$/m);
    expect(r.stdout).toMatch(/0000:6b:00\.0\s+0000:6b:00\.1\s+4xxx\s+0\s+\S+\s+\d+\s+held\s+SSL_INT_0\s+\d+/);
    expect(r.stdout).toMatch(/0000:6b:00\.4\s+4xxx\s+0\s+\S+\s+\d+\s+out-of-service\s+SSL_INT_3\s+-\s+VF 0000:6b:00\.4 is out of service/);
    expect(r.stdout).toContain('1 PFs, 4 VFs: 3 held, 0 free, 1 out-of-service');
  });

  it('status, sections and events print their tables and exit 0', async () => {
    const s = await qatctl(['status', ...at()]);
    expect(s.stdout).toMatch(/^sections\s+4 total, 3 held, 0 free, 1 out-of-service$/m);
    expect(s.stdout).toMatch(/^policy\s+1$/m);
    const sec = await qatctl(['sections', ...at()]);
    expect(sec.stdout).toMatch(/^SSL_INT_3\s+out-of-service\s+-\s+-\s+0000:6b:00\.4/m);
    const ev = await qatctl(['events', '--kind', 'refusal', ...at()]);
    expect(ev.stdout).toMatch(/refusal\s+-\s+\d+\s+0\s+refused\s+-?\s*3 of 4 sections held/);
  });

  it('watch on a pipe prints --count refreshes, each after a separator', async () => {
    const r = await qatctl(['watch', '--interval', '100ms', '--count', '3', ...at()]);
    expect(r.code).toBe(0);
    // one time format: the separators and the status line use the tables' local time
    expect(r.stdout.match(/^--- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ---$/gm)).toHaveLength(3);
    expect(r.stdout.match(/ \d\d:\d\d:\d\d$/gm)?.length).toBeGreaterThanOrEqual(3);
    expect(r.stdout.match(/^SECTION\s+VFS/gm)).toHaveLength(3);
    const j = await qatctl(['watch', '--interval', '100ms', '--count', '2', '--json', ...at()]);
    const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(validate(schema('status'), lines[0].status)).toEqual([]);
    expect(validate(schema('allocations'), lines[1].allocations)).toEqual([]);
  });
});

describe('qatctl exit statuses and help', () => {
  it('an unreachable admin socket gives exit status 3 and says how to point elsewhere', async () => {
    const r = await qatctl(['status', '--run-dir', '/nonexistent/run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/nonexistent/run/qatmgr-admin.sock');
    expect(r.stderr).toContain('QATMGR_E_ADMIN_UNREACHABLE');
  });

  it('--socket PATH finds the admin socket next to the client socket', async () => {
    const r = await qatctl(['status', '--json', '--socket', d.socket]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).adminSocket).toBe(d.adminSocket);
  });

  it('bad usage gives exit status 1 with the offending value', async () => {
    const r = await qatctl(['events', '--kind', 'bogus', ...at()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--kind "bogus"');
    const w = await qatctl(['watch', '--interval', '5ms', ...at()]);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain('--interval "5ms"');
    const u = await qatctl(['release', ...at()]);
    expect(u.code).toBe(1);
  });

  it('qatctl --help lists every command and each command has a complete --help', async () => {
    const top = await qatctl(['--help']);
    for (const c of COMMANDS) expect(top.stdout).toContain(c.name);
    for (const name of ['status', 'devices', 'allocations', 'sections', 'events', 'watch', 'metrics', 'release', 'drain', 'undrain', 'health']) {
      const r = await qatctl([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: qatctl ${name} `));
      for (const opt of ['--json', '--admin-socket', '--run-dir', '--socket', 'Exit status']) expect(r.stdout, `${name} ${opt}`).toContain(opt);
    }
  });
});

describe('qatctl changes (last: they alter the state the tests above read)', () => {
  it('release and drain --json match their schemas', async () => {
    const dr = await qatctl(['drain', '0000:6b:00.3', '--json', ...at()]);
    expect(validate(schema('drain'), JSON.parse(dr.stdout))).toEqual([]);
    const un = await qatctl(['undrain', '0000:6b:00.3', '--json', ...at()]);
    expect(validate(schema('drain'), JSON.parse(un.stdout))).toEqual([]);
    // runs last: it takes envoy's section away
    const h = holders[2];
    const rel = await qatctl(['release', h.section!, '--json', ...at()]);
    expect(rel.code).toBe(0);
    const v = JSON.parse(rel.stdout);
    expect(validate(schema('release'), v)).toEqual([]);
    expect(v.previousHolder.pid).toBe(h.pid);
  });
});

describe('qatctl on a terminal', () => {
  it('watch redraws the screen in place and colours the table when stdout is a TTY', async () => {
    const { PassThrough } = await import('node:stream');
    const { watchCommand } = await import('../../src/cli/commands/watch.js');
    const out = new PassThrough();
    let text = '';
    out.on('data', (b) => { text += b; });
    const code = await watchCommand.run(['--interval', '100ms', '--count', '2', '--admin-socket', d.adminSocket],
      { out, err: new PassThrough(), env: {}, cwd: '/', isTTY: true });
    expect(code).toBe(0);
    expect(text.split('\x1b[H\x1b[2J')).toHaveLength(3);
    expect(text).toContain('\x1b[1mSECTION');
  });

  it('probe --run-dir finds the client socket in the run directory', async () => {
    const r = await qatctl(['probe', '--json', '--run-dir', path.dirname(d.socket)]);
    // the release test above freed SSL_INT_2
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ socket: d.socket, section: 'SSL_INT_2' });
  });
});
