/**
 * @comsg/libcomsg — not implemented yet (see the project's open issues). This stub exists so the
 * workspace layout is in place; it exports nothing and fakes no behaviour.
 */
export {};
