// `qatctl heartbeat-relay`: the privileged helper that reads debugfs heartbeats (root only) for the hardened daemon.

import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, CliIo } from '../command.js';
import { ROOT_OPTIONS, rootsFromOptions, under, type Roots } from '../../config/roots.js';
import { durationOption } from '../../config/numbers.js';
import { DEBUGFS_UNDER_SYS, HB_TIMER_MIN_MS } from '../../kernel/health.js';
import { readPfTable } from '../../platform/pfs.js';
import { DebugfsHeartbeat, heartbeatDir, type HeartbeatRead } from '../../health/heartbeat.js';
import { AdminClient } from '../../admin/client.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { adminSocketPath } from '../admin-common.js';

const usage = `Usage: qatctl heartbeat-relay [OPTIONS]

Reads the firmware heartbeat of every QAT PF from debugfs (<debugfs>/qat_<class>_<bdf>/heartbeat/status,
queries_sent, queries_failed) and pushes the readings to the daemon over its admin socket, every interval.
debugfs is root-only and the hardened daemon is not root: this relay runs as root in its own sandboxed unit
(qat-heartbeat.service) and is all the privilege the heartbeat needs. It prints one line when a PF's heartbeat
changes and when the daemon goes away or comes back; it never stops because the daemon is not there.

  --interval DURATION  time between readings (default 500ms; at least ${HB_TIMER_MIN_MS}ms: the kernel refuses
                       heartbeat checks closer than its timer)
  --debugfs-root DIR   debugfs (default <sysfs-root>/kernel/debug)
  --once               read and push once, print the readings as JSON, exit (0 pushed, 3 daemon unreachable)
  --sim-dir DIR, --sysfs-root DIR   the host to read (a simulated one, for tests)
  --admin-socket PATH, --run-dir DIR, --socket PATH   where the daemon is (as for the admin commands)
  -h, --help           this help
`;

interface Sample {
  pf: string;
  status?: 0 | -1;
  sent?: number | null;
  failed?: number | null;
  error?: string;
}

function toSample(pf: string, r: HeartbeatRead): Sample {
  if (!r.ok) return { pf, error: r.error === 'EBADVALUE' ? 'EINVAL' : r.error };
  return { pf, status: r.reading.status === 'alive' ? 0 : -1, sent: r.reading.sent ?? null, failed: r.reading.failed ?? null };
}

function describe(s: Sample): string {
  if (s.error) return `cannot be read (${s.error})`;
  return s.status === 0 ? 'alive' : `not responding (queries_failed ${s.failed ?? '?'})`;
}

class Relay {
  private readers = new Map<string, DebugfsHeartbeat>();
  private pfsAt = 0;
  private last = new Map<string, string>();

  constructor(private readonly roots: Roots, private readonly debugfs: string, private readonly io: CliIo, private readonly quiet: boolean) {}

  /**
   * One reading of every PF (the PF table is read again every 10 s). What is pushed: the readings that are not a plain
   * "alive" and those that changed; every 10 s all of them, counters included (the daemon's reference for a -1).
   * A push goes out every round even when empty: it tells the daemon the relay is there.
   */
  read(now: number): Sample[] {
    const all = now - this.pfsAt > 10_000;
    if (all) {
      this.pfsAt = now;
      let pfs: Array<{ bdf: string; driver: string }> = [];
      try { pfs = readPfTable(this.roots); } catch (e) { this.io.err.write(`heartbeat-relay: ${(e as Error).message}\n`); }
      const next = new Map<string, DebugfsHeartbeat>();
      for (const p of pfs) next.set(p.bdf, this.readers.get(p.bdf) ?? new DebugfsHeartbeat(heartbeatDir(this.debugfs, p.driver, p.bdf)));
      for (const [bdf, r] of this.readers) if (!next.has(bdf)) r.close();
      this.readers = next;
    }
    const out: Sample[] = [];
    for (const [pf, r] of this.readers) {
      const s = toSample(pf, r.read(all || this.quiet));
      const d = describe(s);
      const changed = this.last.get(pf) !== d;
      if (all || changed || s.status !== 0) out.push(s);
      if (changed) {
        if (!this.quiet) this.io.out.write(`heartbeat-relay: PF ${pf}: heartbeat ${d}\n`);
        this.last.set(pf, d);
      }
    }
    return out;
  }

  get count(): number {
    return this.readers.size;
  }
}

export const heartbeatRelayCommand: Command = {
  name: 'heartbeat-relay',
  summary: 'root helper: read debugfs heartbeats and push them to the hardened daemon (qat-heartbeat.service)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...ROOT_OPTIONS, interval: { type: 'string' }, once: { type: 'boolean' }, 'debugfs-root': { type: 'string' },
        'admin-socket': { type: 'string' }, socket: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) { io.out.write(usage); return 0; }
    // the kernel refuses heartbeat checks closer than its timer
    const interval = durationOption('interval', values.interval, 500, HB_TIMER_MIN_MS, 3_600_000);
    const roots = rootsFromOptions(values, io.cwd);
    const debugfs = values['debugfs-root'] ? path.resolve(io.cwd, values['debugfs-root']) : under(roots.sys, DEBUGFS_UNDER_SYS);
    const sock = adminSocketPath({ ...values, 'run-dir': values['run-dir'] ?? (values['sim-dir'] ? roots.run : undefined) }, io);
    const relay = new Relay(roots, debugfs, io, values.once === true);
    const push = async (client: AdminClient, samples: Sample[]): Promise<unknown> =>
      client.request('heartbeat', { intervalMs: interval, source: `heartbeat-relay pid ${process.pid}`, samples });

    if (values.once) {
      const samples = relay.read(Date.now());
      let answer: unknown;
      try {
        const c = await AdminClient.connect(sock);
        try { answer = await push(c, samples); } finally { c.close(); }
      } catch (e) {
        io.out.write(`${JSON.stringify({ samples, pushed: false, error: (e as Error).message }, null, 2)}\n`);
        return 3;
      }
      io.out.write(`${JSON.stringify({ samples, pushed: true, answer }, null, 2)}\n`);
      return 0;
    }

    io.out.write(`heartbeat-relay: reading heartbeats under ${debugfs} every ${interval} ms, pushing to ${sock}\n`);
    let stop = false;
    const onSig = (): void => { stop = true; };
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    let client: AdminClient | undefined;
    let reachable: boolean | undefined;
    try {
      while (!stop) {
        const t0 = Date.now();
        const samples = relay.read(t0);
        try {
          client ??= await AdminClient.connect(sock, Math.max(1000, interval));
          await push(client, samples);
          if (reachable !== true) io.out.write(`heartbeat-relay: pushing ${relay.count} PF reading(s) to the daemon at ${sock}\n`);
          reachable = true;
        } catch (e) {
          client?.close();
          client = undefined;
          if (reachable !== false) io.out.write(`heartbeat-relay: the daemon is not reachable (${(e as Error).message}); trying again every ${interval} ms\n`);
          reachable = false;
          // a refusal (not root, bad push) does not get better by retrying fast
          if (e instanceof QatmgrError && e.code !== ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE) await sleep(10 * interval, () => stop);
        }
        await sleep(Math.max(0, interval - (Date.now() - t0)), () => stop);
      }
    } finally {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      client?.close();
    }
    return 0;
  },
};

/** Sleep, waking early (in 100 ms steps) when `stopped()` turns true. */
async function sleep(ms: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!stopped() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
}
