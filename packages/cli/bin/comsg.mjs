#!/usr/bin/env node
// comsg(1). Inside the repository (after `npm ci`) it runs the TypeScript sources through tsx;
// an installed package without sources runs the built dist/ instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const built = new URL('../dist/main.js', import.meta.url);

function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}

const loader = existsSync(source) ? tsxLoader() : undefined;
if (loader !== undefined) {
  const r = spawnSync(process.execPath, ['--conditions=comsg:source', `--import=${loader}`, source, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 128 + 2;
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  console.error('comsg: neither the sources with tsx nor a build (dist/) was found; run `npm ci` (and `npm run build`)');
  process.exitCode = 70;
}
