/**
 * A Bookinfo process started by the launcher (node:child_process), running the TypeScript
 * sources directly. Ready once it prints its `{"ready":…,"port":…}` line; before that it may print
 * `{"metrics":URL}`, where its Prometheus metrics are served. Stopped with SIGTERM (its own
 * shutdown deregisters it and flushes its spans), or SIGKILL if it has not exited within a few
 * seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export class ChildService {
  readonly name: string;
  readonly port: number;
  /** Where its Prometheus metrics are served, when it announced them. */
  readonly metricsUrl: string | undefined;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #ports: ReadonlyMap<number, number> = new Map();

  private constructor(
    name: string,
    port: number,
    metricsUrl: string | undefined,
    child: ChildProcess,
    exited: Promise<void>,
  ) {
    this.name = name;
    this.port = port;
    this.metricsUrl = metricsUrl;
    this.#child = child;
    this.#exited = exited;
  }

  /**
   * Runs `node --conditions=@weft/source <script> ...args` and waits for its ready line. `env` is
   * added to this process's environment (the OTEL_* variables of its telemetry).
   */
  static async start(
    script: string,
    args: readonly string[],
    log: (line: string) => void,
    env: Readonly<Record<string, string>> = {},
  ): Promise<ChildService> {
    const child = spawn(process.execPath, ['--conditions=@weft/source', script, ...args], {
      // Standard input is the child's lifeline: it ends when this process does, however it ends.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env, BOOKINFO_PARENT_LIFELINE: '1' },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let metricsUrl: string | undefined;
    try {
      const ready = await new Promise<ReadyLine>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${args.join(' ')} was not ready within ${START_TIMEOUT_MS} ms: ${stderr}`)),
          START_TIMEOUT_MS,
        );
        lines.on('line', (line) => {
          const announced = parseMetricsLine(line);
          if (announced !== undefined) {
            metricsUrl = announced;
            return;
          }
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
      const service = new ChildService(ready.name, ready.port, metricsUrl, child, exited);
      service.#ports = ready.ports;
      return service;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** Declared port → bound port, when the ready line lists them (the gateway's `ports`). */
  get ports(): ReadonlyMap<number, number> {
    return this.#ports;
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

interface ReadyLine {
  readonly name: string;
  readonly port: number;
  readonly ports: ReadonlyMap<number, number>;
}

function parseReadyLine(line: string): ReadyLine | undefined {
  if (!line.startsWith('{"ready"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { ready?: unknown; port?: unknown; ports?: unknown };
    if (typeof parsed.ready === 'string' && typeof parsed.port === 'number')
      return { name: parsed.ready, port: parsed.port, ports: portsOf(parsed.ports) };
  } catch {
    // Not the ready line after all: an ordinary log line.
  }
  return undefined;
}

function parseMetricsLine(line: string): string | undefined {
  if (!line.startsWith('{"metrics"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { metrics?: unknown };
    if (typeof parsed.metrics === 'string') return parsed.metrics;
  } catch {
    // Not the metrics line after all: an ordinary log line.
  }
  return undefined;
}

/** `{"8080": 41234}` → 8080 → 41234; anything else is ignored (older ready lines have no ports). */
function portsOf(value: unknown): ReadonlyMap<number, number> {
  const ports = new Map<number, number>();
  if (typeof value !== 'object' || value === null) return ports;
  for (const [declared, bound] of Object.entries(value))
    if (typeof bound === 'number' && Number.isInteger(Number(declared))) ports.set(Number(declared), bound);
  return ports;
}
