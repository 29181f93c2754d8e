// The simulator's public face: parse a spec and write the host.
export { parseSimSpec, DEFAULT_SPEC, SPEC_HELP, kernelDefaultServices, vfAddress } from './spec.js';
export type { SimHost, SimPf, SimVf, VfDriverChoice } from './spec.js';
export { generateHost, deviceDir, busDir, SIM_MARKER, simulatedHostDir } from './generate.js';
export { chooseKernelFs } from './kernel.js';
export type { GeneratedHost, GenerateOptions } from './generate.js';
export { inject, applyFault, INJECT_KINDS, INJECT_HELP, type InjectKind, type InjectReport } from './inject.js';
