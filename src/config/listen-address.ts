// HOST:PORT parsing for listeners (`--metrics-listen`), and the loopback test that keeps metrics off the network.

import net from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True for localhost, 127.0.0.0/8 and ::1 in any spelling of the address (`0:0:0:0:0:0:0:1`, `::0:1`, and the
 * IPv4-mapped `::ffff:127.0.0.1`): the address is compared as bits, not as text.
 */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = net.isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** Parse `HOST:PORT` or `[V6]:PORT`; undefined for anything else. Does not check loopback. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const t = text.trim();
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(t) ?? /^([^:\s[\]]+):(\d{1,5})$/.exec(t);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1], port };
}

export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
