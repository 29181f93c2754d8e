// HOST:PORT parsing for listeners (`--metrics-listen`), and the loopback test that keeps metrics off the network.

import net from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
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
