// Start the admin side of a running manager: event ring, admin socket, metrics registry, optional metrics listener.

import type { Manager } from '../manager.js';
import { socketGid } from '../manager.js';
import type { Logger } from '../log.js';
import { prepareSocketPath } from '../server/listen.js';
import { EventRing, recordAllocatorEvents, recordHealthEvents } from './events.js';
import { buildVfIndex, buildSectionFacts, type AdminContext } from './views.js';
import { buildMetrics, type AdminCounters } from './metrics.js';
import { AdminServer } from './server.js';
import { MetricsHttpServer, formatListenAddress } from './http.js';

export interface AdminHandle {
  ctx: AdminContext;
  /** Where metrics are served over HTTP, if enabled (the bound port when 0 was asked). */
  metricsAddress: string | null;
  close(): Promise<void>;
}

/**
 * Attach the admin API to a manager whose client socket already listens. Subscribes to allocator events
 * synchronously (before any await), so no grant or refusal is missed.
 */
export async function startAdmin(manager: Manager, log: Logger, opts: { version: string; metricsFd?: number }): Promise<AdminHandle> {
  const settings = manager.settings;
  const ring = new EventRing();
  const stopAllocator = recordAllocatorEvents(manager.allocator, ring);
  const stopHealth = recordHealthEvents(manager.health, manager.allocator, ring);
  const vfIndex = buildVfIndex(manager);
  const ctx: AdminContext = {
    manager, ring, version: opts.version, adminSocketPath: settings.adminSocketPath ?? '', metricsAddress: null, vfIndex,
    sectionFacts: buildSectionFacts(manager, vfIndex),
  };
  // the per-VF and per-section facts are built from the plan: a rescan (any trigger) rebuilds them
  const reindex = (): void => {
    ctx.vfIndex = buildVfIndex(manager);
    ctx.sectionFacts = buildSectionFacts(manager, ctx.vfIndex);
  };
  manager.allocator.on('reshape', reindex);
  const stopRecording = (): void => {
    stopAllocator();
    stopHealth();
    manager.allocator.off('reshape', reindex);
  };
  const counters: AdminCounters = { requests: new Map(), errors: new Map(), seconds: new Map(), closed: new Map() };
  const registry = buildMetrics(ctx, counters);
  let admin: AdminServer | undefined;
  let http: MetricsHttpServer | undefined;
  const close = async (): Promise<void> => {
    stopRecording();
    await Promise.all([admin?.close(), http?.close()]);
  };
  try {
    if (settings.adminSocketPath !== null) {
      await prepareSocketPath(settings.adminSocketPath);
      admin = new AdminServer({ socketPath: settings.adminSocketPath, gid: socketGid(settings), idleTimeoutMs: settings.adminIdleTimeoutMs }, ctx, registry, counters, log);
      await admin.listen();
      log.debug({ event: 'admin_ready', socket: settings.adminSocketPath }, `admin API on ${settings.adminSocketPath}`);
    }
    if (settings.metricsListen || opts.metricsFd !== undefined) {
      // a socket passed by systemd (qat-metrics.socket) wins over the setting: it is what the unit allows
      const where = opts.metricsFd !== undefined ? { fd: opts.metricsFd, allowRemote: settings.metricsAllowRemote } : { address: settings.metricsListen, allowRemote: settings.metricsAllowRemote };
      // built now (prom-client required) rather than at the first scrape: a scrape at the fd limit needs no require()
      void registry.contentType;
      http = new MetricsHttpServer(where, registry, log, () => manager.readyMs !== undefined);
      const bound = await http.listen();
      ctx.metricsAddress = formatListenAddress(bound);
      log.debug({ event: 'metrics_ready', address: ctx.metricsAddress }, `metrics on http://${ctx.metricsAddress}/metrics`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { ctx, get metricsAddress() { return ctx.metricsAddress; }, close };
}
