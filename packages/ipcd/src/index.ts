/**
 * @comsg/ipcd — the coport daemon: COPIPE, COCARRIER and COCHANNEL ports, copoll, message
 * free with revocation. The protocol (op declarations, constants, the entry ABI) is also
 * available alone as `@comsg/ipcd/protocol`.
 */
export * from './protocol/index.js';
export { Ipcd, type IpcdKeys, type IpcdStats } from './server/ipcd.js';
/** Bytes of ipcd memory each port slot's record takes (tools and the memory benchmark report it). */
export { RECORD_BYTES as PORT_RECORD_BYTES } from './server/port-record.js';
export { startIpcd, type IpcdOptions, type RunningIpcd } from './server/start.js';
