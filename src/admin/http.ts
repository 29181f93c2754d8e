// Optional HTTP listener serving GET /metrics in the Prometheus text format: loopback only unless allowed otherwise.

import http from 'node:http';
import net from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { isLoopback, formatListenAddress, type ListenAddress } from '../config/listen-address.js';

export { formatListenAddress };

export class MetricsHttpServer {
  private readonly server: http.Server;

  constructor(private readonly addr: ListenAddress, private readonly registry: Registry, private readonly log: Logger, private readonly allowNetwork = false) {
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
      this.registry.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': this.registry.contentType }).end(req.method === 'HEAD' ? undefined : text); },
        (e: Error) => { res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`); },
      );
    });
    this.server.on('error', (e) => this.log.error({ event: 'metrics_http_error', err: e }, `metrics listener error: ${e.message}`));
  }

  /** Bind; resolves with the address actually bound (port 0 picks one). */
  listen(): Promise<ListenAddress> {
    if (!isLoopback(this.addr.host) && !this.allowNetwork) {
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
