// `qatctl migrate`: translate OOT /etc/<family>_dev<N>.conf files into /etc/sysconfig/qat and report what is lost.

import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from '../command.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { readOotFile } from '../../migrate/ootconf.js';
import { planMigration } from '../../migrate/plan.js';
import { renderPlan } from '../../migrate/render.js';
import { writeSysconfig, type WriteOutcome } from '../../migrate/write.js';

const usage = `Usage: qatctl migrate FILE [FILE ...] [--write] [--out PATH] [--etc-root DIR] [--force] [--json]

Reads the out-of-tree package's device configs (e.g. /etc/4xxx_dev0.conf /etc/4xxx_dev1.conf) and prints:
  - the /etc/sysconfig/qat that best matches them (POLICY from NumProcesses/LimitDevAccess and the
    instance counts, ServicesEnabled merged across devices), one line of reasoning per choice;
  - what does not carry over to qatlib + qatmgr (FOUND in the configs, APPLIES always, CHECK the
    application), with the consequence and what to do;
  - the application build changes.
All files are parsed before anything is written; a malformed file is an error naming file and line.

Options:
  --write          write the file (atomically: temporary file + rename; an existing file is kept as .bak)
  --out PATH       where to write (default <etc-root>/sysconfig/qat)
  --etc-root DIR   configuration root (default /etc)
  --force          replace an existing file even if it holds other settings (LKCF_LIST, ...)
  --json           print the plan as JSON
  -h, --help       this text

Exit status: 0 success, 1 bad usage, malformed config or refused write.
`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'translate OOT <family>_dev<N>.conf files into /etc/sysconfig/qat and list what does not carry over',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        write: { type: 'boolean' }, out: { type: 'string' }, 'etc-root': { type: 'string' }, force: { type: 'boolean' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    if (values.help) { io.out.write(usage); return 0; }
    if (positionals.length === 0) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, 'migrate needs at least one OOT config file (e.g. /etc/4xxx_dev0.conf)');
    const files = positionals.map((p) => readOotFile(path.resolve(io.cwd, p), p));
    const plan = planMigration(files);
    const etc = path.resolve(io.cwd, values['etc-root'] ?? '/etc');
    const outPath = values.out ? path.resolve(io.cwd, values.out) : path.join(etc, 'sysconfig', 'qat');
    const shownOut = values.out ?? path.join(values['etc-root'] ?? '/etc', 'sysconfig', 'qat');
    let wrote: WriteOutcome | undefined;
    if (values.write) {
      wrote = writeSysconfig(outPath, plan.sysconfigText, values.force ?? false);
      wrote = { ...wrote, path: shownOut, backup: wrote.backup ? `${shownOut}.bak` : null };
    }
    if (values.json) {
      io.out.write(`${JSON.stringify({ ...plan, out: shownOut, write: wrote ?? null }, null, 2)}\n`);
    } else {
      io.out.write(renderPlan(plan, shownOut, wrote));
    }
    return 0;
  },
};
