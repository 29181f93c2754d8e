// The admin side of health: the `health` view and the validation of the relay's `heartbeat` pushes.

import { AdminError } from './wire.js';
import type { AdminContext } from './views.js';
import type { HealthView, PushedHeartbeat } from '../health/monitor.js';

export function healthView(ctx: AdminContext): HealthView {
  return ctx.manager.health.snapshot();
}

/** At most this many PFs per push (the PF table holds at most 256). */
const MAX_SAMPLES = 1024;

function bad(msg: string): AdminError {
  return new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', msg);
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/**
 * `{intervalMs, source?, samples: [{pf, status: 0|-1, sent, failed} | {pf, error: "EACCES"}]}`; anything else is a
 * bad request naming the field at fault (nothing of a bad push is taken).
 */
export function parseHeartbeatPush(args: Record<string, unknown>): { intervalMs: number; source: string | undefined; samples: PushedHeartbeat[] } {
  const iv = args.intervalMs;
  if (typeof iv !== 'number' || !Number.isInteger(iv) || iv < 100 || iv > 3_600_000) throw bad(`args.intervalMs must be an integer 100..3600000 (ms), got ${JSON.stringify(iv)}`);
  const source = args.source;
  if (source !== undefined && (typeof source !== 'string' || source.length > 128)) throw bad('args.source must be a string of at most 128 characters');
  const raw = args.samples;
  if (!Array.isArray(raw) || raw.length > MAX_SAMPLES) throw bad(`args.samples must be a list of at most ${MAX_SAMPLES} readings`);
  const samples = raw.map((r: unknown, i): PushedHeartbeat => {
    const at = `args.samples[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw bad(`${at} must be an object {pf, status, sent, failed} or {pf, error}`);
    const o = r as Record<string, unknown>;
    if (typeof o.pf !== 'string' || o.pf.length > 32) throw bad(`${at}.pf must be a PCI address string (e.g. "0000:6b:00.0")`);
    if (o.error !== undefined) {
      if (typeof o.error !== 'string' || !/^E[A-Z0-9]{1,15}$/.test(o.error)) throw bad(`${at}.error must be an errno name (e.g. "EACCES"), got ${JSON.stringify(o.error)}`);
      return { pf: o.pf, error: o.error };
    }
    if (o.status !== 0 && o.status !== -1) throw bad(`${at}.status must be 0 (alive) or -1, got ${JSON.stringify(o.status)}`);
    for (const k of ['sent', 'failed'] as const) {
      if (o[k] !== undefined && o[k] !== null && !count(o[k])) throw bad(`${at}.${k} must be a count (0..4294967295) or null, got ${JSON.stringify(o[k])}`);
    }
    const num = (v: unknown): number | undefined => (count(v) ? v : undefined);
    return { pf: o.pf, reading: { status: o.status === 0 ? 'alive' : 'not-alive', sent: num(o.sent), failed: num(o.failed) } };
  });
  return { intervalMs: iv, source: source as string | undefined, samples };
}
