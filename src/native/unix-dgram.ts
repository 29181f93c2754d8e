// koffi bindings to libc for Unix datagram sockets (sd_notify fallback and the test listener) and pidfd_open.

import koffi from 'koffi';
import { QatmgrError, ErrorCodes } from '../errors.js';

export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
/** offsetof(struct sockaddr_un, sun_path): the 16-bit family comes first. */
const SUN_PATH_OFFSET = 2;
const SUN_PATH_MAX = 108;
const SYS_PIDFD_OPEN = 434; // one number on every architecture (unified syscall table since Linux 5.3)

interface Libc {
  socket: (domain: number, type: number, proto: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, alen: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  close: (fd: number) => number;
  syscall2: (nr: number, a: number, b: number) => number;
  strerror: (errnum: number) => string;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  try {
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
      sendto: lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)'),
      recv: lib.func('long recv(int fd, _Out_ void *buf, size_t len, int flags)'),
      close: lib.func('int close(int fd)'),
      syscall2: lib.func('long syscall(long nr, int a, unsigned int b)'),
      strerror: lib.func('const char *strerror(int errnum)'),
    };
    return libc;
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_NATIVE, `cannot load libc.so.6 through koffi: ${(e as Error).message}`);
  }
}

/** A native call failed: errno name and text, e.g. "sendto(/run/systemd/notify): ECONNREFUSED (Connection refused)". */
export class NativeCallError extends QatmgrError {
  readonly errno: number;
  constructor(call: string, errno: number) {
    const name = Object.entries(koffi.os.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
    super(ErrorCodes.QATMGR_E_NATIVE, `${call}: ${name} (${load().strerror(errno)})`, { errno });
    this.errno = errno;
  }
}

/**
 * struct sockaddr_un for a path; a leading '@' names an abstract socket (leading NUL, no terminator),
 * as systemd writes $NOTIFY_SOCKET.
 */
export function sockaddrUn(address: string): { addr: Buffer; len: number } {
  const abstract = address.startsWith('@');
  const name = Buffer.from(abstract ? address.slice(1) : address, 'utf8');
  const need = abstract ? name.length + 1 : name.length + 1;
  if (name.length === 0 || need > SUN_PATH_MAX) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `unix socket address "${address}" is empty or longer than ${SUN_PATH_MAX - 1} bytes`);
  }
  const addr = Buffer.alloc(SUN_PATH_OFFSET + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  if (abstract) {
    name.copy(addr, SUN_PATH_OFFSET + 1);
    return { addr, len: SUN_PATH_OFFSET + 1 + name.length };
  }
  name.copy(addr, SUN_PATH_OFFSET);
  return { addr, len: SUN_PATH_OFFSET + name.length + 1 };
}

/** Open an AF_UNIX datagram socket (close-on-exec). */
export function dgramSocket(nonblocking = false): number {
  const c = load();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) throw new NativeCallError('socket(AF_UNIX, SOCK_DGRAM)', koffi.errno());
  return fd;
}

/** Send one datagram to a unix address; throws NativeCallError on failure. */
export function sendDatagram(fd: number, address: string, payload: Buffer): void {
  const c = load();
  const { addr, len } = sockaddrUn(address);
  const n = c.sendto(fd, payload, payload.length, MSG_NOSIGNAL, addr, len);
  if (n < 0) throw new NativeCallError(`sendto(${address})`, koffi.errno());
}

export function bindUnix(fd: number, address: string): void {
  const c = load();
  const { addr, len } = sockaddrUn(address);
  if (c.bind(fd, addr, len) < 0) throw new NativeCallError(`bind(${address})`, koffi.errno());
}

/** Receive one datagram without blocking; undefined when none is queued. */
export function recvDatagram(fd: number, max = 4096): Buffer | undefined {
  const c = load();
  const buf = Buffer.alloc(max);
  const n = c.recv(fd, buf, max, MSG_DONTWAIT);
  if (n < 0) {
    const err = koffi.errno();
    if (err === koffi.os.errno.EAGAIN || err === koffi.os.errno.EWOULDBLOCK) return undefined;
    throw new NativeCallError('recv', err);
  }
  return buf.subarray(0, n);
}

export function closeFd(fd: number): void {
  load().close(fd);
}

/** pidfd_open(2): a descriptor that becomes readable when the process exits; undefined where unsupported. */
export function pidfdOpen(pid: number): { fd: number } | { errno: number } {
  const c = load();
  const fd = c.syscall2(SYS_PIDFD_OPEN, pid, 0);
  if (fd < 0) return { errno: koffi.errno() };
  return { fd };
}

export const ERRNO = koffi.os.errno;

/** Call `onReadable` from the event loop when `fd` becomes readable (the handle does not keep the loop alive). */
export function watchReadable(fd: number, onReadable: () => void): { close(): void } {
  const handle = koffi.node.poll(fd, { readable: true }, onReadable);
  handle.unref();
  return handle;
}
