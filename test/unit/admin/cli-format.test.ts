// qatctl's shared output helpers: colour only on a terminal without NO_COLOR, ages, admin socket resolution.

import { describe, it, expect } from 'vitest';
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../../src/cli/command.js';
import { table, formatAge, adminSocketPath } from '../../../src/cli/admin-common.js';

function io(isTTY: boolean, env: NodeJS.ProcessEnv = {}): CliIo {
  return { out: new PassThrough(), err: new PassThrough(), env, cwd: '/w', isTTY };
}

describe('table colour', () => {
  it('colours the header and rows on a terminal, keeping the columns aligned', () => {
    const t = table(io(true), ['A', 'STATE'], [['x', 'held'], ['yy', 'free']], ['yellow', 'green']);
    const lines = t.split('\n');
    expect(lines[0]).toBe('\x1b[1mA   STATE\x1b[0m');
    expect(lines[1]).toBe('\x1b[33mx   held\x1b[0m');
    expect(lines[2]).toBe('\x1b[32myy  free\x1b[0m');
  });

  it('prints no escape codes on a pipe or when NO_COLOR is set', () => {
    expect(table(io(false), ['A'], [['x']], ['red'])).toBe('A\nx\n');
    expect(table(io(true, { NO_COLOR: '1' }), ['A'], [['x']], ['red'])).toBe('A\nx\n');
  });
});

describe('formatAge', () => {
  it('uses the two largest units', () => {
    expect([formatAge(5), formatAge(75), formatAge(3725), formatAge(90_000)]).toEqual(['5s', '1m15s', '1h02m', '1d01h']);
  });
});

describe('admin socket resolution', () => {
  it('prefers --admin-socket, then --run-dir, then the directory of --socket, then $QATMGR_ADMIN_SOCKET, then /run/qat', () => {
    expect(adminSocketPath({ 'admin-socket': 'a.sock', 'run-dir': '/r' }, io(false))).toBe('/w/a.sock');
    expect(adminSocketPath({ 'run-dir': '/r', socket: '/s/q.sock' }, io(false))).toBe('/r/qatmgr-admin.sock');
    expect(adminSocketPath({ socket: '/s/q.sock' }, io(false))).toBe('/s/qatmgr-admin.sock');
    expect(adminSocketPath({}, io(false, { QATMGR_ADMIN_SOCKET: '/e.sock' }))).toBe('/e.sock');
    expect(adminSocketPath({}, io(false))).toBe('/run/qat/qatmgr-admin.sock');
  });
});
