// The device-plugin side of gRPC: one server per resource on its own socket, registration with the kubelet, and
// coming back when the kubelet restarts.
//
// The kubelet wipes its device-plugins directory when it starts and then creates kubelet.sock again; a plugin
// must notice and register again. Every `watchMs` this checks that each resource's socket still exists (else it
// is served again) and that kubelet.sock is the one registered with (a new inode = a new kubelet); it registers
// whatever is not registered with the current kubelet. Failures are logged once per distinct message and retried
// with a growing pause (up to 30 s), so a kubelet that is away, or speaks another API version, never stops the
// daemon from serving its host.

import fs from 'node:fs';
import path from 'node:path';
import type * as GrpcJs from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { KubeletApis } from './grpc.js';
import { unixTarget } from './grpc.js';
import { listKey } from './resources.js';
import {
  DEVICE_PLUGIN_VERSION, KUBELET_SOCKET,
  type AllocateRequest, type AllocateResponse, type Device, type PreferredAllocationRequest, type PreferredAllocationResponse, type RegisterRequest,
} from './api.js';

/** A gRPC failure with a status code and a message for the kubelet (and its events on the pod). */
export class PluginError extends Error {
  constructor(readonly code: 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION' | 'UNAVAILABLE' | 'INTERNAL', message: string) {
    super(message);
  }
}

export interface ResourceHandlers {
  list(): Device[];
  preferred(req: PreferredAllocationRequest): PreferredAllocationResponse;
  allocate(req: AllocateRequest): Promise<AllocateResponse>;
}

export interface RegistrationState {
  state: 'registering' | 'registered' | 'waiting';
  /** The last failure, as logged. */
  error: string | null;
  registeredAt: string | null;
  registrations: number;
}

type Call = GrpcJs.ServerWritableStream<unknown, { devices: Device[] }>;

/** One resource: its gRPC server, its ListAndWatch streams, its registration. */
export class ResourceEndpoint {
  readonly endpoint: string;
  readonly socket: string;
  private server: GrpcJs.Server | undefined;
  private readonly streams = new Set<Call>();
  private lastSent = '';
  readonly reg: RegistrationState = { state: 'registering', error: null, registeredAt: null, registrations: 0 };
  /** Inode of the kubelet.sock registered with. */
  registeredWith: number | undefined;
  private nextTry = 0;
  private backoffMs = 0;
  private lastLogged = '';

