/**
 * A Bookinfo process started by the launcher (node:child_process), running the TypeScript
 * sources directly. Ready once it prints its `{"ready":…,"port":…}` line; stopped with SIGTERM
 * (its own shutdown deregisters it), or SIGKILL if it has not exited within a few seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export class ChildService {
  readonly name: string;
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(name: string, port: number, child: ChildProcess, exited: Promise<void>) {
    this.name = name;
    this.port = port;
    this.#child = child;
    this.#exited = exited;
  }

  /** Runs `node --conditions=@weft/source <script> ...args` and waits for its ready line. */
  static async start(
    script: string,
    args: readonly string[],
    log: (line: string) => void,
  ): Promise<ChildService> {
    const child = spawn(process.execPath, ['--conditions=@weft/source', script, ...args], {
      // Standard input is the child's lifeline: it ends when this process does, however it ends.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, BOOKINFO_PARENT_LIFELINE: '1' },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    try {
      const ready = await new Promise<{ name: string; port: number }>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${args.join(' ')} was not ready within ${START_TIMEOUT_MS} ms: ${stderr}`)),
          START_TIMEOUT_MS,
        );
        lines.on('line', (line) => {
          const parsed = parseReadyLine(line);
          if (parsed === undefined) return log(line);
          clearTimeout(timer);
          resolve(parsed);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`${args.join(' ')} exited during start-up (${code ?? signal}): ${stderr}`));
        });
      });
      return new ChildService(ready.name, ready.port, child, exited);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  get isRunning(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseReadyLine(line: string): { name: string; port: number } | undefined {
  if (!line.startsWith('{"ready"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { ready?: unknown; port?: unknown };
    if (typeof parsed.ready === 'string' && typeof parsed.port === 'number')
      return { name: parsed.ready, port: parsed.port };
  } catch {
    // Not the ready line after all: an ordinary log line.
  }
  return undefined;
}
