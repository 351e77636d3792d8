#!/usr/bin/env node
// The `weft` executable: a launcher in JavaScript, because Node refuses to strip the types of a
// .ts file under node_modules, which is where an installed package's bin lives. In this
// repository (the package is a symlink into packages/, outside node_modules) it runs the
// TypeScript sources directly, resolving the workspace packages (@weft/core) to their sources
// through the `@weft/source` export condition as the tests do, so no build is needed. Installed
// from a registry, it runs the build output in dist/.
import { existsSync, realpathSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageRoot = dirname(dirname(realpathSync(fileURLToPath(import.meta.url))));
const sourceEntry = join(packageRoot, 'src', 'cli', 'run.ts');
const isSourceCheckout = !packageRoot.split(sep).includes('node_modules') && existsSync(sourceEntry);

if (isSourceCheckout) {
  // Type stripping is on by default from Node 22.18 / 23.6, and registerHooks exists from 22.15.
  if (typeof nodeModule.registerHooks !== 'function' || !process.features.typescript) {
    process.stderr.write(
      `weft: needs Node.js 22.18 or newer to run from sources; this is ${process.version}\n`,
    );
    process.exit(1);
  }
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      return nextResolve(specifier, { ...context, conditions: [...context.conditions, '@weft/source'] });
    },
  });
}

const entry = isSourceCheckout ? sourceEntry : join(packageRoot, 'dist', 'cli', 'run.js');
const { runCli } = await import(pathToFileURL(entry).href);
await runCli(process.argv.slice(2));
