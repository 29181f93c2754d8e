import { describe, it, expect } from 'vitest';
import { wqStore, engineStore, groupStore, deviceStore, wqBindCheck, deviceEnableCheck, cryptoAttrStore, type DeviceFacts, type WqFacts } from '../../../src/kernel/idxd-sysfs.js';
import { describeCmdStatus, parseIdxdName } from '../../../src/kernel/idxd.js';

const dev = (over: Partial<DeviceFacts> = {}): DeviceFacts => ({
  type: 'iax', state: 'disabled', configurable: true, version: 0x100, maxGroups: 4, maxWqs: 8, maxEngines: 8, maxWqSize: 128,
  maxBatchSize: 0, maxTransferSize: 2147483648, maxReadBuffers: 0, userPasid: true, systemPasid: false, ...over,
});
const wq = (over: Partial<WqFacts> = {}): WqFacts => ({ state: 'disabled', size: 0, mode: 'shared', type: 'none', threshold: 0, groupId: -1, name: '', driverName: '', ...over });

describe('idxd attribute stores follow sysfs.c', () => {
  it('a wq size is writable only while the device is disabled and the device total stays within max_work_queues_size', () => {
    expect(wqStore('size', '64', dev(), wq(), 0)).toEqual({ set: { size: '64' } });
    expect(wqStore('size', '64', dev({ state: 'enabled' }), wq(), 0)).toEqual({ errno: 'EPERM' });
    expect(wqStore('size', '100', dev(), wq({ size: 20 }), 49)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('size', '100', dev(), wq({ size: 20 }), 48)).toEqual({ set: { size: '100' } });
    expect(wqStore('size', '100', dev(), wq({ size: 20 }), 20)).toEqual({ set: { size: '100' } });
    expect(wqStore('size', 'ten', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
  });

  it('wq settings need the wq disabled; threshold and block_on_fault answer ENXIO, the others EPERM', () => {
    const on = wq({ state: 'enabled', size: 16 });
    expect(wqStore('priority', '10', dev(), on, 16)).toEqual({ errno: 'EPERM' });
    expect(wqStore('threshold', '8', dev(), on, 16)).toEqual({ errno: 'ENXIO' });
    expect(wqStore('block_on_fault', '1', dev(), on, 16)).toEqual({ errno: 'ENXIO' });
    expect(wqStore('name', 'x', dev(), on, 16)).toEqual({ errno: 'EPERM' });
  });

  it('dedicated mode clears the threshold, a threshold needs a shared wq within its size, priority stops at 15', () => {
    expect(wqStore('mode', 'dedicated\n', dev(), wq({ threshold: 8 }), 0)).toEqual({ set: { mode: 'dedicated', threshold: '0' } });
    expect(wqStore('threshold', '8', dev(), wq({ size: 16, mode: 'dedicated' }), 16)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('threshold', '17', dev(), wq({ size: 16 }), 16)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('threshold', '0', dev(), wq({ size: 16 }), 16)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('threshold', '0x8', dev(), wq({ size: 16 }), 16)).toEqual({ set: { threshold: '8' } });
    expect(wqStore('priority', '16', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('mode', 'exclusive', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
  });

  it('changing the type clears the name; an empty write is refused but a lone newline clears', () => {
    expect(wqStore('type', 'kernel', dev(), wq({ type: 'user', name: 'app' }), 0)).toEqual({ set: { type: 'kernel', name: '' } });
    expect(wqStore('type', 'user', dev(), wq({ type: 'user', name: 'app' }), 0)).toEqual({ set: { type: 'user' } });
    expect(wqStore('type', 'mdev', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('name', '', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('name', '\n', dev(), wq(), 0)).toEqual({ set: { name: '' } });
    expect(wqStore('name', 'x'.repeat(1025), dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('driver_name', ' crypto \n', dev(), wq(), 0)).toEqual({ set: { driver_name: 'crypto' } });
  });

  it('transfer and batch sizes round up to a power of two and stop at the device maximum; read-only attributes answer EACCES', () => {
    expect(wqStore('max_transfer_size', '3000', dev(), wq(), 0)).toEqual({ set: { max_transfer_size: '4096' } });
    expect(wqStore('max_transfer_size', '0', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('max_batch_size', '64', dev({ maxBatchSize: 32 }), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('state', 'enabled', dev(), wq(), 0)).toEqual({ errno: 'EACCES' });
    expect(wqStore('clients', '0', dev(), wq(), 0)).toEqual({ errno: 'EACCES' });
  });

  it('group ids stay within max_groups; an engine can move while the device is enabled; a non-configurable device refuses', () => {
    expect(wqStore('group_id', '4', dev(), wq(), 0)).toEqual({ errno: 'EINVAL' });
    expect(wqStore('group_id', '-1', dev(), wq(), 0)).toEqual({ set: { group_id: '-1' } });
    expect(engineStore('group_id', '3', dev({ state: 'enabled' }))).toEqual({ set: { group_id: '3' } });
    expect(engineStore('group_id', '0', dev({ configurable: false }))).toEqual({ errno: 'EPERM' });
    expect(wqStore('size', '1', dev({ configurable: false }), wq(), 0)).toEqual({ errno: 'EPERM' });
  });

  it('IAA has no read buffers, and first-generation devices keep their traffic classes', () => {
    const g = { numEngines: 1, readBuffersReserved: 0, freeReadBuffers: 96, readBufferLimit: 0 };
    expect(groupStore('read_buffers_reserved', '8', dev(), g)).toEqual({ errno: 'EOPNOTSUPP' });
    expect(groupStore('tokens_reserved', '8', dev({ type: 'dsa', maxReadBuffers: 96 }), g)).toEqual({ set: { read_buffers_reserved: '8' } });
    expect(groupStore('read_buffers_allowed', '2', dev({ type: 'dsa', maxReadBuffers: 96 }), g)).toEqual({ errno: 'EINVAL' });
    expect(groupStore('use_read_buffer_limit', '1', dev({ type: 'dsa', maxReadBuffers: 96 }), g)).toEqual({ errno: 'EPERM' });
    expect(groupStore('traffic_class_a', '2', dev(), g)).toEqual({ errno: 'EPERM' });
    expect(groupStore('traffic_class_a', '2', dev({ version: 0x300 }), g)).toEqual({ set: { traffic_class_a: '2' } });
    expect(deviceStore('cmd_status', 'x', dev())).toEqual({ set: { cmd_status: '0' } });
    expect(deviceStore('max_groups', '2', dev())).toEqual({ errno: 'EACCES' });
  });
});

describe('enabling devices and wqs', () => {
  const grouped = (over: Partial<WqFacts> = {}): WqFacts => wq({ groupId: 0, size: 16, mode: 'dedicated', name: 'w', type: 'kernel', driverName: 'crypto', ...over });

  it('a device needs a grouped wq and a grouped engine, and must be disabled', () => {
    expect(deviceEnableCheck(dev(), [wq()], [0])).toEqual({ errno: 'ENXIO', cmdStatus: 'WQ_NONE_CONFIGURED' });
    expect(deviceEnableCheck(dev(), [grouped()], [-1])).toEqual({ errno: 'ENXIO', cmdStatus: undefined });
    expect(deviceEnableCheck(dev({ state: 'enabled' }), [grouped()], [0])).toEqual({ errno: 'ENXIO', cmdStatus: 'DEV_ENABLED' });
    expect(deviceEnableCheck(dev(), [grouped({ size: 0 })], [0])).toEqual({ ok: true, sizes: { 0: 16 } });
  });

  it('a grouped shared wq without a type keeps the device from enabling (no PASID kind to support it)', () => {
    expect(deviceEnableCheck(dev(), [grouped(), wq({ groupId: 0, mode: 'shared', type: 'none' })], [0])).toEqual({ errno: 'ENXIO', cmdStatus: 'WQ_NO_SWQ_SUPPORT' });
  });

  const f = { cryptoActive: false, cryptoRegistered: false };
  const on = dev({ state: 'enabled' });

  it('wq binds check device state, SVA for user wqs, the driver name, group, name and shared-wq threshold', () => {
    expect(wqBindCheck('crypto', dev(), [grouped()], 0, [0], f)).toMatchObject({ errno: 'ENXIO' });
    expect(wqBindCheck('user', dev({ state: 'enabled', userPasid: false }), [grouped({ driverName: 'user' })], 0, [0], f)).toMatchObject({ errno: 'EOPNOTSUPP', cmdStatus: 'WQ_USER_NO_IOMMU' });
    expect(wqBindCheck('user', on, [grouped()], 0, [0], f)).toMatchObject({ errno: 'ENODEV', cmdStatus: 'WQ_NO_DRV_NAME' });
    expect(wqBindCheck('crypto', dev({ type: 'dsa', state: 'enabled' }), [grouped()], 0, [0], f)).toMatchObject({ errno: 'ENODEV' });
    expect(wqBindCheck('crypto', on, [grouped({ groupId: -1 })], 0, [0], f)).toMatchObject({ errno: 'ENXIO', cmdStatus: 'WQ_NO_GRP' });
    expect(wqBindCheck('crypto', on, [grouped({ name: '' })], 0, [0], f)).toMatchObject({ errno: 'ENXIO', cmdStatus: 'WQ_NO_NAME' });
    expect(wqBindCheck('crypto', on, [grouped({ mode: 'shared' })], 0, [0], f)).toMatchObject({ errno: 'ENXIO', cmdStatus: 'WQ_NO_SVM' });
    expect(wqBindCheck('user', on, [grouped({ mode: 'shared', driverName: 'user' })], 0, [0], f)).toMatchObject({ errno: 'ENXIO', cmdStatus: 'WQ_NO_THRESH' });
    expect(wqBindCheck('user', on, [grouped({ mode: 'shared', threshold: 8, driverName: 'user' })], 0, [0], f)).toMatchObject({ ok: true, type: 'user' });
    expect(wqBindCheck('crypto', on, [grouped({ state: 'enabled' })], 0, [0], f)).toMatchObject({ errno: 'EBUSY' });
  });

  it('iaa_crypto registers deflate-iaa with its first wq, and a second registration without a module reload fails', () => {
    expect(wqBindCheck('crypto', on, [grouped()], 0, [0], f)).toMatchObject({ ok: true, type: 'kernel', registers: true });
    expect(wqBindCheck('crypto', on, [grouped()], 0, [0], { cryptoActive: true, cryptoRegistered: true })).toMatchObject({ ok: true, registers: false });
    expect(wqBindCheck('crypto', on, [grouped()], 0, [0], { cryptoActive: false, cryptoRegistered: true })).toEqual({ errno: 'EEXIST', cleanup: true });
  });

  it("iaa_crypto's sync_mode and verify_compress change only while no wq is bound to it", () => {
    expect(cryptoAttrStore('sync_mode', 'async_irq\n', false)).toEqual({ set: { sync_mode: 'async_irq' } });
    expect(cryptoAttrStore('sync_mode', 'async', true)).toEqual({ errno: 'EBUSY' });
    expect(cryptoAttrStore('sync_mode', 'fast', false)).toEqual({ errno: 'EINVAL' });
    expect(cryptoAttrStore('verify_compress', 'n', false)).toEqual({ set: { verify_compress: '0' } });
  });

  it('names and command statuses decode', () => {
    expect(parseIdxdName('iax3')).toEqual({ kind: 'device', type: 'iax', id: 3 });
    expect(parseIdxdName('wq3.1')).toEqual({ kind: 'wq', dev: 3, id: 1 });
    expect(parseIdxdName('iaa3')).toBeUndefined();
    expect(describeCmdStatus('0x80200000')).toMatch(/^WQ_NO_DRV_NAME/);
    expect(describeCmdStatus('0')).toBeUndefined();
    expect(describeCmdStatus('0x5')).toBe('hardware status 0x5');
  });
});
