/**
 * Child processes for chaos tests: a Node script run from source, watched until it prints the
 * lines it promises, then killed (SIGKILL, a crash), stopped (SIGTERM) or paused (SIGSTOP) by the
 * test. Every child started here is tracked; `killChildren()` (afterEach) SIGKILLs those alive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AgentChildOptions } from './agent-child.ts';

const START_TIMEOUT_MS = 20_000;
const running = new Set<Child>();

export class Child {
  readonly process: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  readonly #exited: Promise<void>;
  readonly #watchers = new Set<(line: string) => void>();
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.process = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-8_000);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.lines.push(line);
      for (const watcher of [...this.#watchers]) watcher(line);
    });
  }

  /**
   * Runs `node --conditions=@weft/source <script> <args>` and resolves once a stdout line
   * matches `ready` (its match is returned), or rejects if the child exits or is silent too long.
   */
  static async start(
    script: URL,
    args: readonly string[],
    ready: RegExp,
  ): Promise<{ child: Child; match: RegExpExecArray }> {
    const process_ = spawn(process.execPath, ['--conditions=@weft/source', fileURLToPath(script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WEFT_ADMIN_TOKEN: '' },
    });
    const child = new Child(process_);
    running.add(child);
    void child.#exited.then(() => running.delete(child));
    try {
      const match = await child.waitForLine(ready, START_TIMEOUT_MS);
      return { child, match };
    } catch (error) {
      process_.kill('SIGKILL');
      throw error;
    }
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get isRunning(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves with the first line (seen already or to come) that matches. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    for (const line of this.lines) {
      const match = pattern.exec(line);
      if (match !== null) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        settle();
        reject(new Error(`the child exited (${code ?? signal}) before ${pattern}; stderr: ${this.#stderr}`));
      };
      const watcher = (line: string) => {
        const match = pattern.exec(line);
        if (match === null) return;
        settle();
        resolve(match);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${this.#stderr}`));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        this.process.off('exit', onExit);
      };
      this.#watchers.add(watcher);
      this.process.once('exit', onExit);
    });
  }

  /** SIGKILL — a crash: no shutdown code runs — and waits for the exit. */
  async kill(): Promise<void> {
    if (!this.isRunning) return;
    this.process.kill('SIGCONT');
    this.process.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM and waits for the exit. */
  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.process.kill('SIGCONT');
    this.process.kill('SIGTERM');
    await this.#exited;
  }

  pause(): void {
    this.process.kill('SIGSTOP');
  }

  resume(): void {
    this.process.kill('SIGCONT');
  }
}

/** SIGKILLs every child started here that still runs. */
export async function killChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.kill()));
}

/** A control agent in a child process (support/agent-child.ts). */
export interface AgentChild {
  readonly child: Child;
  readonly url: string;
  readonly port: number;
}

export async function startAgentChild(options: AgentChildOptions = {}): Promise<AgentChild> {
  const { child, match } = await Child.start(
    new URL('./agent-child.ts', import.meta.url),
    [JSON.stringify(options)],
    /listening on (http:\/\/\S+)/,
  );
  const url = match[1] as string;
  return { child, url, port: Number(new URL(url).port) };
}

/** HTTP upstreams in one child process (support/upstream-child.ts): name → port. */
export interface UpstreamChild {
  readonly child: Child;
  readonly ports: ReadonlyMap<string, number>;
}

export async function startUpstreamChild(names: readonly string[]): Promise<UpstreamChild> {
  const { child } = await Child.start(new URL('./upstream-child.ts', import.meta.url), names, /^ready$/);
  const ports = new Map<string, number>();
  for (const line of child.lines) {
    const match = /^listening (\S+) (\d+)$/.exec(line);
    if (match !== null) ports.set(match[1] as string, Number(match[2]));
  }
  return { child, ports };
}
