#!/usr/bin/env node
// Entry point of the qatmgr daemon: parse settings, build the manager, listen, handle signals (logic lives in src/).

import path from 'node:path';
import { parseDaemonArgs, DAEMON_USAGE, type Settings } from '../src/config/settings.js';
import { createLogger, levelForDebug, type Logger } from '../src/log.js';
import { isQatmgrError } from '../src/errors.js';
import { buildManager, statusLine, type Manager } from '../src/manager.js';
import { prepareSocketPath } from '../src/server/listen.js';
import { parseSimSpec, generateHost, SIM_MARKER } from '../src/sim/index.js';
import fs from 'node:fs';

const UPSTREAM_VERSION = '26.08.0';

function fail(e: unknown, log?: Logger): never {
  if (isQatmgrError(e)) {
    if (log) log.error({ event: 'fatal', code: e.code }, e.message);
    else process.stderr.write(`qatmgr: ${e.message}\n`);
    process.exit(e.exitStatus);
  }
  process.stderr.write(`qatmgr: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    const out = parseDaemonArgs(process.argv.slice(2), process.env);
    if (out.kind === 'help') { process.stdout.write(DAEMON_USAGE); return; }
    if (out.kind === 'version') { process.stdout.write(`qatmgr ${UPSTREAM_VERSION}\n`); return; }
    settings = out.settings;
  } catch (e) {
    if (isQatmgrError(e) && e.code === 'QATMGR_E_USAGE') {
      process.stderr.write(`qatmgr: ${e.message}\n\n${DAEMON_USAGE}`);
      process.exit(1);
    }
    fail(e);
  }
  const log = createLogger({ level: levelForDebug(settings.debug) });
  for (const w of settings.warnings) log.warn({ event: 'config' }, w);

  if (settings.simulate !== undefined) {
    try {
      const host = parseSimSpec(settings.simulate);
      const dir = settings.simDir!;
      generateHost(dir, host, { force: fs.existsSync(path.join(dir, SIM_MARKER)) });
    } catch (e) { fail(e, log); }
  }

  let manager: Manager;
  try {
    manager = buildManager(settings, log);
    await prepareSocketPath(settings.socketPath);
    await manager.server.listen();
  } catch (e) { fail(e, log); }
  manager.readyMs = Date.now() - manager.startedAt;
  log.info({ event: 'ready', socket: settings.socketPath, ms: manager.readyMs }, `serving on ${settings.socketPath}: ${statusLine(manager)}`);
  if (settings.simulate !== undefined) {
    process.stdout.write(`qatmgr: simulated host in ${settings.simDir}\nqatmgr: serving ${statusLine(manager)} on ${settings.socketPath}\nqatmgr: try 'node dist/daemon/qatctl.js probe --socket ${settings.socketPath}' from another terminal; Ctrl-C stops\n`);
  }

  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'stop', signal: sig }, `${sig}: closing the socket`);
    manager.server.close().then(() => process.exit(0), () => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGPIPE', () => { /* a client went away mid-write: the socket reports it */ });
}

void main();
