// `qatctl probe`: act as a libqat client, do the start-up handshake, print what a process would be given, release.

import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { QatClient, BadReply, type HandshakeResult } from '../../client/qatclient.js';
import { DEFAULT_PROTOCOL_VERSION } from '../../config/settings.js';
import { Serv, serviceNames } from '../../devices/services.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_TIMEOUT_MS, timeoutMs, table, writeJson } from '../admin-common.js';

const DEFAULT_SOCKET = '/run/qat/qatmgr.sock';

const usage = `Usage: qatctl probe [--socket PATH | --run-dir DIR] [--name NAME] [--timeout DURATION] [--hold] [--json]

Connects like libqat does at start-up (SECTION_GET, NUM_DEVICES, per device DEVICE_ID, DEVICE_INFO,
VFIO_FILE, INSTANCE_NAME and INSTANCE_INFO for every instance, NUM_PF_DEVS, PF_DEV_INFO), prints what a
process would be given (services by name, instances as 'qatctl sections --instances' lists them), then
releases the section (SECTION_PUT).

Options:
  --socket PATH       manager socket (default ${DEFAULT_SOCKET})
  --run-dir DIR       the daemon's run directory: DIR/qatmgr.sock
  --name NAME         process name sent in SECTION_GET (default SSL)
  --timeout DURATION  give up when the manager does not answer within this (default ${DEFAULT_TIMEOUT_MS / 1000}s)
  --hold              keep the section until interrupted (Ctrl-C, SIGTERM), like a running libqat process
                      (also across a manager restart, which adopts it)
  --json              machine-readable output (one JSON document, printed before holding)
Exit status: 0 a section was granted (and released); 2 the manager refused (e.g. "No section available");
3 the manager cannot be reached or does not answer within --timeout; 1 bad usage.
`;

/** Instance names of one device as the admin API lists them (asym, sym, dc, decomp), asked over the socket. */
async function instanceNames(c: QatClient, d: number, info: HandshakeResult['devices'][number]['info']): Promise<string[]> {
  const kinds: Array<[number, number]> = [[Serv.ASYM, info.numAsym], [Serv.SYM, info.numSym], [Serv.DC, info.numDc], [Serv.DECOMP, info.numDecomp]];
  const out: string[] = [];
  for (const [code, n] of kinds) for (let k = 0; k < n; k++) out.push(await c.instanceName(code, k, d));
  return out;
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'act as a libqat client: show exactly what a process would be given, then release',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        socket: { type: 'string' }, 'run-dir': { type: 'string' }, name: { type: 'string' }, timeout: { type: 'string' },
        hold: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) { io.out.write(usage); return EXIT.OK; }
    const wait = timeoutMs(values);
    const socket = values.socket ? path.resolve(io.cwd, values.socket) : values['run-dir'] ? path.resolve(io.cwd, values['run-dir'], 'qatmgr.sock') : DEFAULT_SOCKET;
    let client: QatClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    // one deadline over the whole conversation: a socket that accepts but never answers is as unreachable as none
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        client?.destroy();
        reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${socket}: the manager did not answer within ${wait} ms`));
      }, wait);
    });
    try {
      const r = await Promise.race([(async () => {
        client = await QatClient.connect(socket, DEFAULT_PROTOCOL_VERSION).catch((e: NodeJS.ErrnoException) => {
          throw new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `cannot connect to ${socket}: ${e.code ?? e.message}${e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? ' (is qatmgr running? point elsewhere with --socket or --run-dir)' : ''}`);
        });
        if (timedOut) client.destroy(); // connected after the deadline: the handshake below fails at once
        const h = await client.handshake(values.name ?? 'SSL');
        const names = [];
        for (const d of h.devices) names.push(await instanceNames(client, d.index, d.info));
        return { h, names };
      })(), deadline]);
      clearTimeout(timer);
      const { h, names } = r;
      const devices = h.devices.map((d, i) => ({ ...d, serviceNames: serviceNames(d.info.services), instanceNames: names[i] }));
      if (values.json) writeJson(io, { socket, pid: process.pid, ...h, devices, held: values.hold === true });
      else {
        io.out.write(`section ${h.section} (${h.devices.length} devices, ${h.pfs.length} PFs) from ${socket}\n\n`);
        io.out.write(table(io,
          ['DEV', 'BDF', 'NAME', 'VFIO', 'PKG', 'NODE', 'SERVICES', 'CAPS', 'CY', 'DC', 'DECOMP', 'INSTANCES'],
          devices.map((d) => [d.index, d.id, d.info.deviceName, d.vfio.path, d.info.pkgId, d.info.nodeId, d.serviceNames.join(';'),
            `0x${d.info.capabilityMask.toString(16).padStart(8, '0')}`, d.info.numCy, d.info.numDc, d.info.numDecomp, d.instanceNames.join(',')])));
      }
      if (values.hold) {
        if (!values.json) io.out.write(`\nholding ${h.section}; Ctrl-C releases it\n`);
        await new Promise<void>((resolve) => {
          // a timer keeps the process alive once the manager's connection is gone (signal handlers do not)
          const alive = setInterval(() => {}, 1 << 30);
          const done = (): void => { clearInterval(alive); process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
          // a manager that restarts closes the connection; the process keeps holding its VFs (as libqat does) and the
          // next manager adopts the section from its ledger, so the hold lasts until we are told to stop
        });
      }
      if (!client!.isClosed) await client!.sectionPut(h.section);
      if (!values.json) io.out.write(`${values.hold ? '' : '\n'}released\n`);
      return EXIT.OK;
    } catch (e) {
      if (e instanceof BadReply) {
        io.err.write(`qatctl probe: the manager refused: ${e.text}\n`);
        return EXIT.FAILED;
      }
      throw e;
    } finally {
      clearTimeout(timer);
      if (timedOut) client?.destroy();
      else await client?.close();
    }
  },
};
