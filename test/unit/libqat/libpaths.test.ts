// Which libqat/libusdm files the bridge loads: --lib, then QATCTL_LIBQAT/QATCTL_LIBUSDM, then the system's.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { resolveLibPaths, loadLibqat } from '../../../src/libqat/libqat.js';
import { tmpDir } from '../../helpers/sim.js';

describe('library paths', () => {
  it('with no option or environment the sonames are used, so ld.so finds the installed libqat', () => {
    expect(resolveLibPaths(undefined, {})).toEqual({ libqat: 'libqat.so.4', libusdm: 'libusdm.so.0' });
  });

  it('QATCTL_LIBQAT and QATCTL_LIBUSDM override the sonames', () => {
    expect(resolveLibPaths(undefined, { QATCTL_LIBQAT: '/x/libqat.so.4', QATCTL_LIBUSDM: '/y/libusdm.so.0' })).toEqual({
      libqat: '/x/libqat.so.4',
      libusdm: '/y/libusdm.so.0',
    });
  });

  it('--lib DIR means DIR/libqat.so.4 and DIR/libusdm.so.0, ahead of the environment', () => {
    const dir = tmpDir();
    expect(resolveLibPaths(dir, { QATCTL_LIBQAT: '/x' })).toEqual({
      libqat: path.join(dir, 'libqat.so.4'),
      libusdm: path.join(dir, 'libusdm.so.0'),
    });
  });

  it('--lib FILE takes libusdm from the same directory when it is there', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'libusdm.so.0'), '');
    expect(resolveLibPaths(path.join(dir, 'libqat.so.4'), {}).libusdm).toBe(path.join(dir, 'libusdm.so.0'));
  });

  it('a library that cannot be loaded is QATMGR_E_LIBQAT_LOAD naming the file and the way to point elsewhere', () => {
    const dir = tmpDir();
    let err: unknown;
    try {
      loadLibqat({ libqat: path.join(dir, 'libqat.so.4'), libusdm: path.join(dir, 'libusdm.so.0') });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'QATMGR_E_LIBQAT_LOAD' });
    expect((err as Error).message).toContain(path.join(dir, 'libusdm.so.0'));
    expect((err as Error).message).toContain('--lib');
  });
});
