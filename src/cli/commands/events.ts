// `qatctl events`: the daemon's recent grants, releases, forced releases, refusals (with reasons) and drains.

import { parseArgs } from 'node:util';
import type { Command, CliIo } from '../command.js';
import { EVENT_KINDS, type AdminEvent, type EventKind } from '../../admin/events.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, table, formatTime } from '../admin-common.js';
import { type Colour } from '../../text/colour.js';

const KINDS = EVENT_KINDS;
const KIND_COLOUR: Partial<Record<EventKind, Colour>> = { refusal: 'red', 'forced-release': 'yellow', drain: 'yellow', undrain: 'cyan', health: 'red', rescan: 'cyan' };

const usage = `Usage: qatctl events [OPTIONS] [--kind KIND]... [--limit N] [--after SEQ]

Recent events from the daemon's ring buffer (the last 4096): grants, releases (put, disconnect),
forced releases, refusals with the reason (which sections were held and by whom, VFs out of service),
drains and undrains, PF health changes (from -> to, why, holders affected) and rescans (what asked
for it: SIGHUP, qatctl rescan, a host change, a re-admitted PF, a release). Oldest first.

  --kind KIND          only these kinds (repeatable): ${KINDS.join(', ')}
  --limit N            the last N events (default 50; 0 = all in the ring)
  --after SEQ          only events after sequence number SEQ

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export function eventsTable(io: CliIo, events: AdminEvent[]): string {
  return table(io, ['SEQ', 'TIME', 'EVENT', 'SECTION', 'PID', 'UID', 'PROCESS', 'VFS', 'REASON'],
    events.map((e) => [e.seq, formatTime(e.time), e.kind, e.section, e.pid, e.uid, e.processName, e.bdfs.join(','), e.reason]),
    events.map((e) => KIND_COLOUR[e.kind]));
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'recent grants, releases, forced releases, refusals (with reasons), drains',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { ...ADMIN_OPTIONS, kind: { type: 'string', multiple: true }, limit: { type: 'string' }, after: { type: 'string' } },
    });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    const kinds = values.kind ?? [];
    for (const k of kinds) if (!KINDS.includes(k as EventKind)) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--kind "${k}" is not one of ${KINDS.join(', ')}`);
    const num = (name: string, v: string | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (!/^\d+$/.test(v)) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--${name} "${v}" is not a whole number`);
      return Number(v);
    };
    const limit = num('limit', values.limit, 50);
    const after = values.after === undefined ? undefined : num('after', values.after, 0);
    const r = await withAdmin(values, io, (c) => c.request<{ capacity: number; lastSeq: number; events: AdminEvent[] }>('events', {
      kinds: kinds.length ? kinds : undefined, limit: limit === 0 ? undefined : limit, afterSeq: after,
    }));
    if (values.json) { writeJson(io, r); return 0; }
    if (r.events.length === 0) { io.out.write('no events\n'); return 0; }
    io.out.write(eventsTable(io, r.events));
    return 0;
  },
};
