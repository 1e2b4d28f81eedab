/**
 * @comsg/libcoproc — co-process user library (coproc_init, cocall wrappers, worker pools,
 * capv). Not implemented yet (see the project's open issues); exports nothing.
 */
export {};
