// koffi binding to libqat.so.4 + libusdm.so.0: the start/stop, memory, DC and symmetric-crypto calls we drive.

import fs from 'node:fs';
import path from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { CpaDcSessionSetupData, CpaCySymSessionSetupData, CpaInstanceInfo2, CpaDcInstanceCapabilities } from './layouts.js';

export interface LibqatPaths {
  libqat: string;
  libusdm: string;
}

/**
 * Where to load the libraries from: `--lib` (a directory holding both, or the libqat file), else
 * QATCTL_LIBQAT / QATCTL_LIBUSDM, else the system's libqat.so.4 / libusdm.so.0 (ld.so search path).
 */
export function resolveLibPaths(lib: string | undefined, env: NodeJS.ProcessEnv): LibqatPaths {
  if (lib) {
    const isDir = fs.existsSync(lib) && fs.statSync(lib).isDirectory();
    if (isDir) return { libqat: path.join(lib, 'libqat.so.4'), libusdm: path.join(lib, 'libusdm.so.0') };
    const sibling = path.join(path.dirname(lib), 'libusdm.so.0');
    return { libqat: lib, libusdm: env.QATCTL_LIBUSDM || (fs.existsSync(sibling) ? sibling : 'libusdm.so.0') };
  }
  return { libqat: env.QATCTL_LIBQAT || 'libqat.so.4', libusdm: env.QATCTL_LIBUSDM || 'libusdm.so.0' };
}

type Ptr = bigint;
type Fn<A extends unknown[], R = number> = ((...args: A) => R) & { async: (...args: [...A, (err: unknown, res: R) => void]) => void };

export interface Libqat {
  paths: LibqatPaths;
  /** Address of qaeVirtToPhysNUMA, handed to cpa*SetAddressTranslation. */
  virtToPhys: Ptr;
  qaeMemInit: Fn<[]>;
  qaeMemDestroy: Fn<[], void>;
  qaeMemAllocNUMA: Fn<[number, number, number], Ptr | null>;
  qaeMemFreeNUMA: Fn<[Ptr[]], void>;
  qaeVirtToPhysNUMA: Fn<[Ptr], bigint | number>;
  icp_sal_userStart: Fn<[string]>;
  icp_sal_userStop: Fn<[]>;
  cpaDcGetNumInstances: Fn<[number[]]>;
  cpaDcGetInstances: Fn<[number, (Ptr | null)[]]>;
  cpaDcInstanceGetInfo2: Fn<[Ptr, Record<string, unknown>]>;
  cpaDcQueryCapabilities: Fn<[Ptr, Record<string, unknown>]>;
  cpaDcSetAddressTranslation: Fn<[Ptr, Ptr]>;
  cpaDcStartInstance: Fn<[Ptr, number, Ptr | null]>;
  cpaDcStopInstance: Fn<[Ptr]>;
  cpaDcGetNumIntermediateBuffers: Fn<[Ptr, number[]]>;
  cpaDcBufferListGetMetaSize: Fn<[Ptr, number, number[]]>;
  cpaDcGetSessionSize: Fn<[Ptr, Record<string, unknown>, number[], number[]]>;
  cpaDcInitSession: Fn<[Ptr, Ptr, Record<string, unknown>, Ptr | null, Ptr | null]>;
  cpaDcRemoveSession: Fn<[Ptr, Ptr]>;
  cpaDcCompressData2: Fn<[Ptr, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr]>;
  cpaDcDecompressData2: Fn<[Ptr, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr]>;
  icp_sal_DcPollInstance: Fn<[Ptr, number]>;
  cpaCyGetNumInstances: Fn<[number[]]>;
  cpaCyGetInstances: Fn<[number, (Ptr | null)[]]>;
  cpaCyInstanceGetInfo2: Fn<[Ptr, Record<string, unknown>]>;
  cpaCySetAddressTranslation: Fn<[Ptr, Ptr]>;
  cpaCyStartInstance: Fn<[Ptr]>;
  cpaCyStopInstance: Fn<[Ptr]>;
  cpaCyBufferListGetMetaSize: Fn<[Ptr, number, number[]]>;
  cpaCySymSessionCtxGetSize: Fn<[Ptr, Record<string, unknown>, number[]]>;
  cpaCySymInitSession: Fn<[Ptr, Ptr | null, Record<string, unknown>, Ptr]>;
  cpaCySymRemoveSession: Fn<[Ptr, Ptr]>;
  cpaCySymPerformOp: Fn<[Ptr, Ptr, Ptr, Ptr, Ptr, Ptr | null]>;
  icp_sal_CyPollInstance: Fn<[Ptr, number]>;
}

function open(file: string, what: string): LibraryHandle {
  try {
    return koffi.load(file);
  } catch (e) {
    throw new QatmgrError(
      ErrorCodes.QATMGR_E_LIBQAT_LOAD,
      `cannot load ${what} from ${file}: ${(e as Error).message.split('\n')[0]} (use --lib DIR or QATCTL_LIBQAT/QATCTL_LIBUSDM)`,
      { file },
    );
  }
}

