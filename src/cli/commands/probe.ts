// `qatctl probe`: act as a libqat client, do the start-up handshake, print what a process would be given, release.

import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { QatClient, BadReply } from '../../client/qatclient.js';
import { renderTable } from '../../text/table.js';
import { DEFAULT_PROTOCOL_VERSION } from '../../config/settings.js';

const DEFAULT_SOCKET = '/run/qat/qatmgr.sock';

const usage = `Usage: qatctl probe [--socket PATH | --run-dir DIR] [--name NAME] [--json]

Connects like libqat does at start-up (SECTION_GET, NUM_DEVICES, per device DEVICE_ID, DEVICE_INFO,
VFIO_FILE, INSTANCE_NAME and INSTANCE_INFO for every instance, NUM_PF_DEVS, PF_DEV_INFO), prints what a
process would be given, then releases the section (SECTION_PUT).

Options:
  --socket PATH   manager socket (default ${DEFAULT_SOCKET})
  --run-dir DIR   the daemon's run directory: DIR/qatmgr.sock
  --name NAME     process name sent in SECTION_GET (default SSL)
  --json          machine-readable output
Exit status: 0 a section was granted and released; 2 the manager refused (e.g. "No section available");
1 the manager could not be reached.
`;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'act as a libqat client: show exactly what a process would be given, then release',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { socket: { type: 'string' }, 'run-dir': { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) { io.out.write(usage); return 0; }
    const socket = values.socket ?? (values['run-dir'] ? path.resolve(io.cwd, values['run-dir'], 'qatmgr.sock') : DEFAULT_SOCKET);
    let client: QatClient;
    try {
      client = await QatClient.connect(socket, DEFAULT_PROTOCOL_VERSION);
    } catch (e) {
      io.err.write(`qatctl probe: cannot connect to ${socket}: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      const r = await client.handshake(values.name ?? 'SSL');
      await client.sectionPut(r.section);
      if (values.json) {
        io.out.write(`${JSON.stringify({ socket, ...r }, null, 2)}\n`);
        return 0;
      }
      io.out.write(`section ${r.section} (${r.devices.length} devices, ${r.pfs.length} PFs) from ${socket}\n\n`);
      io.out.write(renderTable(
        ['dev', 'bdf', 'name', 'vfio', 'pkg', 'node', 'services', 'caps', 'cy', 'dc', 'decomp', 'instances'],
        r.devices.map((d) => [d.index, d.id, d.info.deviceName, d.vfio.path, d.info.pkgId, d.info.nodeId, d.info.services,
          `0x${d.info.capabilityMask.toString(16).padStart(8, '0')}`, d.info.numCy, d.info.numDc, d.info.numDecomp,
          d.instances.map((i) => `${i.name}@b${i.type === 'cy' && d.info.numAsym && !d.info.numSym ? i.info.asym.bank : i.info.first.bank}/cpu${i.info.first.core}`).join(' ')]),
      ));
      io.out.write('\nreleased\n');
      return 0;
    } catch (e) {
      if (e instanceof BadReply) {
        io.err.write(`qatctl probe: the manager refused: ${e.text}\n`);
        return 2;
      }
      io.err.write(`qatctl probe: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await client.close();
    }
  },
};
