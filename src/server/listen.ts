// Prepare the socket path safely: never steal the socket of a live daemon, replace only a stale one, set mode and group.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';

/** Resolves true if something accepts connections on `p`. */
export function isSocketLive(p: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(p);
    const done = (v: boolean): void => { clearTimeout(t); c.destroy(); resolve(v); };
    const t = setTimeout(() => done(true), timeoutMs); // something is there but slow: treat as live
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

/**
 * Make `socketPath` bindable: create its directory, refuse if a live server answers there or if a non-socket file
 * sits at the path, remove a stale socket.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  const dir = path.dirname(socketPath);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${dir}: cannot create the socket directory: ${describeSysError(e)}`, { path: dir });
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${socketPath} exists and is not a socket; refusing to remove it`, { path: socketPath });
  }
  if (await isSocketLive(socketPath)) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET_IN_USE, `${socketPath}: another qatmgr is already serving this socket`, { path: socketPath });
  }
  try {
    fs.unlinkSync(socketPath);
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${socketPath}: cannot remove the stale socket: ${describeSysError(e)}`, { path: socketPath });
  }
}

/** Look a group up in an /etc/group-format file; undefined if absent. Numeric names are taken as gids. */
export function lookupGroup(groupFile: string, name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}
