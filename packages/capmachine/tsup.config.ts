import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The threads runtime's worker entry is its own file: a worker thread starts from it.
export default defineConfig(packageBuild(['src/index.ts', 'src/threads/worker-entry.ts']));
