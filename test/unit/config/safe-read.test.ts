// Bounded, non-blocking reads of files we do not own, and how a foreign value is echoed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { readBounded } from '../../../src/config/safe-read.js';
import { showValue } from '../../../src/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-safe-read-'));

describe('readBounded', () => {
  it('reads a regular file whole, and refuses one longer than the bound unless asked to cut it', () => {
    const p = path.join(dir, 'f');
    fs.writeFileSync(p, 'x'.repeat(100));
    expect(readBounded(p, { maxBytes: 100 })).toMatchObject({ ok: true });
    expect(readBounded(p, { maxBytes: 99 })).toEqual({ ok: false, code: 'EFBIG', why: 'is longer than 99 bytes' });
    const cut = readBounded(p, { maxBytes: 10, truncate: true });
    expect(cut.ok && cut.data.length).toBe(10);
  });

  it('refuses a FIFO without blocking, a symlink when told not to follow, and /dev/zero unless devices are allowed (then it is too long)', () => {
    const fifo = path.join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(readBounded(fifo, { maxBytes: 10 })).toEqual({ ok: false, code: 'ENOTREG', why: 'is a FIFO, not a regular file' });
    const link = path.join(dir, 'link');
    fs.symlinkSync('/etc/hostname', link);
    expect(readBounded(link, { maxBytes: 10, noFollow: true })).toMatchObject({ ok: false, code: 'ELOOP', why: 'is a symbolic link (not followed)' });
    expect(readBounded('/dev/zero', { maxBytes: 10 })).toMatchObject({ ok: false, code: 'ENOTREG', why: 'is a character device, not a regular file' });
    expect(readBounded('/dev/zero', { maxBytes: 10, allowCharDevice: true })).toMatchObject({ ok: false, code: 'EFBIG' });
    expect(readBounded('/dev/null', { maxBytes: 10, allowCharDevice: true })).toMatchObject({ ok: true });
  });

  it('reads a procfs file whose size says 0 to its end', () => {
    const r = readBounded('/proc/self/stat', { maxBytes: 4096 });
    expect(r.ok && r.data.toString().startsWith(`${process.pid} (`)).toBe(true);
  });
});

describe('showValue', () => {
  it('quotes, escapes control characters (C0, DEL, C1) and cuts long values, saying how long they were', () => {
    expect(showValue('abc')).toBe('"abc"');
    expect(showValue('\x1b[2J\r\n\x9b')).toBe('"\\u001b[2J\\r\\n\\u009b"');
    expect(showValue('y'.repeat(1000), 5)).toBe('"yyyyy"… (1000 characters)');
  });
});
