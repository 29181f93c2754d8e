// Decoders for responses (what a libqat-like client reads) and request fields (what the handler reads).

import { HEADER_SIZE, MsgType, NAME_FIELD } from './constants.js';
import { Hdr, Req, DevInfo, Ring, InstInfo, Vfio, PfInfoOff, NumOff } from './layout.js';
import type { DeviceInfoFields, RingInfoFields } from './encode.js';

export interface Header {
  len: number;
  version: number;
  type: number;
}

export function readHeader(buf: Buffer): Header {
  return { len: buf.readUInt16LE(Hdr.len), version: buf.readUInt16LE(Hdr.version), type: buf.readUInt16LE(Hdr.type) };
}

/** NUL-terminated string at `at`, bounded by the buffer end. */
export function readCString(buf: Buffer, at: number, max = NAME_FIELD): string {
  const end = Math.min(buf.length, at + max);
  let i = at;
  while (i < end && buf[i] !== 0) i++;
  return buf.toString('latin1', at, i);
}

/**
 * Upstream's "sanitised string length" of the request name field given only `len` bytes of the request:
 * the bytes after the frame are zero (we never reuse buffers); a field with no NUL at all counts as 255.
 */
export function sanitisedNameLength(frame: Buffer): number {
  const end = Math.min(frame.length, HEADER_SIZE + NAME_FIELD);
  for (let i = HEADER_SIZE; i < end; i++) if (frame[i] === 0) return i - HEADER_SIZE;
  const received = end - HEADER_SIZE;
  return received >= NAME_FIELD ? NAME_FIELD - 1 : received;
}

export function readDeviceNum(frame: Buffer): number {
  return frame.readUInt16LE(Req.deviceNum);
}

export interface InstanceRequest {
  type: number;
  num: number;
  deviceNum: number;
}

export function readInstanceRequest(frame: Buffer): InstanceRequest {
  return { type: frame.readUInt32LE(Req.instType), num: frame.readUInt16LE(Req.instNum), deviceNum: frame.readUInt16LE(Req.instDevice) };
}

export function decodeCount(buf: Buffer): number {
  return buf.readUInt16LE(NumOff.count);
}

export function decodeDeviceInfo(buf: Buffer): DeviceInfoFields & { fwCapsValid: boolean } {
  const fwCapsValid = buf.readUInt8(DevInfo.fwIsValid) === 1;
  return {
    deviceNum: buf.readUInt16LE(DevInfo.deviceNum),
    deviceType: buf.readUInt16LE(DevInfo.deviceType),
    pciId: buf.readUInt16LE(DevInfo.pciId),
    capabilityMask: buf.readUInt32LE(DevInfo.capabilityMask),
    extCaps: buf.readUInt32LE(DevInfo.extCaps),
    fwCaps: fwCapsValid
      ? {
          compAlgos: buf.readUInt16LE(DevInfo.fwCompAlgos),
          cksumAlgos: buf.readUInt16LE(DevInfo.fwCksumAlgos),
          deflateCaps: buf.readUInt32LE(DevInfo.fwDeflateCaps),
          lz4Caps: buf.readUInt16LE(DevInfo.fwLz4Caps),
          lz4sCaps: buf.readUInt16LE(DevInfo.fwLz4sCaps),
          zstdCaps: buf.readUInt16LE(DevInfo.fwZstdCaps),
        }
      : undefined,
    fwCapsValid,
    maxBanks: buf.readUInt16LE(DevInfo.maxBanks),
    maxRingsPerBank: buf.readUInt16LE(DevInfo.maxRingsPerBank),
    arbMask: buf.readUInt16LE(DevInfo.arbMask),
    ringMode: buf.readUInt16LE(DevInfo.ringMode),
    services: buf.readUInt16LE(DevInfo.services),
    pkgId: buf.readInt16LE(DevInfo.pkgId),
    nodeId: buf.readUInt16LE(DevInfo.nodeId),
    numCy: buf.readUInt16LE(DevInfo.numCy),
    numSym: buf.readUInt16LE(DevInfo.numSym),
    numAsym: buf.readUInt16LE(DevInfo.numAsym),
    numDc: buf.readUInt16LE(DevInfo.numDc),
    numDecomp: buf.readUInt16LE(DevInfo.numDecomp),
    deviceName: readCString(buf, DevInfo.deviceName, 64),
  };
}

function readRing(buf: Buffer, at: number): RingInfoFields {
  return {
    accelId: buf.readUInt16LE(at + Ring.accelId),
    bank: buf.readUInt16LE(at + Ring.bank),
    isPolled: buf.readUInt16LE(at + Ring.isPolled),
    core: buf.readUInt16LE(at + Ring.core),
    concurrent: buf.readUInt16LE(at + Ring.concurrent),
    ringTx: buf.readUInt16LE(at + Ring.ringTx),
    ringRx: buf.readUInt16LE(at + Ring.ringRx),
  };
}

export function decodeInstanceInfo(buf: Buffer): { first: RingInfoFields; asym: RingInfoFields; isPolled: number } {
  return { first: readRing(buf, InstInfo.first), asym: readRing(buf, InstInfo.asym), isPolled: buf.readInt32LE(InstInfo.isPolled) };
}

export function decodeVfioFile(buf: Buffer): { fd: number; path: string } {
  return { fd: buf.readInt16LE(Vfio.fd), path: readCString(buf, Vfio.name) };
}

export function decodePfInfo(buf: Buffer): { pkgId: number; domain: number; bdf16: number; deviceGen: string } {
  return {
    pkgId: buf.readUInt32LE(PfInfoOff.pkgId),
    domain: buf.readUInt16LE(PfInfoOff.domain),
    bdf16: buf.readUInt16LE(PfInfoOff.bdf),
    deviceGen: readCString(buf, PfInfoOff.deviceGen, 17),
  };
}

export function isBad(buf: Buffer): boolean {
  return buf.readUInt16LE(Hdr.type) === MsgType.BAD;
}
