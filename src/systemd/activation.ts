// Socket activation: the listening sockets systemd passes in LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES (from fd 3).

import fs from 'node:fs';
import { QatmgrError, ErrorCodes } from '../errors.js';

export const SD_LISTEN_FDS_START = 3;

export interface ListenFd {
  fd: number;
  /** From LISTEN_FDNAMES (the socket unit's FileDescriptorName=, default its unit name), or "unknown". */
  name: string;
}

/**
 * The descriptors passed to this process, or undefined when none are (no LISTEN_FDS, or LISTEN_PID names
 * another process, e.g. a parent that forgot to clear them). Malformed values are a clear error.
 */
export function listenFdsFromEnv(env: NodeJS.ProcessEnv, pid: number): ListenFd[] | undefined {
  const countText = env.LISTEN_FDS;
  if (countText === undefined || countText === '') return undefined;
  const pidText = env.LISTEN_PID;
  if (pidText === undefined || pidText === '') return undefined;
  if (!/^[0-9]+$/.test(pidText)) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET_ACTIVATION, `environment: LISTEN_PID="${pidText}" is not a process id`);
  }
  if (Number(pidText) !== pid) return undefined;
  if (!/^[0-9]+$/.test(countText) || Number(countText) < 1 || Number(countText) > 4096) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET_ACTIVATION, `environment: LISTEN_FDS="${countText}" is not a descriptor count 1..4096`);
  }
  const count = Number(countText);
  const names = env.LISTEN_FDNAMES !== undefined && env.LISTEN_FDNAMES !== '' ? env.LISTEN_FDNAMES.split(':') : [];
  const out: ListenFd[] = [];
  for (let i = 0; i < count; i++) out.push({ fd: SD_LISTEN_FDS_START + i, name: names[i] ?? 'unknown' });
  return out;
}

/** Drop the activation variables so that a child process never mistakes them for its own (sd_listen_fds(1)). */
export function clearListenEnv(env: NodeJS.ProcessEnv): void {
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
}

/** Names of the metrics listener systemd may pass (qat-metrics.socket, or its FileDescriptorName=metrics). */
export const METRICS_FD_NAMES = ['qat-metrics.socket', 'metrics'];

export interface ActivationChoice {
  fd: number;
  name: string;
  /** A passed metrics listener (HTTP), served by the admin side. */
  metricsFd?: number;
  /** Descriptors passed but not used (reported in the log). */
  ignored: ListenFd[];
}

/**
 * Pick the socket to serve: the one named `preferredName` (e.g. "qat.socket") if present, else the first.
 * The descriptor must be a socket; anything else would make the daemon serve nothing while systemd thinks it does.
 */
export function chooseListenFd(fds: ListenFd[], preferredNames: string[] = ['qat.socket', 'qatmgr']): ActivationChoice {
  const metrics = fds.find((f) => METRICS_FD_NAMES.includes(f.name));
  const clients = fds.filter((f) => f !== metrics);
  const chosen = clients.find((f) => preferredNames.includes(f.name)) ?? clients[0];
  if (!chosen) throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET_ACTIVATION, 'socket activation passed no descriptor');
  let st: fs.Stats;
  try {
    st = fs.fstatSync(chosen.fd);
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET_ACTIVATION, `socket activation: fd ${chosen.fd} (${chosen.name}) is not open: ${(e as Error).message}`);
  }
  if (!st.isSocket()) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET_ACTIVATION, `socket activation: fd ${chosen.fd} (${chosen.name}) is not a socket`);
  }
  return { fd: chosen.fd, name: chosen.name, metricsFd: metrics?.fd, ignored: clients.filter((f) => f !== chosen) };
}

/** Everything the daemon needs in one call: undefined = bind our own socket; otherwise serve `fd` and never unlink the path. */
export function takeActivationSocket(env: NodeJS.ProcessEnv = process.env, pid = process.pid): ActivationChoice | undefined {
  const fds = listenFdsFromEnv(env, pid);
  clearListenEnv(env);
  if (!fds) return undefined;
  return chooseListenFd(fds);
}
