#!/usr/bin/env node
// Entry point of the qatmgr daemon: parse settings, choose the run mode, build the manager, listen, report readiness, handle signals.

import path from 'node:path';
import fs from 'node:fs';
import { parseDaemonArgs, DAEMON_USAGE, type Settings } from '../src/config/settings.js';
import { createLogger, levelForDebug, resolveLogOutput, preloadLogger, type Logger } from '../src/log.js';
import { versionLine, RELEASE } from '../src/version.js';
import { isQatmgrError } from '../src/errors.js';
import { buildManager, statusLine, recountShares, type Manager } from '../src/manager.js';
import { startAdmin, type AdminHandle } from '../src/admin/index.js';
import { prepareSocketPath } from '../src/server/listen.js';
import { enterRunMode, type Lifecycle } from '../src/daemonize/daemonize.js';
import { createNotifier, type Notifier } from '../src/systemd/notify.js';
import { takeActivationSocket } from '../src/systemd/activation.js';
import { installTestHooks } from '../src/systemd/test-hooks.js';
import { Ledger, LEDGER_NAME } from '../src/sections/ledger.js';
import { lockRunDir } from '../src/daemonize/rundir.js';
import { loadLibc } from '../src/native/libc.js';
import { rescan } from '../src/rescan.js';
import type { KubeletPlugin } from '../src/kubelet/index.js';

function errorText(e: unknown): string {
  return isQatmgrError(e) ? e.message : ((e as Error).stack ?? String(e));
}

/**
 * A start-up failure: one plain line on stderr (readable in a terminal and in the journal), the same text to
 * whoever waits (the background-mode parent prints it whole; systemd gets STATUS=failed: ...), then the exit status.
 */
function fail(e: unknown, lc: Lifecycle, log: Logger, notifier: Notifier, journal: boolean): never {
  log.flush();
  // in background mode the waiting parent prints the error; the daemon's own stderr may be the same file or journal
  if (lc.mode !== 'daemon-child') process.stderr.write(`${journal ? '<3>' : ''}qatmgr: ${errorText(e)}${isQatmgrError(e) ? ` [${e.code}]` : ''}\n`);
  notifier.status(`failed: ${errorText(e)}`);
  process.exit(lc.failed(e));
}

function status(m: Manager): string {
  const adopted = m.allocator.adoptedSections().length;
  return adopted > 0 ? `${statusLine(m)}, ${adopted} adopted` : statusLine(m);
}

