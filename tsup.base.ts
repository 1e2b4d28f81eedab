import type { Options } from 'tsup';

/** The one build configuration every package uses: ESM + CJS + d.ts from src/. */
export function packageBuild(entry: string[] = ['src/index.ts']): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
    // import.meta.url in the CJS build (the threads runtime locates its worker entry with it).
    shims: true,
  };
}
