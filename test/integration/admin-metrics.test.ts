// Metrics over the admin socket and the loopback HTTP listener: valid Prometheus text whose counters match the traffic.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startDaemon, qatctl, ROOT, type Daemon } from './admin-harness.js';
import { AdminClient } from '../../src/admin/client.js';
import { QatClient } from '../../src/client/qatclient.js';
import { encodeBareRequest } from '../../src/protocol/encode.js';
import type { StatusView } from '../../src/admin/views.js';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parse the Prometheus text format strictly: every line is HELP, TYPE, blank or a sample; samples follow their TYPE. */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const lines = text.split('\n');
  expect(text.endsWith('\n')).toBe(true);
  for (const line of lines) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line))) continue;
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) { types.set(m[1], m[2]); continue; }
    // values as Go's ParseFloat reads them (Prometheus' parser): NaN in any case (prom-client writes "Nan"), ±Inf
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[+-]Inf|[Nn][Aa][Nn])$/.exec(line);
    expect(m, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    if (m![2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;
      let rest = m![2];
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = re.exec(rest))) { labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\'); consumed = re.lastIndex; }
      expect(consumed, `bad labels in ${line}`).toBe(rest.length);
      rest = '';
    }
    const family = m![1].replace(/_(bucket|sum|count)$/, '');
    expect(types.has(m![1]) || types.has(family), `sample before its TYPE: ${line}`).toBe(true);
    samples.push({ name: m![1], labels, value: Number(m![3]) });
  }
  return { samples, types };
}

