// sd_notify(3) for the daemon: READY/STATUS/STOPPING/RELOADING and the watchdog, a no-op without $NOTIFY_SOCKET.

import { loadSdNotify, type SdNotify } from '../native/libsystemd.js';
import { dgramSocket, sendDatagram, closeFd } from '../native/unix-dgram.js';

export type NotifyTransport = 'libsystemd' | 'libc' | 'none';

export interface NotifierOptions {
  /** Environment to read NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Force a transport; 'auto' (default) = libsystemd when it loads and env is process.env, else libc sendto. */
  transport?: 'auto' | 'libsystemd' | 'libc';
  pid?: number;
  /** Told about a failed send (the daemon logs it once; a failed notification never stops the daemon). */
  onError?: (message: string) => void;
}

export interface Notifier {
  /** True when a service manager listens ($NOTIFY_SOCKET set). */
  readonly enabled: boolean;
  readonly transport: NotifyTransport;
  /** Half of WATCHDOG_USEC in ms when the watchdog is on for this process, else undefined. */
  readonly watchdogIntervalMs: number | undefined;
  /** Send raw KEY=VALUE fields; returns false when disabled or the send failed. */
  send(fields: Record<string, string | number>): boolean;
  ready(status?: string): boolean;
  status(line: string): boolean;
  stopping(status?: string): boolean;
  reloading(status?: string): boolean;
  watchdogPing(): boolean;
  /** Ping from a timer on the event loop at half WATCHDOG_USEC (a stuck loop stops the pings); returns a stop function. */
  startWatchdog(): () => void;
  close(): void;
}

/** STATUS= is one line: newlines would start a new field, so they become spaces. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

export function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? oneLine(v) : String(v)}`)
    .join('\n');
}

/** Watchdog interval (ms, half of WATCHDOG_USEC) when the watchdog is meant for `pid`. */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (!usecText || !/^[0-9]+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!(usec > 0)) return undefined;
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== '' && Number(wpid) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2 / 1000));
}

export function createNotifier(opts: NotifierOptions = {}): Notifier {
  const env = opts.env ?? process.env;
  const pid = opts.pid ?? process.pid;
  const socketPath = env.NOTIFY_SOCKET && env.NOTIFY_SOCKET.length > 0 ? env.NOTIFY_SOCKET : undefined;
  const watchdogIntervalMs = socketPath ? watchdogIntervalFromEnv(env, pid) : undefined;
  let transport: NotifyTransport = 'none';
  let sd: SdNotify | undefined;
  let fd: number | undefined;
  let reportedError = false;

  if (socketPath) {
    const want = opts.transport ?? 'auto';
    // sd_notify reads the C environment: only usable when our view of the environment is the process's own
    if (want !== 'libc' && env === process.env) sd = loadSdNotify();
    transport = sd ? 'libsystemd' : 'libc';
  }

  const fail = (message: string): void => {
    if (!reportedError) opts.onError?.(message);
    reportedError = true;
  };

  const send = (fields: Record<string, string | number>): boolean => {
    if (!socketPath) return false;
    const text = formatFields(fields);
    if (transport === 'libsystemd' && sd) {
      const r = sd(0, text);
      if (r < 0) {
        fail(`sd_notify("${text.replace(/\n/g, '\\n')}") failed: errno ${-r}`);
        return false;
      }
      return r > 0;
    }
    try {
      if (fd === undefined) fd = dgramSocket();
      sendDatagram(fd, socketPath, Buffer.from(text, 'utf8'));
      return true;
    } catch (e) {
      fail(`notify to ${socketPath} failed: ${(e as Error).message}`);
      return false;
    }
  };

  let watchdogTimer: NodeJS.Timeout | undefined;
  const notifier: Notifier = {
    enabled: socketPath !== undefined,
    transport,
    watchdogIntervalMs,
    send,
    ready: (status) => send(status !== undefined ? { READY: 1, STATUS: status } : { READY: 1 }),
    status: (line) => send({ STATUS: line }),
    stopping: (status) => send(status !== undefined ? { STOPPING: 1, STATUS: status } : { STOPPING: 1 }),
    reloading: (status) => send(status !== undefined ? { RELOADING: 1, STATUS: status } : { RELOADING: 1 }),
    watchdogPing: () => send({ WATCHDOG: 1 }),
    startWatchdog: () => {
      if (watchdogIntervalMs === undefined) return () => {};
      if (watchdogTimer) clearInterval(watchdogTimer);
      notifier.watchdogPing();
      watchdogTimer = setInterval(() => notifier.watchdogPing(), watchdogIntervalMs);
      watchdogTimer.unref();
      return () => {
        if (watchdogTimer) clearInterval(watchdogTimer);
        watchdogTimer = undefined;
      };
    },
    close: () => {
      if (watchdogTimer) clearInterval(watchdogTimer);
      watchdogTimer = undefined;
      if (fd !== undefined) closeFd(fd);
      fd = undefined;
    },
  };
  return notifier;
}
