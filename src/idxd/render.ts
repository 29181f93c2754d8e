// Human text of the DSA/IAA inventory: one row per device and per configured wq, then iaa_crypto and zswap.

import { renderTable } from '../text/table.js';
import type { IdxdInventory } from './inventory.js';

export function renderIdxdInventory(inv: IdxdInventory): string {
  const out: string[] = [];
  if (!inv.bus && inv.devices.length === 0) return 'no Intel DSA/IAA: the idxd driver is not loaded (no /sys/bus/dsa) or there is no device\n';
  out.push(renderTable(
    ['device', 'product', 'pci', 'node', 'state', 'groups', 'engines', 'wqs', 'wq size', 'pasid', 'cmd_status'],
    inv.devices.map((d) => [
      d.dev, d.product, d.pci, d.numaNode, d.state, d.maxGroups, `${d.engines.filter((e) => e.groupId >= 0).length}/${d.maxEngines}`,
      `${d.wqs.filter((w) => w.state === 'enabled').length}/${d.maxWorkQueues}`, `${d.wqs.reduce((a, w) => a + w.size, 0)}/${d.maxWorkQueuesSize}`,
      d.pasidEnabled ? 'on' : 'off', d.cmdStatusText ?? '0',
    ]),
  ).trimEnd());
  const wqs = inv.devices.flatMap((d) => d.wqs.filter((w) => w.state === 'enabled' || w.size > 0 || w.groupId >= 0).map((w) => ({ d, w })));
  if (wqs.length > 0) {
    out.push('');
    out.push(renderTable(
      ['wq', 'device', 'state', 'group', 'mode', 'size', 'threshold', 'priority', 'type', 'name', 'driver', 'clients', 'node'],
      wqs.map(({ d, w }) => [w.dev, d.dev, w.state, w.groupId, w.mode, w.size, w.mode === 'shared' ? w.threshold : '-', w.priority, w.type, w.name || '-', w.driver ?? w.driverName ?? '-', w.clients, w.node ? `${w.node.path} ${w.node.mode} ${w.node.uid}:${w.node.gid}` : '-']),
    ).trimEnd());
  }
  out.push('');
  const c = inv.iaaCrypto;
  out.push(`iaa_crypto: ${c.loaded ? `loaded, sync_mode ${c.syncMode}, verify_compress ${c.verifyCompress}, ${c.wqs.length} wq(s) bound${c.wqs.length ? ` (${c.wqs.join(', ')})` : ''}, deflate-iaa ${c.registered ? 'registered' : 'not registered'}` : 'not loaded'}`);
  out.push(`zswap: ${inv.zswap.present ? `enabled ${inv.zswap.enabled}, compressor ${inv.zswap.compressor}` : 'not in this kernel'}`);
  return `${out.join('\n')}\n`;
}
