// NUMA node numbers as the kernel reports them in sysfs (a device's numa_node, /sys/devices/system/node/node<N>).

/**
 * MAX_NUMNODES = 1 << CONFIG_NODES_SHIFT, and NODES_SHIFT is at most 10 on x86 and arm64 (arch Kconfig "range 1 10"):
 * a node number of 1024 or more is not one the kernel writes.
 */
export const MAX_NUMA_NODES = 1024;
/** numa_node of a device with no node (NUMA_NO_NODE). */
export const NUMA_NO_NODE = -1;
