// Upstream-compatible background mode without fork(): re-exec a detached child that reports "serving" or its error through a pipe.

import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { isQatmgrError } from '../errors.js';
import { acquirePidFile, type PidFileHandle } from './pidfile.js';

/** Environment variable naming the report pipe's descriptor in the re-executed daemon. */
export const REPORT_FD_ENV = 'QATMGR_DAEMON_REPORT_FD';
const REPORT_FD = 3;

export type RunMode = 'foreground' | 'systemd' | 'daemon-parent' | 'daemon-child';

/**
 * How this process runs: `--foreground` wins; a service manager (NOTIFY_SOCKET or LISTEN_FDS for us)
 * means stay in the foreground under it; the re-executed child knows itself by its report descriptor;
 * anything else is upstream's background mode.
 */
export function runMode(foreground: boolean, env: NodeJS.ProcessEnv, pid = process.pid): RunMode {
  if (foreground) return 'foreground';
  if (env[REPORT_FD_ENV] !== undefined) return 'daemon-child';
  if (env.NOTIFY_SOCKET) return 'systemd';
  if (env.LISTEN_FDS && env.LISTEN_PID === String(pid)) return 'systemd';
  return 'daemon-parent';
}

export interface DaemonModeOptions {
  foreground: boolean;
  /** Arguments to give the re-executed child (normally process.argv.slice(2)). */
  argv: string[];
  env?: NodeJS.ProcessEnv;
  pidFile: string;
  pidsRoot?: string;
  /** Script to re-execute (default process.argv[1]). */
  script?: string;
}

/** What the daemon entry gets back in every mode except the parent's. */
export interface Lifecycle {
  kind: 'serve';
  mode: Exclude<RunMode, 'daemon-parent'>;
  pidFile: PidFileHandle | undefined;
  /**
   * Take the pid file (background and service-manager modes; upstream's foreground mode has none):
   * a live qatmgr named in it is an error, a stale file is replaced, and it is removed on a clean exit.
   */
  takePidFile(): PidFileHandle | undefined;
  /** Call once the socket accepts: the waiting parent exits 0. */
  serving(): void;
  /** Call on a start-up failure: the waiting parent prints `message` whole and exits 1. Returns the exit status for this process. */
  failed(err: unknown): number;
}

export interface ParentOutcome {
  kind: 'parent';
  /** Resolves to the status the parent should exit with (0 = the child serves). */
  exitCode: Promise<number>;
}

function errorText(err: unknown): string {
  if (isQatmgrError(err)) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/**
 * Streams that the detached daemon may keep: a log file, or the journal (JOURNAL_STREAM names its
 * device:inode); a terminal, a pipe or someone's socketpair would be held open by the daemon forever.
 */
function keepableStdio(fd: number, env: NodeJS.ProcessEnv): 'inherit' | 'ignore' {
  try {
    const st = fs.fstatSync(fd);
    if (st.isFile()) return 'inherit';
    const journal = /^([0-9]+):([0-9]+)$/.exec(env.JOURNAL_STREAM ?? '');
    if (st.isSocket() && journal && Number(journal[1]) === st.dev && Number(journal[2]) === st.ino) return 'inherit';
  } catch {
    /* closed descriptor */
  }
  return 'ignore';
}

function startParent(opts: DaemonModeOptions, env: NodeJS.ProcessEnv): ParentOutcome {
  const script = opts.script ?? process.argv[1];
  const child = spawn(process.execPath, [...process.execArgv, script, ...opts.argv], {
    detached: true,
    stdio: ['ignore', keepableStdio(1, env), keepableStdio(2, env), 'pipe'],
    env: { ...env, [REPORT_FD_ENV]: String(REPORT_FD) },
  });
  const exitCode = new Promise<number>((resolve) => {
    const pipe = child.stdio[REPORT_FD] as NodeJS.ReadableStream | null;
    let report = '';
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let ended = false;
    let settled = false;
    const settle = (code: number, message?: string): void => {
      if (settled) return;
      settled = true;
      if (message) process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
      child.unref();
      (pipe as unknown as { destroy?: () => void })?.destroy?.();
      resolve(code);
    };
    const decide = (): void => {
      if (report.startsWith('OK')) return settle(0);
      if (report.startsWith('ERR\n')) return settle(1, `qatmgr: ${report.slice(4)}`);
      // EOF without a report: the child died before it could say anything; wait for its status to name it
      if (exited) {
        const how = exited.signal ? `was killed by ${exited.signal}` : `exited with status ${exited.code}`;
        return settle(1, `qatmgr: the daemon (pid ${child.pid}) ${how} before it was serving`);
      }
    };
    child.on('error', (e) => settle(1, `qatmgr: cannot start the daemon process: ${e.message}`));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      if (ended) decide();
    });
    if (!pipe) return settle(1, 'qatmgr: no report pipe to the daemon process');
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (report += d));
    pipe.on('error', () => undefined);
    pipe.on('end', () => {
      ended = true;
      if (report.startsWith('OK') || report.startsWith('ERR\n') || exited) decide();
    });
  });
  return { kind: 'parent', exitCode };
}

function reportTo(fd: number | undefined, text: string): void {
  if (fd === undefined) return;
  try {
    fs.writeSync(fd, text);
  } catch {
    /* the parent is gone (killed); nothing left to tell */
  }
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/**
 * Call first thing in the daemon entry. In background mode the calling process becomes the waiting parent
 * (`kind: 'parent'`: exit with the resolved status); every other mode gets a Lifecycle to report through.
 */
export function enterRunMode(opts: DaemonModeOptions): ParentOutcome | Lifecycle {
  const env = opts.env ?? process.env;
  const mode = runMode(opts.foreground, env);
  if (mode === 'daemon-parent') return startParent(opts, env);

  let reportFd: number | undefined;
  if (mode === 'daemon-child') {
    const text = env[REPORT_FD_ENV] ?? '';
    delete env[REPORT_FD_ENV];
    reportFd = /^[0-9]+$/.test(text) ? Number(text) : undefined;
    // what upstream's second child does: no controlling directory, files 0660 at most
    process.chdir('/');
    process.umask(0o117);
  }

  let done = false;
  const lifecycle: Lifecycle = {
    kind: 'serve',
    mode,
    pidFile: undefined,
    takePidFile() {
      if (mode === 'foreground' || lifecycle.pidFile) return lifecycle.pidFile;
      const pf = acquirePidFile(opts.pidFile, opts.pidsRoot);
      lifecycle.pidFile = pf;
      process.once('exit', () => pf.release());
      return pf;
    },
    serving() {
      if (done) return;
      done = true;
      reportTo(reportFd, `OK ${process.pid}\n`);
      reportFd = undefined;
    },
    failed(err) {
      const status = isQatmgrError(err) ? err.exitStatus : 1;
      if (!done) {
        done = true;
        reportTo(reportFd, `ERR\n${errorText(err)}\n`);
        reportFd = undefined;
      }
      lifecycle.pidFile?.release();
      return status;
    },
  };

  return lifecycle;
}
