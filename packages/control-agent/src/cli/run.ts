import { main } from './main.ts';
import { processIo } from './process-io.ts';

/**
 * The process side of `weft`: real streams, environment and signals around `main()`. The exit
 * code is set, not forced, so that piped output is flushed before the process ends.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  process.exitCode = await main(argv, processIo());
}
