// The firmware heartbeat of a PF: read from debugfs (root only), or pushed by the privileged relay, and judged.

import path from 'node:path';
import { KeptAttr } from '../platform/kept-attr.js';
import {
  HEARTBEAT_DIR, HEARTBEAT_FILES, debugfsDirName, heartbeatVerdict, parseCounter, parseHeartbeatStatus,
  type HeartbeatCounters, type HeartbeatStatus,
} from '../kernel/health.js';

/** One read of a PF's heartbeat files: status, and the counters right after it. */
export interface HeartbeatReading {
  status: HeartbeatStatus;
  sent?: number;
  failed?: number;
}

export type HeartbeatRead =
  | { ok: true; reading: HeartbeatReading }
  | { ok: false; error: string; path: string; text?: string };

/** `<debugfs>/qat_<class>_<bdf>/heartbeat/`. */
export function heartbeatDir(debugfsRoot: string, pfDriver: string, pfBdf: string): string {
  return path.join(debugfsRoot, debugfsDirName(pfDriver, pfBdf), HEARTBEAT_DIR);
}

/** Reads one PF's heartbeat through kept descriptors (each read of `status` is a check by the kernel). */
export class DebugfsHeartbeat {
  private readonly status: KeptAttr;
  private readonly sent: KeptAttr;
  private readonly failed: KeptAttr;

  constructor(readonly dir: string) {
    this.status = new KeptAttr(path.join(dir, HEARTBEAT_FILES.status));
    this.sent = new KeptAttr(path.join(dir, HEARTBEAT_FILES.sent));
    this.failed = new KeptAttr(path.join(dir, HEARTBEAT_FILES.failed));
  }

  /**
   * Read `status`; the counters too when it is not "0" or when `counters` (full looks), so that a -1 is judged
   * against counters read before it, without paying two more reads per tick while the firmware answers.
   */
  read(counters = true): HeartbeatRead {
    const r = this.status.read();
    if (!r.ok) return { ok: false, error: r.error, path: this.status.path };
    const status = parseHeartbeatStatus(r.text);
    if (status === undefined) return { ok: false, error: 'EBADVALUE', path: this.status.path, text: r.text };
    if (status === 'alive' && !counters) return { ok: true, reading: { status } };
    const counter = (a: KeptAttr): number | undefined => {
      const c = a.read();
      return c.ok ? parseCounter(c.text) : undefined;
    };
    return { ok: true, reading: { status, sent: counter(this.sent), failed: counter(this.failed) } };
  }

  close(): void {
    this.status.close();
    this.sent.close();
    this.failed.close();
  }
}

/** Turns successive readings of one PF into verdicts (the counters of the previous reading decide a -1). */
export class HeartbeatJudge {
  private prev: HeartbeatCounters | undefined;

  judge(r: HeartbeatReading): 'alive' | 'failed' | 'unchecked' {
    const cur = r.sent !== undefined && r.failed !== undefined ? { sent: r.sent, failed: r.failed } : undefined;
    // an "alive" read without counters keeps the last counters as the reference for the next -1
    if (r.status === 'alive' && !cur) return 'alive';
    const v = heartbeatVerdict(r.status, cur, this.prev);
    this.prev = cur;
    return v;
  }

  /** The heartbeat files were made again (the device restarted): their counters start from 0. */
  forget(): void {
    this.prev = undefined;
  }
}
