/**
 * A TCP relay on 127.0.0.1 between a process and a server (an agent and its etcd), with the faults
 * a network gives (bad-inputs §4.6, §4.7), switched at run time:
 *   - `partition()`: a blackhole — open connections stay up but carry nothing either way, and
 *     new ones are accepted and then carry nothing (calls time out rather than fail fast);
 *   - `cut()`: every open connection is reset, and new ones are reset as they arrive;
 *   - `heal()`: connections that lived through a fault are dropped (their peers gave up on them)
 *     and new connections are relayed again.
 * It counts the bytes it relays from the server to the client.
 */
import { createServer, type Server, Socket } from 'node:net';

type Mode = 'pass' | 'partition' | 'cut';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class TcpFaultRelay {
  readonly port: number;
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  /** Connections accepted while partitioned: held open, never relayed. */
  readonly #held = new Set<Socket>();
  #mode: Mode = 'pass';
  #bytesFromServer = 0;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Starts relaying 127.0.0.1:<new port> to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpFaultRelay> {
    let relay: TcpFaultRelay | undefined;
    const server = createServer((client) => {
      if (relay === undefined) client.destroy();
      else relay.#accept(client, targetPort, targetHost);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    relay = new TcpFaultRelay(server, (server.address() as { port: number }).port);
    return relay;
  }

  /** `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get bytesFromServer(): number {
    return this.#bytesFromServer;
  }

  partition(): void {
    this.#mode = 'partition';
    for (const { client, upstream } of this.#pairs) {
      upstream.unpipe(client);
      client.unpipe(upstream);
      upstream.pause();
      client.pause();
    }
  }

  cut(): void {
    this.#mode = 'cut';
    this.#dropAll();
  }

  heal(): void {
    if (this.#mode !== 'pass') this.#dropAll();
    this.#mode = 'pass';
  }

  async close(): Promise<void> {
    this.#dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, targetPort: number, targetHost: string): void {
    client.on('error', () => client.destroy());
    if (this.#mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (this.#mode === 'partition') {
      this.#held.add(client);
      client.pause();
      client.once('close', () => this.#held.delete(client));
      return;
    }
    const upstream = new Socket();
    const pair = { client, upstream };
    this.#pairs.add(pair);
    upstream.connect(targetPort, targetHost);
    upstream.on('data', (chunk: Buffer) => {
      this.#bytesFromServer += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('error', end).on('close', end);
  }

  #dropAll(): void {
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    for (const socket of this.#held) socket.resetAndDestroy();
    this.#held.clear();
  }
}
