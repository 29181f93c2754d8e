// A kubelet stand-in for tests: the Registration and Pod Resources services on real Unix sockets, and a
// device-plugin client per registered resource, all from the same .proto files the daemon uses (proto/).
//
// Like the kubelet it serves <dir>/device-plugins/kubelet.sock and <dir>/pod-resources/kubelet.sock, dials each
// registered plugin back on <dir>/device-plugins/<endpoint>, asks its options and keeps its ListAndWatch stream;
// `restart()` does what a kubelet start does (the device-plugins directory is cleared, kubelet.sock is new).

import fs from 'node:fs';
import path from 'node:path';
import type * as GrpcJs from '@grpc/grpc-js';
import { loadKubeletApis, unixTarget, type KubeletApis } from '../../src/kubelet/grpc.js';
import type {
  AllocateResponse, Device, DevicePluginOptions, PodResources, PreferredAllocationResponse, RegisterRequest,
} from '../../src/kubelet/api.js';

export interface PluginConn {
  req: RegisterRequest;
  options: DevicePluginOptions;
  /** Every list received on ListAndWatch, in order. */
  lists: Device[][];
  client: GrpcJs.Client;
}

type Unary<Req, Res> = (req: Req, meta: GrpcJs.Metadata, opts: GrpcJs.CallOptions, cb: (e: GrpcJs.ServiceError | null, r?: Res) => void) => void;

function call<Req, Res>(apis: KubeletApis, client: GrpcJs.Client, method: string, req: Req, timeoutMs = 5000): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary<Req, Res>>)[method];
  return new Promise((resolve, reject) => {
    fn.call(client, req, new apis.grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r!)));
  });
}

