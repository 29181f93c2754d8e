// koffi binding to sd_notify(3) in libsystemd.so.0, loaded lazily; absent library = undefined.

import koffi from 'koffi';

export type SdNotify = (unsetEnvironment: number, state: string) => number;

let loaded: SdNotify | null | undefined;

/** sd_notify from libsystemd.so.0, or undefined when the library cannot be loaded on this machine. */
export function loadSdNotify(): SdNotify | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    const lib = koffi.load('libsystemd.so.0');
    loaded = lib.func('int sd_notify(int unset_environment, const char *state)') as SdNotify;
  } catch {
    loaded = null;
  }
  return loaded ?? undefined;
}
