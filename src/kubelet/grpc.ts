// gRPC for the kubelet APIs, loaded on first use: grpc-js, proto-loader and the .proto files of proto/.
//
// Nothing here is imported by a daemon that runs without --kubelet-plugin: the daemon imports this room
// dynamically, and this file imports grpc-js dynamically, so start-up time and memory stay as they were.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as GrpcJs from '@grpc/grpc-js';

export type Grpc = typeof GrpcJs;

export interface KubeletApis {
  grpc: Grpc;
  /** v1beta1.Registration and v1beta1.DevicePlugin (client constructors; `.service` for servers). */
  registration: GrpcJs.ServiceClientConstructor;
  devicePlugin: GrpcJs.ServiceClientConstructor;
  /** v1.PodResourcesLister. */
  podResources: GrpcJs.ServiceClientConstructor;
}

const PROTO_FILES = ['deviceplugin/v1beta1/api.proto', 'podresources/v1/api.proto'];

/** The repository's (or package's) proto/ directory, found upwards from this module (src/ or dist/src/). */
export function protoDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 5; i++) {
    const p = path.join(dir, 'proto');
    if (fs.existsSync(path.join(p, PROTO_FILES[0]))) return p;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find proto/${PROTO_FILES[0]} above ${from}; the package is incomplete`);
}

let loaded: Promise<KubeletApis> | undefined;

/** grpc-js and the kubelet API definitions (loaded once per process). */
export function loadKubeletApis(): Promise<KubeletApis> {
  loaded ??= (async () => {
    const grpc = await import('@grpc/grpc-js');
    const protoLoader = await import('@grpc/proto-loader');
    const dir = protoDir();
    // keepCase: field names exactly as in the .proto (devices_ids, ID); longs as numbers (NUMA ids are small);
    // defaults: absent repeated fields read as [] and absent strings as ''
    const def = protoLoader.loadSync(PROTO_FILES.map((f) => path.join(dir, f)), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      v1beta1: { Registration: GrpcJs.ServiceClientConstructor; DevicePlugin: GrpcJs.ServiceClientConstructor };
      v1: { PodResourcesLister: GrpcJs.ServiceClientConstructor };
    };
    return { grpc, registration: pkg.v1beta1.Registration, devicePlugin: pkg.v1beta1.DevicePlugin, podResources: pkg.v1.PodResourcesLister };
  })();
  return loaded;
}

/** A gRPC target for a Unix socket path. */
export function unixTarget(p: string): string {
  return `unix:${p}`;
}
