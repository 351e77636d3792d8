import type { CliIo, TextSink } from './cli-io.ts';

/**
 * The CliIo of a real process: its streams, environment and signals. SIGINT and SIGTERM abort
 * `shutdown` once; a second signal of either kind ends the process at once, as users expect
 * when a clean shutdown hangs.
 */
export function processIo(): CliIo {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stdout: streamSink(process.stdout),
    stderr: streamSink(process.stderr),
    readStdin: () => readAll(process.stdin),
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    shutdown: controller.signal,
  };
}

function streamSink(stream: NodeJS.WriteStream): TextSink {
  return {
    write: (text) => {
      stream.write(text);
    },
    // hasColors() honours NO_COLOR, FORCE_COLOR and TERM; it exists only on TTY streams.
    hasColors: stream.isTTY === true && stream.hasColors(),
  };
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