  constructor(private readonly apis: KubeletApis, readonly resource: string, private readonly dir: string, private readonly h: ResourceHandlers, private readonly log: Logger) {
    this.endpoint = `qatmgr-${resource.split('/').pop()}.sock`;
    this.socket = path.join(dir, this.endpoint);
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Serve the DevicePlugin service on the resource's socket (a stale file is replaced). */
  async serve(): Promise<void> {
    await this.stopServer();
    const { grpc } = this.apis;
    const server = new grpc.Server();
    const fail = (cb: (e: GrpcJs.ServiceError | null) => void, e: unknown): void => {
      const pe = e instanceof PluginError ? e : new PluginError('INTERNAL', (e as Error).message ?? String(e));
      this.log.warn({ event: 'kubelet_call_failed', resource: this.resource, code: pe.code, err: pe.message }, `${this.resource}: ${pe.message}`);
      cb({ name: 'PluginError', message: pe.message, code: grpc.status[pe.code], details: pe.message, metadata: new grpc.Metadata() });
    };
    server.addService(this.apis.devicePlugin.service, {
      GetDevicePluginOptions: (_c: unknown, cb: GrpcJs.sendUnaryData<object>) => cb(null, { pre_start_required: false, get_preferred_allocation_available: true }),
      ListAndWatch: (call: Call) => {
        this.streams.add(call);
        const drop = (): void => { this.streams.delete(call); };
        call.on('cancelled', drop);
        call.on('close', drop);
        call.on('error', drop);
        call.write({ devices: this.h.list() });
      },
      GetPreferredAllocation: (call: GrpcJs.ServerUnaryCall<PreferredAllocationRequest, unknown>, cb: GrpcJs.sendUnaryData<PreferredAllocationResponse>) => {
        try { cb(null, this.h.preferred(call.request)); } catch (e) { fail(cb, e); }
      },
      Allocate: (call: GrpcJs.ServerUnaryCall<AllocateRequest, unknown>, cb: GrpcJs.sendUnaryData<AllocateResponse>) => {
        this.h.allocate(call.request).then((r) => cb(null, r), (e) => fail(cb, e));
      },
      PreStartContainer: (_c: unknown, cb: GrpcJs.sendUnaryData<object>) => cb(null, {}),
    });
    try { fs.unlinkSync(this.socket); } catch { /* not there */ }
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(unixTarget(this.socket), grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(new Error(`cannot serve ${this.socket}: ${e.message}`)) : resolve()));
    });
    this.server = server;
    this.lastSent = '';
  }

  /** Send the device list to every ListAndWatch stream if it changed since the last send. */
  push(devices: Device[]): void {
    const key = listKey(devices);
    if (key === this.lastSent) return;
    this.lastSent = key;
    for (const s of this.streams) s.write({ devices });
  }

  private async stopServer(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of this.streams) c.end();
    this.streams.clear();
    if (s) await new Promise<void>((resolve) => { s.tryShutdown(() => resolve()); setTimeout(() => { s.forceShutdown(); resolve(); }, 1000).unref(); });
  }

  async close(): Promise<void> {
    await this.stopServer();
    try { fs.unlinkSync(this.socket); } catch { /* gone */ }
  }

  /** Is the socket still there (the kubelet wipes the directory when it starts)? */
  socketPresent(): boolean {
    return fs.existsSync(this.socket);
  }

  /** Register with the kubelet if due (not registered with this kubelet, and past the retry pause). */
  async registerIfDue(kubeletIno: number | undefined, now: number): Promise<void> {
    if (kubeletIno === undefined) {
      this.note('waiting', `the kubelet's registration socket ${path.join(this.dir, KUBELET_SOCKET)} does not exist (is the kubelet running, is ${this.dir} mounted?)`);
      return;
    }
    if (this.registeredWith === kubeletIno || now < this.nextTry) return;
    const req: RegisterRequest = { version: DEVICE_PLUGIN_VERSION, endpoint: this.endpoint, resource_name: this.resource, options: { pre_start_required: false, get_preferred_allocation_available: true } };
    try {
      await register(this.apis, path.join(this.dir, KUBELET_SOCKET), req);
      this.registeredWith = kubeletIno;
      this.backoffMs = 0;
      this.reg.state = 'registered';
      this.reg.error = null;
      this.reg.registeredAt = new Date().toISOString();
      this.reg.registrations++;
      this.lastLogged = '';
      this.log.info({ event: 'kubelet_registered', resource: this.resource, endpoint: this.endpoint, registrations: this.reg.registrations }, `registered ${this.resource} with the kubelet (${this.endpoint})`);
    } catch (e) {
      this.backoffMs = Math.min(30_000, Math.max(1000, this.backoffMs * 2));
      this.nextTry = now + this.backoffMs;
      this.note('waiting', `${(e as Error).message}; retrying in ${Math.round(this.backoffMs / 1000)} s`);
    }
  }

  /** Forget the registration (the kubelet went away or wiped our socket). */
  unregistered(): void {
    this.registeredWith = undefined;
    this.nextTry = 0;
    if (this.reg.state === 'registered') this.reg.state = 'registering';
  }

  private note(state: RegistrationState['state'], msg: string): void {
    this.reg.state = state;
    this.reg.error = msg;
    // one line per distinct problem, not one per retry
    const key = msg.replace(/; retrying in \d+ s$/, '');
    if (key === this.lastLogged) return;
    this.lastLogged = key;
    this.log.error({ event: 'kubelet_register_failed', resource: this.resource, err: msg }, `cannot register ${this.resource} with the kubelet: ${msg}`);
  }
}

/** One Register call; the error names the socket and says what a code means here. */
function register(apis: KubeletApis, socket: string, req: RegisterRequest): Promise<void> {
  const client = new apis.registration(unixTarget(socket), apis.grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const fn = client.Register as (r: RegisterRequest, m: object, o: object, cb: (e: GrpcJs.ServiceError | null) => void) => void;
    fn.call(client, req, new apis.grpc.Metadata(), { deadline: Date.now() + 5000 }, (e) => {
      client.close();
      if (!e) { resolve(); return; }
      const st = apis.grpc.status;
      let what = `Register on ${socket} failed (${st[e.code] ?? e.code}): ${e.details || e.message}`;
      if (e.code === st.UNIMPLEMENTED) what = `the kubelet at ${socket} does not serve ${DEVICE_PLUGIN_VERSION}.Registration/Register: it speaks another device-plugin API version`;
      else if (e.code === st.UNAVAILABLE) what = `the kubelet at ${socket} does not answer: ${e.details || e.message}`;
      reject(new Error(what));
    });
  });
}

/** kubelet.sock's inode, or undefined while it does not exist. */
export function kubeletSocketIno(dir: string): number | undefined {
  try {
    const st = fs.statSync(path.join(dir, KUBELET_SOCKET));
    return st.isSocket() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}
