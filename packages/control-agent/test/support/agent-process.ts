/**
 * A real `weft agent` in a child process — the package's bin (bin/weft.js), as an operator runs
 * it — for tests that must kill an agent (SIGKILL: no shutdown code runs) or restart it on the same
 * port and data. The address is read from the line the agent prints once it listens. Every process
 * started here is tracked; `killAgentProcesses` (call it in afterEach) SIGKILLs those still alive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WEFT_BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;

const running = new Set<AgentProcess>();

export class AgentProcess {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #readStderr: () => string;

  private constructor(url: string, child: ChildProcess, exited: Promise<void>, readStderr: () => string) {
    this.url = url;
    this.port = Number(new URL(url).port);
    this.process = child;
    this.#exited = exited;
    this.#readStderr = readStderr;
  }

  /**
   * Runs `weft agent <args>` and resolves once it prints its address. `args` choose the store
   * (`--store etcd://…`, `--data-dir`, `--in-memory`); `--port 0` is added unless a port is given.
   */
  static async start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
    const hasPort = args.some((arg) => arg === '--port' || arg === '-p' || arg.startsWith('--port='));
    const child = spawn(process.execPath, [WEFT_BIN, 'agent', ...(hasPort ? [] : ['--port', '0']), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WEFT_ADMIN_TOKEN: '', ...env },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8_000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`weft agent did not print its address within ${START_TIMEOUT_MS} ms: ${stderr}`),
            ),
          START_TIMEOUT_MS,
        );
        lines.on('line', (line) => {
          const match = /listening on (http:\/\/\S+)/.exec(line);
          if (match?.[1] === undefined) return;
          clearTimeout(timer);
          resolve(match[1]);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`weft agent exited during start-up (${code ?? signal}): ${stderr}`));
        });
      });
      const agent = new AgentProcess(url, child, exited, () => stderr);
      running.add(agent);
      void exited.then(() => running.delete(agent));
      return agent;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  get isRunning(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** What the agent wrote on standard error lately (warnings, for failure messages). */
  get stderr(): string {
    return this.#readStderr();
  }

  /** SIGKILL — a crash: no stream is ended cleanly, no store is closed — and waits for the exit. */
  async kill(): Promise<void> {
    if (!this.isRunning) return;
    this.process.kill('SIGCONT');
    this.process.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (a clean shutdown) and waits for the exit. */
  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.process.kill('SIGTERM');
    await this.#exited;
  }
}

/** SIGKILLs every agent process started here that still runs. */
export async function killAgentProcesses(): Promise<void> {
  await Promise.all([...running].map((agent) => agent.kill()));
}
