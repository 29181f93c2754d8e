// Encoders for every message (responses for the server, requests for clients and tests); padding is always zero.

import { HEADER_SIZE, MsgType, NAME_FIELD, DEVICE_NAME_FIELD, DEVICE_GEN_FIELD, RESPONSE_LEN } from './constants.js';
import { Hdr, Req, DevInfo, Ring, InstInfo, Vfio, PfInfoOff, NumOff } from './layout.js';

function header(buf: Buffer, len: number, version: number, type: number): void {
  buf.writeUInt16LE(len, Hdr.len);
  buf.writeUInt16LE(version, Hdr.version);
  buf.writeUInt16LE(type, Hdr.type);
  buf.writeUInt16LE(0, Hdr.filler);
}

/** A message whose payload is one NUL-terminated string at offset `at` (SECTION_GET reply, names, BAD, DEVICE_ID). */
export function encodeString(version: number, type: number, text: string, at = HEADER_SIZE, prefix?: (b: Buffer) => void): Buffer {
  const bytes = Buffer.from(text, 'latin1').subarray(0, NAME_FIELD - 1);
  const len = at + bytes.length + 1;
  const buf = Buffer.alloc(len);
  header(buf, len, version, type);
  prefix?.(buf);
  bytes.copy(buf, at);
  return buf;
}

export function encodeBad(version: number, text: string): Buffer {
  return encodeString(version, MsgType.BAD, text);
}

export function encodeHeaderOnly(version: number, type: number): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  header(buf, HEADER_SIZE, version, type);
  return buf;
}

export function encodeCount(version: number, type: number, count: number): Buffer {
  const buf = Buffer.alloc(RESPONSE_LEN.NUM_DEVICES);
  header(buf, buf.length, version, type);
  buf.writeUInt16LE(count, NumOff.count);
  return buf;
}

export interface DeviceInfoFields {
  deviceNum: number;
  deviceType: number;
  pciId: number;
  capabilityMask: number;
  extCaps: number;
  fwCaps?: { compAlgos: number; cksumAlgos: number; deflateCaps: number; lz4Caps: number; lz4sCaps: number; zstdCaps: number };
  maxBanks: number;
  maxRingsPerBank: number;
  arbMask: number;
  ringMode: number;
  services: number;
  pkgId: number;
  nodeId: number;
  numCy: number;
  numSym: number;
  numAsym: number;
  numDc: number;
  numDecomp: number;
  deviceName: string;
}

export function encodeDeviceInfo(version: number, f: DeviceInfoFields): Buffer {
  const buf = Buffer.alloc(RESPONSE_LEN.DEVICE_INFO);
  header(buf, buf.length, version, MsgType.DEVICE_INFO);
  buf.writeUInt16LE(f.deviceNum, DevInfo.deviceNum);
  buf.writeUInt16LE(f.deviceType, DevInfo.deviceType);
  buf.writeUInt16LE(f.pciId, DevInfo.pciId);
  buf.writeUInt32LE(f.capabilityMask >>> 0, DevInfo.capabilityMask);
  buf.writeUInt32LE(f.extCaps >>> 0, DevInfo.extCaps);
  if (f.fwCaps) {
    buf.writeUInt16LE(f.fwCaps.compAlgos, DevInfo.fwCompAlgos);
    buf.writeUInt16LE(f.fwCaps.cksumAlgos, DevInfo.fwCksumAlgos);
    buf.writeUInt32LE(f.fwCaps.deflateCaps >>> 0, DevInfo.fwDeflateCaps);
    buf.writeUInt16LE(f.fwCaps.lz4Caps, DevInfo.fwLz4Caps);
    buf.writeUInt16LE(f.fwCaps.lz4sCaps, DevInfo.fwLz4sCaps);
    buf.writeUInt16LE(f.fwCaps.zstdCaps, DevInfo.fwZstdCaps);
    buf.writeUInt8(1, DevInfo.fwIsValid);
  }
  buf.writeUInt16LE(f.maxBanks, DevInfo.maxBanks);
  buf.writeUInt16LE(f.maxRingsPerBank, DevInfo.maxRingsPerBank);
  buf.writeUInt16LE(f.arbMask, DevInfo.arbMask);
  buf.writeUInt16LE(f.ringMode, DevInfo.ringMode);
  buf.writeUInt16LE(f.services, DevInfo.services);
  buf.writeInt16LE(f.pkgId, DevInfo.pkgId);
  buf.writeUInt16LE(f.nodeId, DevInfo.nodeId);
  buf.writeUInt16LE(f.numCy, DevInfo.numCy);
  buf.writeUInt16LE(f.numSym, DevInfo.numSym);
  buf.writeUInt16LE(f.numAsym, DevInfo.numAsym);
  buf.writeUInt16LE(f.numDc, DevInfo.numDc);
  buf.writeUInt16LE(f.numDecomp, DevInfo.numDecomp);
  Buffer.from(f.deviceName, 'latin1').subarray(0, DEVICE_NAME_FIELD - 1).copy(buf, DevInfo.deviceName);
  return buf;
}

