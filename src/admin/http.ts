// Optional loopback-only HTTP listener serving GET /metrics in the Prometheus text format.

import http from 'node:http';
import net from 'node:net';
import type { Registry } from 'prom-client';
import { ThrottledLog, type Logger } from '../log.js';
import { METRICS_MAX_CONNECTIONS } from '../server/conn-policy.js';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { isLoopback, formatListenAddress, type ListenAddress } from '../config/listen-address.js';

export { formatListenAddress };

export class MetricsHttpServer {
  private readonly server: http.Server;
  /** Connections closed at once because METRICS_MAX_CONNECTIONS were open. */
  dropped = 0;

  constructor(private readonly addr: ListenAddress, private readonly registry: Registry, private readonly log: Logger) {
    this.server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET /metrics\n');
        return;
      }
      if (url !== '/metrics' && url !== '/') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
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
      text.then((t) => { res.writeHead(200, { 'content-type': this.registry.contentType }).end(req.method === 'HEAD' ? undefined : t); }, fail);
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

  /** Bind; resolves with the address actually bound (port 0 picks one). */
  listen(): Promise<ListenAddress> {
    if (!isLoopback(this.addr.host)) {
      return Promise.reject(new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `--metrics-listen: ${this.addr.host} is not a loopback address`));
    }
    return new Promise((resolve, reject) => {
      const onErr = (e: Error): void => reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `--metrics-listen=${formatListenAddress(this.addr)}: cannot listen: ${describeSysError(e)}`));
      this.server.once('error', onErr);
      this.server.listen(this.addr.port, this.addr.host, () => {
        this.server.off('error', onErr);
        const a = this.server.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
