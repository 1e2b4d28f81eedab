/** The `comsg` executable's body (bin/comsg.mjs starts it). No top-level await: it builds to CJS too. */
import { runCli } from './cli.js';
import { processIo } from './io.js';

// `comsg … | head`: a closed pipe ends the output quietly, as for any Unix tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

void runCli(process.argv.slice(2), processIo).then((code) => {
  process.exitCode = code;
});
