// The descriptor reserve: an open that would fail at the fd limit gets a reserved slot instead.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it, expect } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

describe('FdReserve (in a child process under ulimit -n 64)', () => {
  it('opens /proc/<pid>/stat at EMFILE from a reserved slot, refills after, and mayBeSameProcess never says "gone" for EMFILE', () => {
    const script = `
      import fs from 'node:fs';
      const { FdReserve } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/platform/fd-reserve.js'))});
      const { readStartTime, mayBeSameProcess } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/platform/processes.js'))});
      const r = new FdReserve('/tmp', 2);
      const hog = [];
      try { for (;;) hog.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
      const plain = readStartTime('/proc', process.pid);
      const may = mayBeSameProcess('/proc', process.pid, 'no-such-start');
      const reserved = readStartTime('/proc', process.pid, r.open);
      const before = r.available;
      const start = reserved.kind === 'alive' ? reserved.startTime : '';
      fs.closeSync(hog.pop()); fs.closeSync(hog.pop());
      r.refill();
      console.log(JSON.stringify({ plain, reserved: reserved.kind, before, after: r.available, used: r.used, may, start: start.length > 0 }));
    `;
    const out = spawnSync('/bin/sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ plain: { kind: 'unknown', error: 'EMFILE' }, reserved: 'alive', before: 1, after: 2, used: 1, may: true, start: true });
  });
});
