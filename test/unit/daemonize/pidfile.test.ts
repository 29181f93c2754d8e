// The pid file is never written through a link, and a link or FIFO at its name is stale, not followed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { acquirePidFile, inspectPidFile } from '../../../src/daemonize/pidfile.js';

describe('pid file', () => {
  it('a symlink planted at the temporary name is removed, not written through', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-pidfile-'));
    const file = path.join(dir, 'qatmgr.pid');
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    fs.symlinkSync(victim, `${file}.4242.tmp`);
    const h = acquirePidFile(file, '/proc', 4242);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('4242\n');
    h.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a link or a FIFO at the pid file is stale (replaced), never followed or read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-pidfile-'));
    const link = path.join(dir, 'a.pid');
    fs.symlinkSync('/etc/passwd', link);
    expect(inspectPidFile(link)).toEqual({ kind: 'stale', pid: undefined, reason: 'is a symbolic link (not followed)' });
    const fifo = path.join(dir, 'b.pid');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(inspectPidFile(fifo)).toEqual({ kind: 'stale', pid: undefined, reason: 'is a FIFO, not a regular file' });
    acquirePidFile(link, '/proc', 4243);
    expect(fs.readFileSync('/etc/passwd', 'utf8')).toContain('root:');
    expect(fs.readFileSync(link, 'utf8')).toBe('4243\n');
  });
});
