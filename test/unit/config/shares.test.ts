// Share rules: the syntax, and errors naming file and line for every kind of bad setting.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseShareRule, parseSharesText, readShares, checkReservations } from '../../../src/config/shares.js';
import { parseEnvText } from '../../../src/config/envfile.js';
import { parseDaemonArgs, type Settings } from '../../../src/config/settings.js';
import { tmpDir } from '../../helpers/sim.js';

const ids = { user: (n: string) => (n === 'www-data' ? 33 : undefined), group: (n: string) => (n === 'qat' ? 900 : undefined) };
const rule = (t: string) => parseShareRule(t, 'f:1', ids);
function error(f: () => unknown): string {
  try { f(); } catch (e) { return (e as Error).message; }
  throw new Error('no error');
}

function etcWith(files: Record<string, string>): string {
  const etc = tmpDir();
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(etc, rel)), { recursive: true });
    fs.writeFileSync(path.join(etc, rel), text);
  }
  return etc;
}
function settingsOf(etc: string, argv: string[] = []): Settings {
  const o = parseDaemonArgs(['--etc-root', etc, ...argv], {});
  if (o.kind !== 'run') throw new Error(o.kind);
  return o.settings;
}

describe('share rule syntax', () => {
  it('reads units, templates, slices, uids, users, groups and process names with either limit or both', () => {
    expect(rule('nginx.service: min 4, max 8')).toMatchObject({ subject: { kind: 'unit', unit: 'nginx.service', template: false }, label: 'nginx.service', min: 4, max: 8 });
    expect(rule('worker@.service: max 2')).toMatchObject({ subject: { kind: 'unit', template: true }, min: 0, max: 2 });
    expect(rule('web@blue.service: max 2').subject).toMatchObject({ template: false });
    expect(rule('batch.slice:max 1, min 1')).toMatchObject({ min: 1, max: 1 });
    expect(rule('uid:1000: min 2')).toMatchObject({ subject: { kind: 'uid', uid: 1000 }, label: 'uid:1000', max: undefined });
    expect(rule('user:www-data: max 3').subject).toEqual({ kind: 'uid', uid: 33 });
    expect(rule('group:qat: max 3').subject).toEqual({ kind: 'gid', gid: 900 });
    expect(rule('gid:27: max 3').subject).toEqual({ kind: 'gid', gid: 27 });
    expect(rule('name:SSL: max 3').subject).toEqual({ kind: 'name', name: 'SSL' });
  });

  it('rejects bad rules with the place and the value at fault', () => {
    expect(error(() => parseShareRule('nginx: max 2', '/etc/qat/shares.d/a.conf:3', ids))).toBe('/etc/qat/shares.d/a.conf:3: "nginx" is not a unit (nginx.service, worker@.service, app.scope, web.slice), uid:N, user:NAME, gid:N, group:NAME or name:PROCESS');
    expect(error(() => rule('nginx.target: max 2'))).toMatch(/^f:1: "nginx.target" is not a unit/);
    expect(error(() => rule('nginx.service: min 8, max 4'))).toBe('f:1: nginx.service: min 8 is above max 4');
    expect(error(() => rule('nginx.service'))).toBe('f:1: "nginx.service" is not "SUBJECT: min N, max M" (e.g. "nginx.service: min 4, max 8")');
    expect(error(() => rule('nginx.service: max lots'))).toBe('f:1: max "lots" is not a number 0..4096');
    expect(error(() => rule('nginx.service: max 5000'))).toBe('f:1: max "5000" is not a number 0..4096');
    expect(error(() => rule('nginx.service: max 2, max 3'))).toBe('f:1: max is given twice for nginx.service');
    expect(error(() => rule('nginx.service: max 2; min 1'))).toBe('f:1: "max 2; min 1" is not "min N" or "max N"');
    expect(error(() => rule('uid:root: max 1'))).toBe('f:1: "root" is not a numeric uid');
    expect(error(() => rule('user:nobody-here: max 1'))).toBe('f:1: user "nobody-here" is not in the passwd file');
    expect(error(() => rule('group:: max 1'))).toMatch(/^f:1: "group:" names no group/);
  });

  it('splits Shares= on ";" and newlines and gives each rule its own line', () => {
    const env = parseEnvText('POLICY=1\nShares="nginx.service: max 8; uid:1000: max 2\n  name:SSL: min 1\n"\n', '/etc/sysconfig/qat');
    const e = env.values.get('Shares')!;
    const rules = parseSharesText(e.value, env.path, e.line, ids, ';');
    expect(rules.map((r) => [r.label, r.where])).toEqual([
      ['nginx.service', '/etc/sysconfig/qat:2'], ['uid:1000', '/etc/sysconfig/qat:2'], ['name:SSL', '/etc/sysconfig/qat:3'],
    ]);
  });
});

