/**
 * @comsg/cli — comsg(1) as a library: `runCli(argv, io)` runs a subcommand and resolves to its
 * exit status; the decoders and snapshots it uses are exported for other tools.
 */
export { COMMANDS, runCli } from './cli.js';
export { Exit, processIo, renderTable, type Io } from './io.js';
export type { Command, Parsed } from './command.js';
export { EXAMPLES, findExample, type Example, type ExampleHooks } from './examples.js';
export { inspectExample, type CapvRow, type Inspection, type ProcessRow, type SpaceSnapshot, type ThreadRow } from './inspect.js';
export { decodeCall, decodeReplyText, formatTrace, traceSpace, type TraceRecord } from './trace.js';
