// A libqat-like client of the manager socket: the start-up handshake of protocol §11, for probe, tests and benchmarks.

import net from 'node:net';
import { MsgType, HEADER_SIZE } from '../protocol/constants.js';
import { DEFAULT_PROTOCOL_VERSION } from '../config/settings.js';
import { encodeNameRequest, encodeBareRequest, encodeDeviceRequest, encodeInstanceRequest } from '../protocol/encode.js';
import { readCString, decodeCount, decodeDeviceInfo, decodeInstanceInfo, decodeVfioFile, decodePfInfo, isBad } from '../protocol/decode.js';
import type { DeviceInfoFields, RingInfoFields } from '../protocol/encode.js';

export class BadReply extends Error {
  constructor(readonly text: string, readonly requestType: number) {
    super(`BAD reply to ${requestType}: ${text}`);
    this.name = 'BadReply';
  }
}

export interface InstanceView {
  type: 'cy' | 'dc' | 'decomp';
  num: number;
  name: string;
  info: { first: RingInfoFields; asym: RingInfoFields; isPolled: number };
}

export interface DeviceView {
  index: number;
  id: string;
  info: DeviceInfoFields & { fwCapsValid: boolean };
  vfio: { fd: number; path: string };
  instances: InstanceView[];
}

export interface HandshakeResult {
  section: string;
  devices: DeviceView[];
  pfs: Array<{ pkgId: number; domain: number; bdf16: number; deviceGen: string }>;
}

export class QatClient {
  private pending: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private closed = false;
  private closeError: Error | null = null;

  private constructor(private readonly sock: net.Socket, readonly version: number) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.reject(this.closeError ?? new Error('connection closed by the manager'));
      this.waiter = null;
    });
    sock.on('error', (e) => { this.closeError = e; });
  }

  static connect(socketPath: string, version = DEFAULT_PROTOCOL_VERSION): Promise<QatClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      sock.once('connect', () => { sock.removeListener('error', reject); resolve(new QatClient(sock, version)); });
      sock.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16LE(0);
      if (len < HEADER_SIZE || this.pending.length < len) break;
      const msg = this.pending.subarray(0, len);
      this.pending = this.pending.subarray(len);
      const w = this.waiter;
      this.waiter = null;
      w?.resolve(Buffer.from(msg));
    }
  }

  /** Send raw bytes and wait for one reply (one request in flight, like libqat). */
  raw(bytes: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    if (this.waiter) return Promise.reject(new Error('a request is already in flight'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.sock.write(bytes);
    });
  }

  /** Send a request and return the reply, throwing BadReply for BAD or a type mismatch. */
  async call(bytes: Buffer): Promise<Buffer> {
    const reply = await this.raw(bytes);
    const type = bytes.readUInt16LE(4);
    if (isBad(reply)) throw new BadReply(readCString(reply, HEADER_SIZE), type);
    if (reply.readUInt16LE(4) !== type) throw new Error(`reply type ${reply.readUInt16LE(4)} to request ${type}`);
    if (reply.readUInt16LE(2) !== this.version) throw new Error(`reply version 0x${reply.readUInt16LE(2).toString(16)}`);
    return reply;
  }

  async sectionGet(name: string): Promise<string> {
    return readCString(await this.call(encodeNameRequest(this.version, MsgType.SECTION_GET, name)), HEADER_SIZE);
  }

  async sectionPut(name: string): Promise<void> {
    await this.call(encodeNameRequest(this.version, MsgType.SECTION_PUT, name));
  }

  async numDevices(): Promise<number> {
    return decodeCount(await this.call(encodeBareRequest(this.version, MsgType.NUM_DEVICES)));
  }

  async deviceInfo(d: number): Promise<DeviceInfoFields & { fwCapsValid: boolean }> {
    return decodeDeviceInfo(await this.call(encodeDeviceRequest(this.version, MsgType.DEVICE_INFO, d)));
  }

  async deviceId(d: number): Promise<string> {
    return readCString(await this.call(encodeDeviceRequest(this.version, MsgType.DEVICE_ID, d)), HEADER_SIZE);
  }

  async vfioFile(d: number): Promise<{ fd: number; path: string }> {
    return decodeVfioFile(await this.call(encodeDeviceRequest(this.version, MsgType.VFIO_FILE, d)));
  }

  async instanceInfo(type: number, num: number, d: number): Promise<{ first: RingInfoFields; asym: RingInfoFields; isPolled: number }> {
    return decodeInstanceInfo(await this.call(encodeInstanceRequest(this.version, MsgType.INSTANCE_INFO, type, num, d)));
  }

  async instanceName(type: number, num: number, d: number): Promise<string> {
    return readCString(await this.call(encodeInstanceRequest(this.version, MsgType.INSTANCE_NAME, type, num, d)), HEADER_SIZE);
  }

  async numPfs(): Promise<number> {
    return decodeCount(await this.call(encodeBareRequest(this.version, MsgType.NUM_PF_DEVS)));
  }

  async pfInfo(p: number): Promise<{ pkgId: number; domain: number; bdf16: number; deviceGen: string }> {
    return decodePfInfo(await this.call(encodeDeviceRequest(this.version, MsgType.PF_DEV_INFO, p)));
  }

  /** libqat's start-up sequence (protocol §11) plus the PF queries; leaves the section held. */
  async handshake(processName: string): Promise<HandshakeResult> {
    const section = await this.sectionGet(processName);
    const n = await this.numDevices();
    const devices: DeviceView[] = [];
    for (let d = 0; d < n; d++) {
      await this.deviceId(d);
      const info = await this.deviceInfo(d);
      const id = await this.deviceId(d);
      const vfio = await this.vfioFile(d);
      const instances: InstanceView[] = [];
      const kinds: Array<[InstanceView['type'], number, number]> = [['cy', 6, info.numCy], ['dc', 1, info.numDc], ['decomp', 16, info.numDecomp]];
      for (const [type, code, count] of kinds) {
        for (let k = 0; k < count; k++) {
          const name = await this.instanceName(code, k, d);
          instances.push({ type, num: k, name, info: await this.instanceInfo(code, k, d) });
        }
      }
      devices.push({ index: d, id, info, vfio, instances });
    }
    const np = await this.numPfs();
    const pfs = [];
    for (let p = 0; p < np; p++) pfs.push(await this.pfInfo(p));
    return { section, devices, pfs };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sock.once('close', () => resolve());
      this.sock.end();
    });
  }

  /** Close at once, without waiting for the manager (one that does not answer may never close its side). */
  destroy(): void {
    this.sock.destroy();
  }
}
