// koffi bindings to libc: SO_PEERCRED through getsockopt (who is on the other end of a Unix socket).

import koffi from 'koffi';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

interface LibcFns {
  getsockopt: (fd: number, level: number, opt: number, out: PeerCred, len: number[]) => number;
}

let fns: LibcFns | null | undefined;

function load(): LibcFns | null {
  if (fns !== undefined) return fns;
  try {
    const lib = koffi.load('libc.so.6');
    const ucred = koffi.struct('qatmgr_ucred', { pid: 'int32', uid: 'uint32', gid: 'uint32' });
    const getsockopt = lib.func('int getsockopt(int fd, int level, int optname, _Out_ qatmgr_ucred *optval, _Inout_ uint32_t *optlen)');
    void ucred;
    fns = { getsockopt: getsockopt as LibcFns['getsockopt'] };
  } catch {
    fns = null;
  }
  return fns;
}

/** Credentials of the peer of a connected Unix socket fd; undefined if they cannot be read. */
export function getPeerCred(fd: number): PeerCred | undefined {
  const f = load();
  if (!f || fd < 0) return undefined;
  const out: PeerCred = { pid: 0, uid: 0, gid: 0 };
  const len = [12];
  const rc = f.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, out, len);
  return rc === 0 ? out : undefined;
}

/** The OS file descriptor behind a net.Socket (Unix sockets on Linux); -1 if Node does not expose it. */
export function socketFd(sock: unknown): number {
  const h = (sock as { _handle?: { fd?: number } })._handle;
  return typeof h?.fd === 'number' ? h.fd : -1;
}
