// The koffi struct layouts match the sizes and offsets of qatlib 26.08's public headers on x86-64.

import { describe, it, expect } from 'vitest';
import koffi from 'koffi';
import * as L from '../../../src/libqat/layouts.js';

describe('QAT API struct layouts', () => {
  it('CpaFlatBuffer is 16 bytes with pData at 8, CpaBufferList 32 bytes with pPrivateMetaData at 24', () => {
    expect(koffi.sizeof(L.CpaFlatBuffer)).toBe(16);
    expect(koffi.offsetof(L.CpaFlatBuffer, 'pData')).toBe(8);
    expect(koffi.sizeof(L.CpaBufferList)).toBe(32);
    expect(koffi.offsetof(L.CpaBufferList, 'pBuffers')).toBe(8);
    expect(koffi.offsetof(L.CpaBufferList, 'pPrivateMetaData')).toBe(24);
  });

  it('CpaInstanceInfo2 is 932 bytes: physInstId at 388, a 4096-bit core bitmap, nodeAffinity at 912', () => {
    expect(koffi.sizeof(L.CpaInstanceInfo2)).toBe(932);
    expect(koffi.offsetof(L.CpaInstanceInfo2, 'instName')).toBe(196);
    expect(koffi.offsetof(L.CpaInstanceInfo2, 'physInstId')).toBe(388);
    expect(koffi.offsetof(L.CpaInstanceInfo2, 'coreAffinity')).toBe(400);
    expect(koffi.offsetof(L.CpaInstanceInfo2, 'nodeAffinity')).toBe(912);
    expect(koffi.offsetof(L.CpaInstanceInfo2, 'isOffloaded')).toBe(928);
  });

  it('the compression structs: setup 52 bytes, results 24, op data 64 with pCrcData at 56, capabilities 152', () => {
    expect(koffi.sizeof(L.CpaDcSessionSetupData)).toBe(52);
    expect(koffi.offsetof(L.CpaDcSessionSetupData, 'checksum')).toBe(44);
    expect(koffi.sizeof(L.CpaDcRqResults)).toBe(24);
    expect(koffi.offsetof(L.CpaDcRqResults, 'produced')).toBe(4);
    expect(koffi.sizeof(L.CpaDcOpData)).toBe(64);
    expect(koffi.offsetof(L.CpaDcOpData, 'inputSkipData')).toBe(24);
    expect(koffi.offsetof(L.CpaDcOpData, 'pCrcData')).toBe(56);
    expect(koffi.sizeof(L.CpaDcInstanceCapabilities)).toBe(152);
    expect(koffi.offsetof(L.CpaDcInstanceCapabilities, 'internalHuffmanMem')).toBe(112);
  });

  it('the symmetric structs: session setup 112 bytes (hash setup at 32), op data 64 with pDigestResult at 48', () => {
    expect(koffi.sizeof(L.CpaCySymSessionSetupData)).toBe(112);
    expect(koffi.offsetof(L.CpaCySymSessionSetupData, 'cipherSetupData')).toBe(8);
    expect(koffi.offsetof(L.CpaCySymSessionSetupData, 'hashSetupData')).toBe(32);
    expect(koffi.offsetof(L.CpaCySymSessionSetupData, 'algChainOrder')).toBe(96);
    expect(koffi.sizeof(L.CpaCySymOpData)).toBe(64);
    expect(koffi.offsetof(L.CpaCySymOpData, 'pIv')).toBe(16);
    expect(koffi.offsetof(L.CpaCySymOpData, 'messageLenToHashInBytes')).toBe(40);
    expect(koffi.offsetof(L.CpaCySymOpData, 'pDigestResult')).toBe(48);
  });

  it('the hot-path offset table is read from the same koffi types', () => {
    expect(L.Off.list.meta).toBe(24);
    expect(L.Off.dcRes.checksum).toBe(12);
    expect(L.Off.symOp.digest).toBe(48);
  });
});
