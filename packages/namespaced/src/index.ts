/**
 * @comsg/namespaced — the namespace daemon (nsd) compartment. `./protocol` is what clients
 * import; the server (`startNsd`) is for the microkernel's boot code.
 */
export * from './server/index.js';