describe('reading shares', () => {
  it('reads Shares= first, then the drop-ins in name order, skipping comments, blank lines and files not named *.conf', () => {
    const etc = etcWith({
      'sysconfig/qat': 'Shares=uid:1000: max 2\n',
      'qat/shares.d/20-b.conf': '# batch jobs\n\nbatch.slice: max 1   # at most one\n',
      'qat/shares.d/10-a.conf': 'nginx.service: min 1\n',
      'qat/shares.d/README': 'not rules\n',
    });
    const s = settingsOf(etc);
    expect(s.shares.map((r) => [r.label, r.where.replace(etc, '<etc>')])).toEqual([
      ['uid:1000', '<etc>/sysconfig/qat:1'], ['nginx.service', '<etc>/qat/shares.d/10-a.conf:1'], ['batch.slice', '<etc>/qat/shares.d/20-b.conf:3'],
    ]);
    expect(s.sharesDir).toBe(path.join(etc, 'qat', 'shares.d'));
    expect(s.warnings).toEqual([]);
  });

  it('names both places when a subject has two shares', () => {
    const etc = etcWith({ 'qat/shares.d/10-a.conf': 'nginx.service: min 1\n', 'qat/shares.d/20-b.conf': '\nnginx.service: max 3\n' });
    expect(error(() => settingsOf(etc)).replaceAll(etc, '<etc>')).toBe('<etc>/qat/shares.d/20-b.conf:2: nginx.service already has a share at <etc>/qat/shares.d/10-a.conf:1');
  });

  it('fails on a drop-in that cannot be read rather than skipping it', () => {
    const etc = etcWith({});
    fs.mkdirSync(path.join(etc, 'qat', 'shares.d', 'x.conf'), { recursive: true });
    expect(error(() => readShares(etc, parseEnvText('', 'f'))).replaceAll(etc, '<etc>')).toMatch(/^<etc>\/qat\/shares.d\/x.conf: cannot read: /);
  });

  it('refuses reservations that add up to more sections than the plan has, naming the rule that tips it over', () => {
    const rules = [rule('a.service: min 3'), parseShareRule('b.service: min 2', 'g:7', ids), rule('c.service: max 1')];
    expect(() => checkReservations(rules, 5)).not.toThrow();
    expect(error(() => checkReservations(rules, 4))).toBe('g:7: b.service: min 2 brings the reserved sections to 5, more than the 4 sections of the plan');
  });
});

describe('NumaAware setting', () => {
  it('defaults to off and takes the command line over the settings file', () => {
    const etc = etcWith({ 'sysconfig/qat': 'NumaAware=prefer\n' });
    expect(settingsOf(etcWith({})).numaAware).toBe('off');
    expect(settingsOf(etc).numaAware).toBe('prefer');
    expect(settingsOf(etc, ['--numa-aware=strict']).numaAware).toBe('strict');
    expect(settingsOf(etc, ['--numa-aware=strict']).sources.numaAware).toBe('cli');
  });

  it('names the file and line of a bad value, or the command-line option', () => {
    const etc = etcWith({ 'sysconfig/qat': 'POLICY=1\nNumaAware=yes\n' });
    expect(error(() => settingsOf(etc)).replace(etc, '<etc>')).toBe('<etc>/sysconfig/qat:2: NumaAware="yes" is not one of off, prefer, strict');
    expect(error(() => settingsOf(etcWith({}), ['--numa-aware', 'local']))).toBe('command line: --numa-aware="local" is not one of off, prefer, strict');
  });
});