export interface RingInfoFields {
  accelId: number;
  bank: number;
  isPolled: number;
  core: number;
  concurrent: number;
  ringTx: number;
  ringRx: number;
}

function writeRing(buf: Buffer, at: number, r: RingInfoFields): void {
  buf.writeUInt16LE(r.accelId, at + Ring.accelId);
  buf.writeUInt16LE(r.bank, at + Ring.bank);
  buf.writeUInt16LE(r.isPolled, at + Ring.isPolled);
  buf.writeUInt16LE(r.core, at + Ring.core);
  buf.writeUInt16LE(r.concurrent, at + Ring.concurrent);
  buf.writeUInt16LE(r.ringTx, at + Ring.ringTx);
  buf.writeUInt16LE(r.ringRx, at + Ring.ringRx);
}

/** INSTANCE_INFO reply: `first` at 8 (sym/dc/decomp), `asym` at 22, `isPolled` at 36 (CY only). */
export function encodeInstanceInfo(version: number, first: RingInfoFields | undefined, asym: RingInfoFields | undefined, isPolled: number | undefined): Buffer {
  const buf = Buffer.alloc(RESPONSE_LEN.INSTANCE_INFO);
  header(buf, buf.length, version, MsgType.INSTANCE_INFO);
  if (first) writeRing(buf, InstInfo.first, first);
  if (asym) writeRing(buf, InstInfo.asym, asym);
  if (isPolled !== undefined) buf.writeInt32LE(isPolled, InstInfo.isPolled);
  return buf;
}

export function encodeVfioFile(version: number, fd: number, path: string): Buffer {
  return encodeString(version, MsgType.VFIO_FILE, path, Vfio.name, (b) => b.writeInt16LE(fd, Vfio.fd));
}

export function encodePfInfo(version: number, pkgId: number, domain: number, bdf16: number, deviceGen: string): Buffer {
  const buf = Buffer.alloc(RESPONSE_LEN.PF_DEV_INFO);
  header(buf, buf.length, version, MsgType.PF_DEV_INFO);
  buf.writeUInt32LE(pkgId, PfInfoOff.pkgId);
  buf.writeUInt16LE(domain, PfInfoOff.domain);
  buf.writeUInt16LE(bdf16, PfInfoOff.bdf);
  Buffer.from(deviceGen, 'latin1').subarray(0, DEVICE_GEN_FIELD - 1).copy(buf, PfInfoOff.deviceGen);
  return buf;
}

// ---- requests (what libqat sends) ----

export function encodeNameRequest(version: number, type: number, name: string): Buffer {
  return encodeString(version, type, name);
}

export function encodeBareRequest(version: number, type: number): Buffer {
  return encodeHeaderOnly(version, type);
}

export function encodeDeviceRequest(version: number, type: number, deviceNum: number): Buffer {
  const buf = Buffer.alloc(10);
  header(buf, 10, version, type);
  buf.writeUInt16LE(deviceNum, Req.deviceNum);
  return buf;
}

export function encodeInstanceRequest(version: number, type: number, instType: number, num: number, deviceNum: number): Buffer {
  const buf = Buffer.alloc(16);
  header(buf, 16, version, type);
  buf.writeUInt32LE(instType >>> 0, Req.instType);
  buf.writeUInt16LE(num, Req.instNum);
  buf.writeUInt16LE(deviceNum, Req.instDevice);
  return buf;
}
