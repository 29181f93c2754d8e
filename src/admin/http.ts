// HTTP listener for Prometheus: GET /metrics (text exposition), /healthz, and an index at /; loopback unless allowed.

import http from 'node:http';
import net from 'node:net';
import type { Registry } from 'prom-client';
import { ThrottledLog, type Logger } from '../log.js';
import { METRICS_MAX_CONNECTIONS } from '../server/conn-policy.js';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { isLoopback, formatListenAddress, type ListenAddress } from '../config/listen-address.js';

export { formatListenAddress };

export interface MetricsListen {
  /** Bind this address, or serve this already-listening descriptor (qat-metrics.socket). */
  address?: ListenAddress;
  fd?: number;
  /** Non-loopback addresses are refused unless the operator allowed them. */
  allowRemote: boolean;
}

const INDEX = '<html><head><title>qatmgr</title></head><body><h1>qatmgr</h1><p><a href="/metrics">/metrics</a> (Prometheus), <a href="/healthz">/healthz</a></p></body></html>\n';

export class MetricsHttpServer {
  private readonly server: http.Server;
  /** Connections closed at once because METRICS_MAX_CONNECTIONS were open. */
  dropped = 0;

  constructor(private readonly where: MetricsListen, private readonly registry: Registry, private readonly log: Logger, private readonly healthy: () => boolean = () => true) {
    this.server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      const head = req.method === 'HEAD';
      if (req.method !== 'GET' && !head) {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET /metrics, /healthz\n');
        return;
      }
      if (url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(head ? undefined : INDEX);
        return;
      }
      if (url === '/healthz') {
        const ok = this.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(head ? undefined : ok ? 'ok\n' : 'not serving\n');
        return;
      }
      if (url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics or /healthz\n');
        return;
      }
      const fail = (e: Error): void => { res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`); };
      let text: Promise<string>;
      try {
        text = this.registry.metrics();
      } catch (e) {
        fail(e as Error);
        return;
      }
      text.then((t) => { res.writeHead(200, { 'content-type': this.registry.contentType }).end(head ? undefined : t); }, fail);
    });
    // a scrape is one small request: a flood of connections is cut at the cap (counted, logged once a second)
    this.server.maxConnections = METRICS_MAX_CONNECTIONS;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    const throttled = new ThrottledLog(log);
    this.server.on('drop', () => {
      this.dropped++;
      throttled.write('warn', 'metrics_dropped', { event: 'metrics_dropped', dropped: this.dropped }, `metrics listener: more than ${METRICS_MAX_CONNECTIONS} connections at once; closing the new one`);
    });
    this.server.on('error', (e) => throttled.write('error', 'metrics_http_error', { event: 'metrics_http_error', err: e.message }, `metrics listener error: ${e.message}`));
  }

  private describe(): string {
    return this.where.fd !== undefined ? `the metrics socket passed by systemd (fd ${this.where.fd})` : `--metrics-listen=${formatListenAddress(this.where.address!)}`;
  }

  /** Bind (or serve the passed fd); resolves with the address actually listened on (port 0 picks one). */
  listen(): Promise<ListenAddress> {
    const { address, fd, allowRemote } = this.where;
    if (address && !allowRemote && !isLoopback(address.host)) {
      return Promise.reject(new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `--metrics-listen: ${address.host} is not a loopback address (allow it with --metrics-allow-remote)`));
    }
    return new Promise((resolve, reject) => {
      const onErr = (e: NodeJS.ErrnoException): void => {
        const hint = e.code === 'EAFNOSUPPORT' || e.code === 'EPERM' || e.code === 'EACCES'
          ? ' (the shipped qat.service has no network: RestrictAddressFamilies=AF_UNIX, PrivateNetwork=yes; enable qat-metrics.socket instead)'
          : '';
        reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${this.describe()}: cannot listen: ${describeSysError(e)}${hint}`));
      };
      this.server.once('error', onErr);
      const done = (): void => {
        this.server.off('error', onErr);
        const a = this.server.address() as net.AddressInfo | string | null;
        const bound = a && typeof a === 'object' ? { host: a.address, port: a.port } : { host: String(a ?? 'unix'), port: 0 };
        if (fd !== undefined && typeof a === 'object' && a && !allowRemote && !isLoopback(bound.host)) {
          this.server.close();
          reject(new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${this.describe()} listens on ${formatListenAddress(bound)}, not a loopback address; allow it with QATMGR_METRICS_ALLOW_REMOTE=yes`));
          return;
        }
        resolve(bound);
      };
      if (fd !== undefined) this.server.listen({ fd }, done);
      else this.server.listen(address!.port, address!.host, done);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
