// The kubelet APIs' messages as TypeScript sees them (field names as in proto/, loaded with keepCase), and their constants.

/** The device-plugin API version this plugin speaks (RegisterRequest.version). */
export const DEVICE_PLUGIN_VERSION = 'v1beta1';
export const HEALTHY = 'Healthy';
export const UNHEALTHY = 'Unhealthy';
/** The kubelet's registration socket, inside <kubelet dir>/device-plugins/. */
export const KUBELET_SOCKET = 'kubelet.sock';
export const DEVICE_PLUGINS_DIR = 'device-plugins';
export const POD_RESOURCES_SOCKET = ['pod-resources', 'kubelet.sock'] as const;
/** Resource names: Intel's plugin's for VFs given directly, and ours for sections given in managed mode. */
export const RESOURCE_DOMAIN = 'qat.intel.com';
export const MANAGED_RESOURCE = `${RESOURCE_DOMAIN}/managed`;

export interface NumaNode { ID: number }
export interface TopologyInfo { nodes: NumaNode[] }
export interface Device { ID: string; health: string; topology: TopologyInfo | null }
export interface DevicePluginOptions { pre_start_required: boolean; get_preferred_allocation_available: boolean }
export interface RegisterRequest { version: string; endpoint: string; resource_name: string; options: DevicePluginOptions }
export interface ListAndWatchResponse { devices: Device[] }
export interface ContainerPreferredAllocationRequest { available_deviceIDs: string[]; must_include_deviceIDs: string[]; allocation_size: number }
export interface PreferredAllocationRequest { container_requests: ContainerPreferredAllocationRequest[] }
export interface PreferredAllocationResponse { container_responses: Array<{ deviceIDs: string[] }> }
export interface AllocateRequest { container_requests: Array<{ devices_ids: string[] }> }
export interface Mount { container_path: string; host_path: string; read_only: boolean }
export interface DeviceSpec { container_path: string; host_path: string; permissions: string }
export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  mounts: Mount[];
  devices: DeviceSpec[];
  annotations: Record<string, string>;
}
export interface AllocateResponse { container_responses: ContainerAllocateResponse[] }
export interface PreStartContainerRequest { devices_ids: string[] }

export interface ContainerDevices { resource_name: string; device_ids: string[]; topology: TopologyInfo | null }
export interface ContainerResources { name: string; devices: ContainerDevices[] }
export interface PodResources { name: string; namespace: string; containers: ContainerResources[] }
export interface ListPodResourcesResponse { pod_resources: PodResources[] }
