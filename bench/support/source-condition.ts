/**
 * The benches measure Weft's TypeScript sources: without `--conditions=@weft/source`, `@weft/core`
 * imported by another package would load a stale `dist/` beside the sources the bench imports.
 */

/** Exits (status 2) with how to run `script` unless this process resolves @weft/core to its sources. */
export function exitUnlessSourceCondition(script: string): void {
  if (!import.meta.resolve('@weft/core').endsWith('/packages/core/src/index.ts')) {
    console.error(`Run with the source condition: node --conditions=@weft/source ${script}`);
    process.exit(2);
  }
}
