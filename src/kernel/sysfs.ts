// Which sysfs attributes of a PCI/QAT device have a store method (kernfs refuses a write to any other with -EACCES).

/** Attribute names with a store method, from drivers/pci (sriov_*, driver_override, bind/unbind, reset, remove,
 * rescan, new_id/remove_id), qat_common/adf_sysfs.c (state, cfg_services, pm_idle_enabled, auto_reset, rp2srv) and
 * qat_common/adf_sysfs_ras_counters.c (reset_error_counters). */
export const WRITABLE_ATTRS: ReadonlySet<string> = new Set([
  'state', 'cfg_services', 'pm_idle_enabled', 'auto_reset', 'rp2srv', 'sriov_numvfs', 'sriov_drivers_autoprobe',
  'driver_override', 'bind', 'unbind', 'new_id', 'remove_id', 'reset', 'remove', 'rescan', 'reset_error_counters',
]);