/** Loads libusdm first, so libqat's DT_NEEDED libusdm.so.0 resolves to the same copy (same allocator). */
export function loadLibqat(paths: LibqatPaths): Libqat {
  const usdm = open(paths.libusdm, 'libusdm');
  const qat = open(paths.libqat, 'libqat');
  const setupDc = CpaDcSessionSetupData.name;
  const setupSym = CpaCySymSessionSetupData.name;
  const info = CpaInstanceInfo2.name;
  const caps = CpaDcInstanceCapabilities.name;
  const f = (lib: LibraryHandle, decl: string) => lib.func(decl) as never;
  return {
    paths,
    virtToPhys: usdm.symbol('qaeVirtToPhysNUMA') as bigint,
    qaeMemInit: f(usdm, 'int qaeMemInit(void)'),
    qaeMemDestroy: f(usdm, 'void qaeMemDestroy(void)'),
    qaeMemAllocNUMA: f(usdm, 'void *qaeMemAllocNUMA(size_t size, int node, size_t phys_alignment_byte)'),
    qaeMemFreeNUMA: f(usdm, 'void qaeMemFreeNUMA(_Inout_ void **ptr)'),
    qaeVirtToPhysNUMA: f(usdm, 'uint64_t qaeVirtToPhysNUMA(void *virt)'),
    icp_sal_userStart: f(qat, 'int icp_sal_userStart(const char *process_name)'),
    icp_sal_userStop: f(qat, 'int icp_sal_userStop(void)'),
    cpaDcGetNumInstances: f(qat, 'int cpaDcGetNumInstances(_Out_ uint16_t *n)'),
    cpaDcGetInstances: f(qat, 'int cpaDcGetInstances(uint16_t n, _Out_ void **instances)'),
    cpaDcInstanceGetInfo2: f(qat, `int cpaDcInstanceGetInfo2(void *inst, _Out_ ${info} *info)`),
    cpaDcQueryCapabilities: f(qat, `int cpaDcQueryCapabilities(void *inst, _Out_ ${caps} *caps)`),
    cpaDcSetAddressTranslation: f(qat, 'int cpaDcSetAddressTranslation(void *inst, void *virt2phys)'),
    cpaDcStartInstance: f(qat, 'int cpaDcStartInstance(void *inst, uint16_t numBuffers, void *intermediateBuffers)'),
    cpaDcStopInstance: f(qat, 'int cpaDcStopInstance(void *inst)'),
    cpaDcGetNumIntermediateBuffers: f(qat, 'int cpaDcGetNumIntermediateBuffers(void *inst, _Out_ uint16_t *n)'),
    cpaDcBufferListGetMetaSize: f(qat, 'int cpaDcBufferListGetMetaSize(void *inst, uint32_t numBuffers, _Out_ uint32_t *size)'),
    cpaDcGetSessionSize: f(qat, `int cpaDcGetSessionSize(void *inst, ${setupDc} *setup, _Out_ uint32_t *sessionSize, _Out_ uint32_t *contextSize)`),
    cpaDcInitSession: f(qat, `int cpaDcInitSession(void *inst, void *session, ${setupDc} *setup, void *context, void *callback)`),
    cpaDcRemoveSession: f(qat, 'int cpaDcRemoveSession(void *inst, void *session)'),
    cpaDcCompressData2: f(qat, 'int cpaDcCompressData2(void *inst, void *session, void *src, void *dst, void *opData, void *results, void *tag)'),
    cpaDcDecompressData2: f(qat, 'int cpaDcDecompressData2(void *inst, void *session, void *src, void *dst, void *opData, void *results, void *tag)'),
    icp_sal_DcPollInstance: f(qat, 'int icp_sal_DcPollInstance(void *inst, uint32_t quota)'),
    cpaCyGetNumInstances: f(qat, 'int cpaCyGetNumInstances(_Out_ uint16_t *n)'),
    cpaCyGetInstances: f(qat, 'int cpaCyGetInstances(uint16_t n, _Out_ void **instances)'),
    cpaCyInstanceGetInfo2: f(qat, `int cpaCyInstanceGetInfo2(void *inst, _Out_ ${info} *info)`),
    cpaCySetAddressTranslation: f(qat, 'int cpaCySetAddressTranslation(void *inst, void *virt2phys)'),
    cpaCyStartInstance: f(qat, 'int cpaCyStartInstance(void *inst)'),
    cpaCyStopInstance: f(qat, 'int cpaCyStopInstance(void *inst)'),
    cpaCyBufferListGetMetaSize: f(qat, 'int cpaCyBufferListGetMetaSize(void *inst, uint32_t numBuffers, _Out_ uint32_t *size)'),
    cpaCySymSessionCtxGetSize: f(qat, `int cpaCySymSessionCtxGetSize(void *inst, ${setupSym} *setup, _Out_ uint32_t *size)`),
    cpaCySymInitSession: f(qat, `int cpaCySymInitSession(void *inst, void *callback, ${setupSym} *setup, void *sessionCtx)`),
    cpaCySymRemoveSession: f(qat, 'int cpaCySymRemoveSession(void *inst, void *sessionCtx)'),
    cpaCySymPerformOp: f(qat, 'int cpaCySymPerformOp(void *inst, void *tag, void *opData, void *src, void *dst, void *verifyResult)'),
    icp_sal_CyPollInstance: f(qat, 'int icp_sal_CyPollInstance(void *inst, uint32_t quota)'),
  };
}
