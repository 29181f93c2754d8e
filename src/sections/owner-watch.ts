// Tell when a process (pid + start time) exits: a pidfd polled on the event loop where the kernel has one, else a bounded /proc poll.

import { pidfdOpen, closeFd, watchReadable, ERRNO } from '../native/unix-dgram.js';
import { mayBeSameProcess } from '../platform/processes.js';
import type { OpenFn } from '../platform/fd-reserve.js';

export type WatchMethod = 'pidfd' | 'proc-poll';

interface Watched {
  pid: number;
  startTime: string;
  onExit: () => void;
  method: WatchMethod;
  stop: () => void;
}

export interface OwnerWatchOptions {
  pidsRoot: string;
  /** Interval of the /proc fallback poll (default 1000 ms). */
  pollMs?: number;
  /** Never use pidfd (tests of the fallback; kernels before 5.3). */
  noPidfd?: boolean;
  /** How /proc/<pid>/stat is opened (a descriptor reserve at the fd limit); default fs.openSync. */
  open?: OpenFn;
}

export class OwnerWatch {
  private readonly watched = new Set<Watched>();
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly pollMs: number;

  constructor(private readonly opts: OwnerWatchOptions) {
    this.pollMs = opts.pollMs ?? 1000;
  }

  get size(): number {
    return this.watched.size;
  }

  /**
   * Call `onExit` once the process ends (immediately, on the next tick, if it is already gone or the pid
   * now belongs to another process). Returns how it is watched.
   */
  watch(pid: number, startTime: string, onExit: () => void): WatchMethod {
    const w: Watched = { pid, startTime, onExit, method: 'proc-poll', stop: () => {} };
    if (!this.opts.noPidfd) {
      const r = pidfdOpen(pid);
      if ('fd' in r) {
        // the pid may have been reused between the caller's check and the open: check again on the pidfd's process
        if (!mayBeSameProcess(this.opts.pidsRoot, pid, startTime, this.opts.open)) {
          closeFd(r.fd);
          setImmediate(onExit);
          return 'pidfd';
        }
        const fd = r.fd;
        const handle = watchReadable(fd, () => this.fire(w));
        w.method = 'pidfd';
        w.stop = () => {
          handle.close();
          closeFd(fd);
        };
        this.watched.add(w);
        return 'pidfd';
      }
      // ESRCH: already gone
      if (r.errno === ERRNO.ESRCH) {
        setImmediate(onExit);
        return 'pidfd';
      }
    }
    this.watched.add(w);
    this.ensurePoll();
    return 'proc-poll';
  }

  private fire(w: Watched): void {
    if (!this.watched.delete(w)) return;
    w.stop();
    w.onExit();
  }

  private ensurePoll(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      let polling = 0;
      for (const w of [...this.watched]) {
        if (w.method !== 'proc-poll') continue;
        // a /proc read that fails (EMFILE) is not an exit: the section stays held until the process is seen gone
        if (!mayBeSameProcess(this.opts.pidsRoot, w.pid, w.startTime, this.opts.open)) this.fire(w);
        else polling++;
      }
      if (polling === 0 && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    }, this.pollMs);
    this.pollTimer.unref();
  }

  close(): void {
    for (const w of this.watched) w.stop();
    this.watched.clear();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