async function main(): Promise<void> {
  // ps, pidof, top and systemctl status show "qatmgr", not "node" (libuv sets argv[0] and the kernel's comm)
  process.title = 'qatmgr';
  let settings: Settings;
  try {
    const out = parseDaemonArgs(process.argv.slice(2), process.env);
    if (out.kind === 'help') { process.stdout.write(DAEMON_USAGE); return; }
    if (out.kind === 'version') { process.stdout.write(`${versionLine()}\n`); return; }
    settings = out.settings;
  } catch (e) {
    if (isQatmgrError(e) && e.code === 'QATMGR_E_USAGE') {
      process.stderr.write(`qatmgr: ${e.message}\nRun 'qatmgr --help' for the options.\n`);
      process.exit(1);
    }
    process.stderr.write(`qatmgr: ${errorText(e)}\n`);
    process.exit(isQatmgrError(e) ? e.exitStatus : 1);
  }

  // background mode without systemd: this process only waits for the re-executed daemon's report
  const mode = enterRunMode({ foreground: settings.foreground, argv: process.argv.slice(2), pidFile: settings.pidFile, pidsRoot: settings.roots.pids });
  if (mode.kind === 'parent') {
    process.exitCode = await mode.exitCode;
    return;
  }
  const lc = mode;

  const logOut = resolveLogOutput(settings.logFormat, settings.logTarget, process.env);
  const log = createLogger({ level: levelForDebug(settings.debug), ...logOut });
  for (const w of settings.warnings) log.warn({ event: 'config' }, w);
  const notifier = createNotifier({ onError: (m) => log.warn({ event: 'notify_failed' }, m) });
  installTestHooks(process.env, log);

  let manager: Manager;
  let ledger: Ledger;
  let admin: AdminHandle;
  let activated: { fd: number; name: string } | undefined;
  let kubelet: KubeletPlugin | undefined;
  try {
    // first of all: nothing in the run directory (pid file, ledger, sockets, a simulated host around it) is read or
    // written before this daemon holds its lock; a second daemon stops here having changed nothing
    const runLock = lockRunDir(settings.roots.run);
    process.once('exit', () => runLock.release());
    if (settings.simulate !== undefined) {
      // the simulator is loaded only when asked for: a daemon on a real host never pays for it; it is laid down
      // before the pid file is taken, since the pid file of a simulated host lives in its run directory
      const { parseSimSpec, generateHost, SIM_MARKER } = await import('../src/sim/index.js');
      const host = parseSimSpec(settings.simulate);
      const dir = settings.simDir!;
      generateHost(dir, host, { force: fs.existsSync(path.join(dir, SIM_MARKER)) });
    }
    const pf = lc.takePidFile();
    if (pf?.replaced) log.warn({ event: 'pidfile_replaced', path: pf.path, reason: pf.replaced }, `replaced stale pid file ${pf.path}: ${pf.replaced}`);
    const act = takeActivationSocket();
    if (act) {
      activated = act;
      for (const i of act.ignored) log.warn({ event: 'activation_fd_ignored', fd: i.fd, name: i.name }, `socket activation: ignoring fd ${i.fd} (${i.name})`);
    }
    manager = buildManager(settings, log, { listenFd: act?.fd });
    // the admin API records allocator events from here on, adoptions included
    admin = await startAdmin(manager, log, { version: RELEASE, metricsFd: act?.metricsFd });
    // adopt before the first client can be served: a new client must never get a VF a live old client holds
    ledger = new Ledger({ file: path.join(settings.roots.run, LEDGER_NAME), pidsRoot: settings.roots.pids, allocator: manager.allocator, log });
    manager.ledger = ledger;
    const restored = ledger.restore();
    // adopted holders count against their shares (unit and group shares read their /proc facts now)
    recountShares(manager);
    ledger.attach();
    if (restored.adopted.length || restored.problem) {
      log.info({ event: 'ledger_restored', adopted: restored.adopted.length, gone: restored.gone.length, problem: restored.problem?.kind }, `ledger: ${restored.adopted.length} sections adopted, ${restored.gone.length} owners gone`);
    }
    if (settings.kubelet) {
      // loaded only when asked for (gRPC with it): without --kubelet-plugin the daemon never pays for it.
      // Prepared before the socket serves: sections kept for the kubelet or reserved for pods are never first-fit.
      const { prepareKubelet } = await import('../src/kubelet/index.js');
      kubelet = prepareKubelet({ manager, ledger, settings: settings.kubelet, restored: restored.reservations, log });
      const k = kubelet;
      admin.ctx.kubelet = () => k.view();
      // every rescan (SIGHUP, qatctl rescan, a host change, a re-admission, a release) gives it the new pools, once
      // the rescan has finished
      manager.allocator.on('reshape', () => setImmediate(() => {
        k.refresh().catch((e) => log.error({ event: 'kubelet_refresh_failed', err: errorText(e) }, `kubelet plugin after the rescan: ${errorText(e)}`));
      }));
    }
    if (!act) await prepareSocketPath(settings.socketPath);
    await manager.server.listen();
    await kubelet?.start();
  } catch (e) {
    fail(e, lc, log, notifier, logOut.journal === true);
  }
  // signal handlers go in before READY=1: a service manager may stop us the moment we are ready
  let stopWatchdog = (): void => {};
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    notifier.stopping(`stopping (${sig})`);
    stopWatchdog();
    log.info({ event: 'stop', signal: sig }, `${sig}: closing the socket`);
    // the ledger stays: processes holding sections keep their VFs and the next daemon adopts them
    ledger.close();
    manager.health.stop();
    Promise.allSettled([kubelet?.close(), manager.server.close(), admin.close(), ledger.flushed()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGPIPE', () => { /* a client went away mid-write: the socket reports it */ });
  // STATUS= follows every grant and release (coalesced per event-loop turn)
  let statusQueued = false;
  const queueStatus = (): void => {
    if (statusQueued || !notifier.enabled) return;
    statusQueued = true;
    setImmediate(() => { statusQueued = false; notifier.status(status(manager)); });
  };
  manager.allocator.on('grant', queueStatus);
  manager.allocator.on('release', queueStatus);
  manager.allocator.on('adopt', queueStatus);

  let reloading = false;
  /** Re-read settings and devices into the running manager; throws (changing nothing) when the new scan fails. */
  const doRescan = (trigger: string): unknown => {
    if (reloading) throw new Error('a rescan is already running');
    reloading = true;
    notifier.reloading('rescanning devices and settings');
    try {
      const out = parseDaemonArgs(process.argv.slice(2), process.env);
      if (out.kind !== 'run') return null;
      for (const w of out.settings.warnings) log.warn({ event: 'config' }, w);
      const report = rescan(manager, out.settings, log, { trigger });
      log.level = levelForDebug(out.settings.debug);
      return report;
    } finally {
      reloading = false;
      notifier.ready(status(manager));
    }
  };
  admin.ctx.rescan = () => doRescan('admin');
  process.on('SIGHUP', () => {
    try {
      doRescan('sighup');
    } catch (e) {
      log.error({ event: 'rescan_failed', code: isQatmgrError(e) ? e.code : undefined }, `rescan failed, still serving the previous devices: ${errorText(e)}`);
    }
  });
  // follow the host without SIGHUP: the settings stay as they are, only the devices are looked at again
  const followHost = (trigger: string): void => {
    if (reloading) return;
    try {
      rescan(manager, manager.settings, log, { trigger, allowEmpty: true });
      queueStatus();
    } catch (e) {
      log.error({ event: 'rescan_failed', trigger, code: isQatmgrError(e) ? e.code : undefined }, `${trigger}: rescan failed, still serving the previous devices: ${errorText(e)}`);
    }
  };
  manager.health.on('host', (why) => followHost(`host: ${why}`));
  manager.health.on('readmit', (pfs) => followHost(`readmit PF ${pfs.join(', ')}`));

  // ready: the socket accepts, every handler is in place
  manager.readyMs = Date.now() - manager.startedAt;
  lc.serving();
  notifier.ready(status(manager));
  // before the first connection is served: what a request may need later is loaded now, while descriptors are
  // plenty (at the fd limit a require() of pino or koffi fails, and the first log line would kill the daemon)
  preloadLogger(log);
  loadLibc();
  stopWatchdog = notifier.startWatchdog();
  manager.health.start();
  // the one line -d 1 writes at start: what is served, where, with which policy (the details are at -d 2)
  const extras = [`policy ${settings.policy}`, settings.adminSocketPath ? `admin ${settings.adminSocketPath}` : 'no admin socket', admin.metricsAddress ? `metrics http://${admin.metricsAddress}/metrics` : ''].filter(Boolean);
  log.info({ event: 'ready', version: RELEASE, socket: settings.socketPath, activated: activated?.name, mode: lc.mode, policy: settings.policy, admin: settings.adminSocketPath, metrics: admin.metricsAddress, ms: manager.readyMs, watchdogMs: notifier.watchdogIntervalMs },
    `${versionLine()} serving on ${activated ? `fd ${activated.fd} (${activated.name})` : settings.socketPath}: ${status(manager)}; ${extras.join('; ')} (ready in ${manager.readyMs} ms)`);
  if (settings.simulate !== undefined && lc.mode === 'foreground') {
    process.stdout.write(`qatmgr: simulated host in ${settings.simDir}\nqatmgr: serving ${statusLine(manager)} on ${settings.socketPath}\nqatmgr: try 'qatctl probe --socket ${settings.socketPath}' from another terminal; Ctrl-C stops\n`);
  }
}

void main();
