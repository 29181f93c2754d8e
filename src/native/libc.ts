// koffi bindings to libc: SO_PEERCRED through getsockopt (who is on the other end of a Unix socket), sched_getaffinity,
// flock, getrlimit.

import { createRequire } from 'node:module';
import type koffiType from 'koffi';

// koffi is loaded on first use; the daemon calls loadLibc() at start, so no connection ever needs a descriptor for it
const requireCjs = createRequire(import.meta.url);
let koffi: typeof koffiType;

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const RLIMIT_NOFILE = 7;

interface LibcFns {
  getsockopt: (fd: number, level: number, opt: number, out: PeerCred, len: number[]) => number;
  flock: (fd: number, op: number) => number;
  getrlimit: (resource: number, out: { cur: bigint | number; max: bigint | number }) => number;
  errno: () => number;
  errnoName: (errno: number) => string;
  sched_getaffinity: (pid: number, size: number, mask: Buffer) => number;
}

let fns: LibcFns | null | undefined;

function load(): LibcFns | null {
  if (fns !== undefined) return fns;
  try {
    koffi ??= requireCjs('koffi') as typeof koffiType;
    const lib = koffi.load('libc.so.6');
    const ucred = koffi.struct('qatmgr_ucred', { pid: 'int32', uid: 'uint32', gid: 'uint32' });
    const getsockopt = lib.func('int getsockopt(int fd, int level, int optname, _Out_ qatmgr_ucred *optval, _Inout_ uint32_t *optlen)');
    koffi.struct('qatmgr_rlimit', { cur: 'uint64', max: 'uint64' });
    const schedGetaffinity = lib.func('int sched_getaffinity(int pid, size_t cpusetsize, _Out_ void *mask)');
    void ucred;
    const k = koffi;
    fns = {
      getsockopt: getsockopt as LibcFns['getsockopt'],
      flock: lib.func('int flock(int fd, int operation)') as LibcFns['flock'],
      getrlimit: lib.func('int getrlimit(int resource, _Out_ qatmgr_rlimit *rlim)') as LibcFns['getrlimit'],
      errno: () => k.errno(),
      errnoName: (n) => Object.entries(k.os.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`,
      sched_getaffinity: schedGetaffinity as LibcFns['sched_getaffinity'],
    };
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

/** Load koffi and the libc bindings now (start-up), so that no later call needs a descriptor to load them; false if unavailable. */
export function loadLibc(): boolean {
  return load() !== null;
}

/**
 * flock(fd, LOCK_EX | LOCK_NB): 'locked', 'busy' when another open file description holds the lock, or the errno name.
 * The lock lives as long as the descriptor (and ends with the process, however it ends).
 */
export function tryLockExclusive(fd: number): 'locked' | 'busy' | string {
  const f = load();
  if (!f) return 'ENOSYS (koffi could not load libc)';
  if (f.flock(fd, LOCK_EX | LOCK_NB) === 0) return 'locked';
  const name = f.errnoName(f.errno());
  return name === 'EWOULDBLOCK' || name === 'EAGAIN' ? 'busy' : name;
}

/** The soft RLIMIT_NOFILE (how many descriptors this process may hold); undefined if it cannot be read or is unlimited. */
export function openFileLimit(): number | undefined {
  const f = load();
  if (!f) return undefined;
  const out = { cur: 0, max: 0 } as { cur: bigint | number; max: bigint | number };
  if (f.getrlimit(RLIMIT_NOFILE, out) !== 0) return undefined;
  const cur = Number(out.cur);
  return Number.isSafeInteger(cur) && cur > 0 ? cur : undefined;
}

// 1024 CPUs; grown (up to 64 Ki CPUs) when the kernel's CPU set is larger (EINVAL)
let maskBuf = Buffer.alloc(128);
const EINVAL = 22;

/**
 * The CPUs `pid` may run on (its affinity mask, already narrowed by its cpuset cgroup: the mask that
 * /proc/<pid>/status prints as Cpus_allowed_list), in one system call; undefined when it cannot be read.
 */
export function schedGetAffinity(pid: number): number[] | undefined {
  const f = load();
  if (!f || !Number.isInteger(pid) || pid <= 0) return undefined;
  while (f.sched_getaffinity(pid, maskBuf.length, maskBuf) !== 0) {
    if (koffi.errno() !== EINVAL || maskBuf.length >= 8192) return undefined;
    maskBuf = Buffer.alloc(maskBuf.length * 2);
  }
  const cpus: number[] = [];
  for (let i = 0; i < maskBuf.length; i++) {
    let b = maskBuf[i];
    for (let bit = 0; b !== 0; bit++, b >>= 1) if (b & 1) cpus.push(i * 8 + bit);
  }
  return cpus;
}
