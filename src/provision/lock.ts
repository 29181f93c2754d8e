// One provisioning run at a time: an exclusive lock file in the run directory (stale locks of dead processes are taken over).

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError } from '../errors.js';

export interface ProvisionLock {
  path: string;
  release(): void;
}

function alive(pidsRoot: string, pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && fs.existsSync(path.join(pidsRoot, String(pid)));
}

/** Take `<runDir>/provision.lock`; throws QATMGR_E_PROVISION_BUSY naming the pid when another live run holds it. */
export function takeLock(runDir: string, pidsRoot: string): ProvisionLock {
  fs.mkdirSync(runDir, { recursive: true, mode: 0o755 });
  const p = path.join(runDir, 'provision.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(p, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return {
        path: p,
        release: () => {
          try {
            if (fs.readFileSync(p, 'utf8').trim() === String(process.pid)) fs.unlinkSync(p);
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(p, 'utf8').trim());
      if (alive(pidsRoot, holder) && holder !== process.pid) {
        throw new QatmgrError('QATMGR_E_PROVISION_BUSY', `another qatctl provision (pid ${holder}) is running (lock ${p}); wait for it, or remove the lock if that process is not provisioning`, { pid: holder, lock: p });
      }
      fs.rmSync(p, { force: true });
    }
  }
  throw new QatmgrError('QATMGR_E_PROVISION_BUSY', `cannot take the lock ${p}`);
}
