/**
 * A real etcd for tests: `/usr/bin/etcd` (Debian package `etcd-server`) on 127.0.0.1 with free
 * ports and a temporary data directory. It can be stopped (SIGTERM), killed (SIGKILL), paused
 * (SIGSTOP, a stall), restarted on the same ports and data, and wiped. Nothing listens beyond
 * loopback. When the binary is absent, `etcdSkipReason` says how to get it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const ETCD_BINARY = process.env.WEFT_ETCD_BINARY ?? '/usr/bin/etcd';

/** Why the etcd tests cannot run here, or undefined when they can. */
export const etcdSkipReason: string | undefined = existsSync(ETCD_BINARY)
  ? undefined
  : `etcd tests skipped: ${ETCD_BINARY} not found — install the Debian package etcd-server (apt-get install -y etcd-server), or set WEFT_ETCD_BINARY`;

const HEALTH_TIMEOUT_MS = 15_000;

export class EtcdServer {
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  #process: ChildProcess | undefined;
  #stderr = '';

  private constructor(clientPort: number, peerPort: number, dataDir: string) {
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.dataDir = dataDir;
  }

  /** Starts a fresh single-member etcd and waits until it reports healthy. */
  static async start(): Promise<EtcdServer> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const dataDir = await mkdtemp(join(tmpdir(), 'weft-etcd-'));
    const server = new EtcdServer(clientPort, peerPort, join(dataDir, 'member-data'));
    await server.restart();
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get isRunning(): boolean {
    return this.#process !== undefined;
  }

  /** Starts etcd again on the same ports and data directory (after stop, kill or wipe). */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error('etcd is already running');
    const peerUrl = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(
      ETCD_BINARY,
      [
        '--name=weft-test',
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${this.endpoint}`,
        `--advertise-client-urls=${this.endpoint}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=weft-test=${peerUrl}`,
        '--initial-cluster-state=new',
        // Fast elections keep start-up short and allow 1 s leases (min TTL = 1.5 election timeouts).
        '--heartbeat-interval=50',
        '--election-timeout=500',
        '--logger=zap',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4_000);
    });
    this.#process = child;
    child.once('exit', () => {
      if (this.#process === child) this.#process = undefined;
    });
    await this.#waitHealthy(child);
  }

  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void> {
    return this.#signal('SIGTERM');
  }

  /** SIGKILL (a crash), and waits for the process to exit. */
  kill(): Promise<void> {
    return this.#signal('SIGKILL');
  }

  /** SIGSTOP: etcd keeps its sockets open and answers nothing (a stall). */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  /** Kills etcd and deletes its data: the next restart is an empty etcd at revision 1. */
  async wipe(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Kills etcd and removes its temporary directory. */
  async close(): Promise<void> {
    this.resume();
    await this.kill();
    await rm(join(this.dataDir, '..'), { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }

  async #waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `etcd exited during start-up (${child.exitCode ?? child.signalCode}): ${this.#stderr}`,
        );
      }
      try {
        const response = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
        const body = (await response.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await delay(50);
    }
    child.kill('SIGKILL');
    throw new Error(`etcd at ${this.endpoint} not healthy after ${HEALTH_TIMEOUT_MS} ms: ${this.#stderr}`);
  }
}

/** A port nothing listens on right now (etcd takes ports by number, not port 0). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
