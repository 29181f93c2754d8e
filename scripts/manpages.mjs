#!/usr/bin/env node
// Write qatmgr(8) and qatctl(8) from the built program's own help texts (so the pages say what --help says).
// Usage: node scripts/manpages.mjs OUTDIR   (after npm run build)

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'build', 'man'));
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href);

const { DAEMON_USAGE } = await load('src/config/settings.js');
const { COMMANDS } = await load('src/cli/commands/index.js');
const { mainUsage } = await load('src/cli/main.js');
const { EXIT_TABLE } = await load('src/cli/exit-codes.js');
const { RELEASE, versionLine } = await load('src/version.js');

const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000 || Date.now()).toISOString().slice(0, 10);

/** Text safe inside roff: backslashes doubled, a leading dot or quote kept from being a request. */
function esc(line) {
  const t = line.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(t) ? `\\&${t}` : t;
}
/** A help text as a preformatted block (its columns are already aligned). */
const verbatim = (text) => ['.nf', ...text.replace(/\n+$/, '').split('\n').map(esc), '.fi'].join('\n');
const section = (name, body) => `.SH ${name}\n${body}\n`;
const header = (name, summary) => `.TH ${name.toUpperCase()} 8 "${date}" "qatmgr-ts ${RELEASE}" "System Administration"\n.SH NAME\n${name} \\- ${summary}\n`;

const FILES = `.TP
.I /etc/sysconfig/qat
Settings (POLICY, ServicesEnabled, KernelVfs, QATMGR_DEBUG, QATMGR_LOG_FORMAT, QATMGR_METRICS_LISTEN,
QATMGR_IDLE_TIMEOUT, QATMGR_MAX_CONNECTIONS, ...), read as systemd's EnvironmentFile= reads it.
.TP
.I /run/qat/qatmgr.sock
The libqat client socket (owned by qat.socket under systemd), mode 0660, group qat.
.TP
.I /run/qat/qatmgr\\-admin.sock
The admin API (JSON lines) used by qatctl.
.TP
.I /run/qat/qatmgr.ledger
Allocations that survive a daemon restart.
.TP
.I /usr/lib/systemd/system/qat.service, qat.socket, qat\\-metrics.socket
The units; qat\\-metrics.socket serves Prometheus metrics on 127.0.0.1:9464 without giving the service network access.
.TP
.I /usr/share/doc/qatmgr\\-ts/
README.md and docs/ (systemd.md, admin\\-api.md, provisioning.md, performance.md).
`;

const qatmgr = [
  header('qatmgr', 'hand Intel QuickAssist (QAT) virtual functions to libqat processes'),
  section('SYNOPSIS', '.B qatmgr\n[\\fIOPTIONS\\fR]'),
  section('DESCRIPTION', `qatmgr serves the socket that libqat asks for QAT VFs at start\\-up, speaking the wire protocol of ${esc(versionLine().replace(/^qatmgr-ts \S+ /, '').replace(/[()]/g, ''))}.
Under systemd it is socket\\-activated (qat.socket), runs unprivileged and sandboxed, reports readiness and status,
logs to the journal with a priority per line, and keeps the allocations of live processes across restarts.`),
  section('OPTIONS', verbatim(DAEMON_USAGE)),
  section('EXIT STATUS', '0 clean stop; 1 bad usage or settings; 234 policy larger than the VF count or an unknown service; 255 no QAT device, or the socket is in use.'),
  section('FILES', FILES),
  section('SEE ALSO', '.BR qatctl (8),\n.BR systemd.service (5),\n.BR journalctl (1)'),
].join('');

const exitRows = EXIT_TABLE.map(([n, t]) => `.TP\n.B ${n}\n${esc(t)}`).join('\n');
const commands = COMMANDS.map((c) => `.SS ${c.name}\n${esc(c.summary)}\n.PP\n${verbatim(c.usage)}`).join('\n');
const qatctl = [
  header('qatctl', 'inspect and manage the QAT manager (qatmgr\\-ts) and the host it serves'),
  section('SYNOPSIS', '.B qatctl\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n.br\n.B qatctl help\n[\\fICOMMAND\\fR | \\fBexit\\-codes\\fR]'),
  section('DESCRIPTION', verbatim(mainUsage())),
  section('COMMANDS', commands),
  section('EXIT STATUS', `Every command uses the same numbers:\n${exitRows}`),
  section('FILES', FILES),
  section('SEE ALSO', '.BR qatmgr (8)'),
].join('');

fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'qatmgr.8'), qatmgr);
fs.writeFileSync(path.join(out, 'qatctl.8'), qatctl);
console.log(`manpages: ${path.join(out, 'qatmgr.8')}, ${path.join(out, 'qatctl.8')}`);
