export { startNsd, type NsdOptions, type RunningNsd } from './start.js';
export { NamespaceTable, DEFAULT_LIMITS, DEFAULT_QUOTA, type NsdLimits, type NsdQuota, type NsdUsage, type NsEntry, type ObjEntry } from './namespace-table.js';
export { HandleCodec, type NsdKeys } from './handles.js';
export { snapshotNamespaces, type NsObjectView, type NsView } from './snapshot.js';