function get(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function httpGet(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

let d: Daemon;
let admin: AdminClient;
let metricsUrl: string;

beforeAll(async () => {
  d = await startDaemon('4xxx:1x4', ['--policy', '2', '--metrics-listen', '127.0.0.1:0']);
  admin = await AdminClient.connect(d.adminSocket);
  metricsUrl = `http://${(await admin.request<StatusView>('status')).metricsListen}/metrics`;
});
afterAll(async () => {
  admin?.close();
  await d?.stop();
});

describe('metrics', () => {
  it('counters match the traffic sent: handshakes, requests by type, BAD texts, refusals, latency histogram', async () => {
    // 2 sections (policy 2 over 4 VFs): two full handshakes, one refusal, one unknown message, one put
    const a = await QatClient.connect(d.socket);
    const b = await QatClient.connect(d.socket);
    const c = await QatClient.connect(d.socket);
    await a.handshake('alpha');
    await b.handshake('beta');
    await expect(c.sectionGet('gamma')).rejects.toMatchObject({ text: 'No section available' });
    const unknown = encodeBareRequest(a.version, 3);
    unknown.writeUInt16LE(42, 4);
    await expect(a.call(unknown)).rejects.toMatchObject({ text: 'Unknown message' });
    const nd = await a.numDevices();
    expect(nd).toBe(2);
    await a.sectionPut('SSL_INT_0');

    const { samples, types } = parseProm((await admin.request<{ text: string }>('metrics')).text);
    expect(types.get('qatmgr_requests_total')).toBe('counter');
    expect(types.get('qatmgr_request_duration_seconds')).toBe('histogram');
    // a handshake is every SECTION_GET (two granted, one refused); grants and refusals (by reason) apart
    expect(get(samples, 'qatmgr_handshakes_total')).toBe(3);
    expect(get(samples, 'qatmgr_grants_total')).toBe(2);
    expect(get(samples, 'qatmgr_refusals_total', { reason: 'all-held' })).toBe(1);
    expect(get(samples, 'qatmgr_refusals_total', { reason: 'out-of-service' })).toBe(0);
    expect(get(samples, 'qatmgr_requests_total', { type: 'SECTION_GET' })).toBe(3);
    expect(get(samples, 'qatmgr_requests_total', { type: 'SECTION_PUT' })).toBe(1);
    // handshake per 2-VF section: NUM_DEVICES once; probe adds one more on `a`
    expect(get(samples, 'qatmgr_requests_total', { type: 'NUM_DEVICES' })).toBe(3);
    expect(get(samples, 'qatmgr_requests_total', { type: 'DEVICE_INFO' })).toBe(4);
    expect(get(samples, 'qatmgr_requests_total', { type: 'OTHER' })).toBe(1);
    expect(get(samples, 'qatmgr_bad_replies_total', { text: 'No section available' })).toBe(1);
    expect(get(samples, 'qatmgr_bad_replies_total', { text: 'Unknown message' })).toBe(1);
    expect(get(samples, 'qatmgr_releases_total', { reason: 'put' })).toBe(1);
    expect(get(samples, 'qatmgr_sections', { state: 'held' })).toBe(1);
    expect(get(samples, 'qatmgr_sections_planned')).toBe(2);
    expect(get(samples, 'qatmgr_connections_open')).toBe(3);
    expect(get(samples, 'qatmgr_ledger_adoptions_total')).toBe(0);
    expect(get(samples, 'qatmgr_vf_held', { bdf: '0000:6b:00.3', section: 'SSL_INT_1', pf: '0000:6b:00.0', numa_node: '0', family: '4xxx' })).toBe(1);
    expect(get(samples, 'qatmgr_vf_out_of_service', { bdf: '0000:6b:00.3', pf: '0000:6b:00.0', numa_node: '0', family: '4xxx' })).toBe(0);
    expect(get(samples, 'qatmgr_sections', { state: 'out-of-service' })).toBe(0);
    expect(get(samples, 'qatmgr_build_info', { version: '0.2.0', protocol: '26.08' })).toBe(1);
    // the default process and Node.js families every Node exporter has
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(get(samples, 'qatmgr_vf_held', { bdf: '0000:6b:00.1', section: 'SSL_INT_0' })).toBe(0);
    // histogram: count = every request answered, buckets cumulative and ending at the count
    const total = samples.filter((s) => s.name === 'qatmgr_requests_total').reduce((n, s) => n + s.value, 0);
    expect(get(samples, 'qatmgr_request_duration_seconds_count')).toBe(total);
    const buckets = samples.filter((s) => s.name === 'qatmgr_request_duration_seconds_bucket');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: total });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('the loopback HTTP listener serves the same families with the Prometheus content type', async () => {
    const r = await httpGet(metricsUrl);
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain; version=0.0.4');
    const { samples } = parseProm(r.body);
    expect(get(samples, 'qatmgr_grants_total')).toBe(2);
    expect((await httpGet(metricsUrl.replace('/metrics', '/nope'))).status).toBe(404);
    const health = await httpGet(metricsUrl.replace('/metrics', '/healthz'));
    expect(health).toMatchObject({ status: 200, body: 'ok\n' });
    const index = await httpGet(metricsUrl.replace('/metrics', '/'));
    expect(index.status).toBe(200);
    expect(index.body).toContain('href="/metrics"');
  });

  it('qatctl metrics prints the text exposition', async () => {
    const r = await qatctl(['metrics', '--admin-socket', d.adminSocket]);
    expect(r.code).toBe(0);
    const { samples } = parseProm(r.stdout);
    expect(get(samples, 'qatmgr_admin_requests_total', { op: 'metrics' })).toBeGreaterThanOrEqual(2);
  });

  it('the daemon refuses --metrics-listen on a non-loopback address and names the value', async () => {
    const p = spawn(process.execPath, [path.join(ROOT, 'dist/daemon/qatmgr.js'), '--foreground', '--simulate', 'default', '--sim-dir', `${d.dir}-x`, '--metrics-listen', '0.0.0.0:9464']);
    let err = '';
    p.stderr.on('data', (x) => { err += x; });
    const code = await new Promise((r) => p.on('close', r));
    expect(code).toBe(1);
    expect(err).toContain('--metrics-listen="0.0.0.0:9464" is not a loopback address');
  });
});