export async function waitFor<T>(what: string, get: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class KubeletStandIn {
  apis!: KubeletApis;
  readonly pluginsDir: string;
  readonly podResourcesDir: string;
  /** Every Register call, accepted or not. */
  readonly registerCalls: RegisterRequest[] = [];
  readonly plugins = new Map<string, PluginConn>();
  /** What List answers. */
  pods: PodResources[] = [];
  listCalls = 0;
  private reg: GrpcJs.Server | undefined;
  private pr: GrpcJs.Server | undefined;

  constructor(readonly dir: string, private readonly opts: { versions?: string[]; podResources?: boolean } = {}) {
    this.pluginsDir = path.join(dir, 'device-plugins');
    this.podResourcesDir = path.join(dir, 'pod-resources');
  }

  async start(): Promise<void> {
    this.apis = await loadKubeletApis();
    const { grpc } = this.apis;
    fs.mkdirSync(this.pluginsDir, { recursive: true });
    fs.mkdirSync(this.podResourcesDir, { recursive: true });
    const versions = this.opts.versions ?? ['v1beta1'];
    this.reg = new grpc.Server();
    this.reg.addService(this.apis.registration.service, {
      Register: (c: GrpcJs.ServerUnaryCall<RegisterRequest, unknown>, cb: GrpcJs.sendUnaryData<object>) => {
        const req = c.request;
        this.registerCalls.push(req);
        if (!versions.includes(req.version)) {
          cb({ code: grpc.status.UNKNOWN, details: `device plugin API version "${req.version}" is not supported; this kubelet speaks ${versions.join(', ')}`, name: 'Error', message: '', metadata: new grpc.Metadata() });
          return;
        }
        cb(null, {});
        // a plugin that goes away before answering is simply not connected (the tests see no list from it)
        this.connect(req).catch(() => {});
      },
    });
    await this.bind(this.reg, path.join(this.pluginsDir, 'kubelet.sock'));
    if (this.opts.podResources !== false) {
      this.pr = new grpc.Server();
      this.pr.addService(this.apis.podResources.service, {
        List: (_c: unknown, cb: GrpcJs.sendUnaryData<object>) => { this.listCalls++; cb(null, { pod_resources: this.pods }); },
        GetAllocatableResources: (_c: unknown, cb: GrpcJs.sendUnaryData<object>) => cb(null, {}),
      });
      await this.bind(this.pr, path.join(this.podResourcesDir, 'kubelet.sock'));
    }
  }

  private bind(s: GrpcJs.Server, p: string): Promise<void> {
    try { fs.unlinkSync(p); } catch { /* none */ }
    return new Promise((resolve, reject) => s.bindAsync(unixTarget(p), this.apis.grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  }

  /** Dial a registered plugin back, as the kubelet does: options, then the ListAndWatch stream. */
  private async connect(req: RegisterRequest): Promise<void> {
    const client = new this.apis.devicePlugin(unixTarget(path.join(this.pluginsDir, req.endpoint)), this.apis.grpc.credentials.createInsecure());
    const options = await call<object, DevicePluginOptions>(this.apis, client, 'GetDevicePluginOptions', {});
    const conn: PluginConn = { req, options, lists: [], client };
    this.plugins.get(req.resource_name)?.client.close();
    this.plugins.set(req.resource_name, conn);
    const stream = (client as unknown as { ListAndWatch(r: object): GrpcJs.ClientReadableStream<{ devices: Device[] }> }).ListAndWatch({});
    stream.on('data', (m) => conn.lists.push(m.devices));
    stream.on('error', () => { /* the plugin went away */ });
  }

  /** The connection of a registered resource, once its first device list arrived. */
  plugin(resource: string, timeoutMs = 10_000): Promise<PluginConn> {
    return waitFor(`${resource} to register and send its devices`, () => {
      const p = this.plugins.get(resource);
      return p && p.lists.length > 0 ? p : undefined;
    }, timeoutMs);
  }

  /** The latest list of a resource that satisfies `pred`. */
  async waitList(resource: string, pred: (d: Device[]) => boolean, what: string, timeoutMs = 10_000): Promise<Device[]> {
    return waitFor(`${resource}: ${what}`, () => {
      const l = this.plugins.get(resource)?.lists.at(-1);
      return l && pred(l) ? l : undefined;
    }, timeoutMs);
  }

  allocate(resource: string, ids: string[][]): Promise<AllocateResponse> {
    return call(this.apis, this.plugins.get(resource)!.client, 'Allocate', { container_requests: ids.map((d) => ({ devices_ids: d })) });
  }

  preferred(resource: string, reqs: Array<{ available: string[]; mustInclude?: string[]; size: number }>): Promise<PreferredAllocationResponse> {
    return call(this.apis, this.plugins.get(resource)!.client, 'GetPreferredAllocation', {
      container_requests: reqs.map((r) => ({ available_deviceIDs: r.available, must_include_deviceIDs: r.mustInclude ?? [], allocation_size: r.size })),
    });
  }

  /** Record a container holding devices, as the kubelet's Pod Resources List then shows it. */
  admit(namespace: string, name: string, container: string, resource: string, ids: string[]): void {
    let pod = this.pods.find((p) => p.namespace === namespace && p.name === name);
    if (!pod) this.pods.push((pod = { namespace, name, containers: [] }));
    pod.containers.push({ name: container, devices: [{ resource_name: resource, device_ids: ids, topology: null }] });
  }

  async stop(): Promise<void> {
    for (const p of this.plugins.values()) p.client.close();
    this.plugins.clear();
    await Promise.all([this.reg, this.pr].map((s) => s && new Promise<void>((r) => { s.forceShutdown(); r(); })));
    this.reg = undefined;
    this.pr = undefined;
    try { fs.unlinkSync(path.join(this.pluginsDir, 'kubelet.sock')); } catch { /* gone */ }
  }

  /** What a kubelet (re)start does: stop, clear the device-plugins directory, serve a new kubelet.sock. */
  async restart(): Promise<void> {
    await this.stop();
    for (const f of fs.readdirSync(this.pluginsDir)) fs.rmSync(path.join(this.pluginsDir, f), { force: true, recursive: true });
    this.registerCalls.length = 0;
    await this.start();
  }
}
