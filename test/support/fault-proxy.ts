/**
 * A TCP fault proxy for tests (bad-inputs §4.6: toxiproxy's toxics, in node:net, on loopback).
 * It listens on 127.0.0.1:<port 0> and relays every connection to a target, applying per
 * direction — `upstream` is client → server (requests), `downstream` is server → client
 * (responses) — the faults a network or a sick peer gives:
 *   - latency (+ seeded jitter; TCP order is kept), a bandwidth cap (bytes/s), slicing of writes
 *     into small pieces (parser chunk boundaries);
 *   - a byte limit after which the direction resets both sides (RST), ends (FIN) or goes silent:
 *     `downstream: { limit: { bytes: 0, action: 'reset' } }` resets before the response started,
 *     `bytes: N` after N bytes of it; `upstream` likewise before or during the request;
 *   - a black hole: the connection is accepted and never answered (the target is never dialled);
 *   - half-closes: FIN travels one way only (both sockets allow half-open), and a test can end
 *     either side's writing half while the other keeps flowing.
 * Faults are chosen per connection, when it is accepted, by a plan (a function of the connection's
 * index, so "the second connection hangs" is one line), and can be changed on a live connection.
 * A slow-loris client is `slowLoris()` below, or any client behind `upstream.bytesPerSecond`.
 */
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';

export type Direction = 'upstream' | 'downstream';

export type LimitAction = 'reset' | 'end' | 'blackhole';

export interface DirectionFaults {
  /** Added to every chunk, in ms. */
  readonly latencyMs?: number;
  /** Up to this much more, drawn from the proxy's seeded random source. Order is never changed. */
  readonly jitterMs?: number;
  /** At most this many bytes per second are relayed. */
  readonly bytesPerSecond?: number;
  /** Every chunk is relayed as separate writes of at most this many bytes. */
  readonly sliceBytes?: number;
  /** Once `bytes` bytes were relayed this way, the next byte triggers `action` instead. */
  readonly limit?: { readonly bytes: number; readonly action: LimitAction };
  /** Relays nothing this way (bytes are read and dropped); the sockets stay open. */
  readonly blackhole?: boolean;
}

export interface ConnectionPlan {
  readonly upstream?: DirectionFaults;
  readonly downstream?: DirectionFaults;
  /** Accept, read and drop everything, never dial the target, never answer. */
  readonly blackhole?: boolean;
  /** Reset the client's connection as soon as it is accepted. */
  readonly resetOnAccept?: boolean;
}

export type Planner = (index: number) => ConnectionPlan;

export interface FaultProxyOptions {
  readonly targetPort: number;
  readonly targetHost?: string;
  /** Faults for each new connection; pass-through by default. Change it with `setPlan`. */
  readonly plan?: ConnectionPlan | Planner;
  /** Seeds the jitter. */
  readonly seed?: number;
}

/** Bytes queued in one direction before the reading side is paused (backpressure). */
const HIGH_WATER_BYTES = 1024 * 1024;

/** A small seeded generator (mulberry32): jitter must replay the same way run after run. */
export function seededUnit(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Queued {
  readonly data: Buffer | undefined; // undefined: end of stream
  readonly atMs: number;
}

/** One direction of one connection: reads `source`, delays and shapes, writes `sink`. */
class Pump {
  faults: DirectionFaults;
  /** Bytes written to the sink. */
  relayed = 0;
  /** Bytes read from the source (relayed or not). */
  received = 0;
  /** The source ended its side cleanly (FIN), whether or not that was relayed yet. */
  sawEnd = false;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastAtMs = 0;
  #bandwidthFreeAtMs = 0;
  #isStopped = false;
  #isEnded = false;
  readonly #source: () => Socket | undefined;
  readonly #sink: () => Socket | undefined;
  readonly #random: () => number;
  readonly #onLimit: (action: LimitAction) => void;
  readonly #onEnded: () => void;

  constructor(
    source: () => Socket | undefined,
    sink: () => Socket | undefined,
    faults: DirectionFaults,
    random: () => number,
    onLimit: (action: LimitAction) => void,
    onEnded: () => void,
  ) {
    this.#source = source;
    this.#sink = sink;
    this.faults = faults;
    this.#random = random;
    this.#onLimit = onLimit;
    this.#onEnded = onEnded;
  }

  get isEnded(): boolean {
    return this.#isEnded;
  }

  push(chunk: Buffer | undefined): void {
    if (chunk === undefined) this.sawEnd = true;
    else this.received += chunk.length;
    // A black hole swallows the end of the stream too: a stalled peer sends no FIN either.
    if (this.#isStopped || this.faults.blackhole === true) return;
    const nowMs = performance.now();
    const { latencyMs = 0, jitterMs = 0, bytesPerSecond, sliceBytes } = this.faults;
    const pieces =
      chunk === undefined ? [undefined] : sliceBytes !== undefined ? slices(chunk, sliceBytes) : [chunk];
    for (const [index, piece] of pieces.entries()) {
      // Slices leave 1 ms apart, so that they travel as separate segments (toxiproxy's slicer delay).
      let atMs = nowMs + latencyMs + (jitterMs > 0 ? jitterMs * this.#random() : 0);
      if (bytesPerSecond !== undefined && piece !== undefined) {
        atMs = Math.max(atMs, this.#bandwidthFreeAtMs) + (piece.length * 1000) / bytesPerSecond;
        this.#bandwidthFreeAtMs = atMs;
      }
      atMs = Math.max(atMs, this.#lastAtMs + (index > 0 ? 1 : 0));
      this.#lastAtMs = atMs;
      this.#queue.push({ data: piece, atMs });
      this.#queuedBytes += piece?.length ?? 0;
    }
    if (this.#queuedBytes > HIGH_WATER_BYTES) this.#source()?.pause();
    this.#flush();
  }

  /** Stops relaying for good (reset, blackhole-after-limit, close); drops what is queued. */
  stop(): void {
    this.#isStopped = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    if (this.#timer !== undefined) return;
    const nowMs = performance.now();
    while (!this.#isStopped && this.#queue.length > 0) {
      const head = this.#queue[0] as Queued;
      if (head.atMs > nowMs) {
        this.#timer = setTimeout(
          () => {
            this.#timer = undefined;
            this.#flush();
          },
          Math.max(1, Math.ceil(head.atMs - nowMs)),
        );
        return;
      }
      this.#queue.shift();
      this.#queuedBytes -= head.data?.length ?? 0;
      this.#deliver(head.data);
    }
    const source = this.#source();
    if (this.#queuedBytes <= HIGH_WATER_BYTES / 2 && source?.isPaused() === true && !source.destroyed) {
      source.resume();
    }
  }

  #deliver(data: Buffer | undefined): void {
    const sink = this.#sink();
    if (sink === undefined || sink.destroyed) return;
    if (data === undefined) {
      this.#isEnded = true;
      sink.end();
      this.#onEnded();
      return;
    }
    const limit = this.faults.limit;
    if (limit !== undefined) {
      const room = Math.max(0, limit.bytes - this.relayed);
      if (room < data.length) {
        if (room > 0) {
          sink.write(data.subarray(0, room));
          this.relayed += room;
        }
        this.stop();
        this.#onLimit(limit.action);
        return;
      }
    }
    sink.write(data);
    this.relayed += data.length;
  }
}

function slices(chunk: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let start = 0; start < chunk.length; start += Math.max(1, size)) {
    pieces.push(chunk.subarray(start, start + Math.max(1, size)));
  }
  return pieces;
}

/** One client connection through the proxy, and the test's handle on it. */
export class ProxiedConnection {
  readonly index: number;
  readonly acceptedAtMs = performance.now();
  /** Resolves once both sockets are closed. */
  readonly closed: Promise<void>;
  readonly #client: Socket;
  #server: Socket | undefined;
  readonly #up: Pump;
  readonly #down: Pump;
  #isReset = false;
  #isBlackholed: boolean;
  #firstDownstreamAtMs: number | undefined;
  #markClosed: () => void = () => {};

  /** @internal Made by FaultProxy. */
  constructor(index: number, client: Socket, plan: ConnectionPlan, random: () => number) {
    this.index = index;
    this.#client = client;
    this.#isBlackholed = plan.blackhole === true;
    this.closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    this.#up = new Pump(
      () => this.#client,
      () => this.#server,
      plan.upstream ?? {},
      random,
      (action) => this.#limitReached('upstream', action),
      () => this.#maybeFinish(),
    );
    this.#down = new Pump(
      () => this.#server,
      () => this.#client,
      plan.downstream ?? {},
      random,
      (action) => this.#limitReached('downstream', action),
      () => this.#maybeFinish(),
    );
  }

  /** Bytes relayed client → server. */
  get bytesUpstream(): number {
    return this.#up.relayed;
  }

  /** Bytes relayed server → client. */
  get bytesDownstream(): number {
    return this.#down.relayed;
  }

  /** Bytes the client sent (relayed or dropped). */
  get bytesFromClient(): number {
    return this.#up.received;
  }

  /** Bytes the server sent (relayed or dropped). */
  get bytesFromServer(): number {
    return this.#down.received;
  }

  get isReset(): boolean {
    return this.#isReset;
  }

  get isClosed(): boolean {
    return this.#client.destroyed && (this.#server === undefined || this.#server.destroyed);
  }

  /** When the server's first byte reached the proxy (ms, performance clock), if it did. */
  get firstDownstreamAtMs(): number | undefined {
    return this.#firstDownstreamAtMs;
  }

  /** Changes one direction's faults from now on (queued bytes keep their timing). */
  setFaults(direction: Direction, faults: DirectionFaults): void {
    (direction === 'upstream' ? this.#up : this.#down).faults = faults;
  }

  /** RST to the client, and the server's socket destroyed: both peers see a reset. */
  reset(): void {
    if (this.#isReset) return;
    this.#isReset = true;
    this.#up.stop();
    this.#down.stop();
    if (!this.#client.destroyed) this.#client.resetAndDestroy();
    if (this.#server !== undefined && !this.#server.destroyed) this.#server.resetAndDestroy();
  }

  /** From now on nothing is relayed either way; both sockets stay open (a stall). */
  blackhole(): void {
    this.#isBlackholed = true;
    this.#up.faults = { ...this.#up.faults, blackhole: true };
    this.#down.faults = { ...this.#down.faults, blackhole: true };
  }

  /** Sends FIN to the client (its reads end) once queued bytes are out; it may still send. */
  endTowardClient(): void {
    this.#down.push(undefined);
    this.#down.faults = { ...this.#down.faults, blackhole: true };
  }

  /** Sends FIN to the server (its request stream ends); its answer still flows back. */
  endTowardServer(): void {
    this.#up.push(undefined);
    this.#up.faults = { ...this.#up.faults, blackhole: true };
  }

  /** @internal */
  start(targetPort: number, targetHost: string): void {
    const client = this.#client;
    client.on('error', () => this.#onPeerFailure('client'));
    client.on('close', () => this.#onSocketClosed());
    client.on('data', (chunk: Buffer) => this.#up.push(chunk));
    client.on('end', () => this.#up.push(undefined));
    if (this.#isBlackholed) return;
    const server = new Socket({ allowHalfOpen: true });
    this.#server = server;
    server.setNoDelay(true);
    client.setNoDelay(true);
    server.on('error', () => this.#onPeerFailure('server'));
    server.on('close', () => this.#onSocketClosed());
    server.on('data', (chunk: Buffer) => {
      this.#firstDownstreamAtMs ??= performance.now();
      this.#down.push(chunk);
    });
    server.on('end', () => this.#down.push(undefined));
    server.connect(targetPort, targetHost);
  }

  /** @internal Drops everything (the proxy closes). */
  destroy(): void {
    this.reset();
  }

  #limitReached(direction: Direction, action: LimitAction): void {
    if (action === 'reset') this.reset();
    else if (action === 'end') {
      const sink = direction === 'upstream' ? this.#server : this.#client;
      sink?.end();
    }
    // 'blackhole': the pump stopped; nothing more flows this way.
  }

  #onPeerFailure(which: 'client' | 'server'): void {
    // A reset (or any socket error) from one peer is passed on to the other as a reset.
    if (which === 'server' && !this.#client.destroyed) this.#client.resetAndDestroy();
    if (which === 'client' && this.#server !== undefined && !this.#server.destroyed) {
      this.#server.resetAndDestroy();
    }
    this.#up.stop();
    this.#down.stop();
  }

  #maybeFinish(): void {
    // Both halves closed cleanly: nothing left to relay.
    if (this.#up.isEnded && this.#down.isEnded) {
      this.#client.end();
      this.#server?.end();
    }
  }

  #onSocketClosed(): void {
    const server = this.#server;
    // A socket closed without a FIN (destroyed, reset) takes the other one with it; one that
    // ended cleanly has its FIN relayed in turn, after the bytes still queued.
    if (this.#client.destroyed && !this.#up.sawEnd && server !== undefined && !server.destroyed) {
      server.destroy();
    }
    if (server?.destroyed === true && !this.#down.sawEnd && !this.#client.destroyed) this.#client.destroy();
    if (this.#client.destroyed && (server === undefined || server.destroyed)) {
      this.#up.stop();
      this.#down.stop();
      this.#markClosed();
    }
  }
}

/** The proxy: a listener on 127.0.0.1 and every connection it relayed. */
export class FaultProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #connections: ProxiedConnection[] = [];
  readonly #waiters: ((connection: ProxiedConnection) => void)[] = [];
  readonly #listeners = new Set<(connection: ProxiedConnection) => void>();
  #planner: Planner;

  private constructor(server: Server, port: number, planner: Planner) {
    this.#server = server;
    this.port = port;
    this.#planner = planner;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const targetHost = options.targetHost ?? '127.0.0.1';
    const random = seededUnit(options.seed ?? 1);
    let proxy: FaultProxy | undefined;
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
      if (proxy === undefined) {
        client.destroy();
        return;
      }
      proxy.#accept(client, options.targetPort, targetHost, random);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new FaultProxy(server, (server.address() as AddressInfo).port, toPlanner(options.plan));
    return proxy;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every connection accepted so far, in order (closed ones included). */
  get connections(): readonly ProxiedConnection[] {
    return this.#connections;
  }

  /** The connections whose sockets are not both closed yet. */
  get openConnections(): readonly ProxiedConnection[] {
    return this.#connections.filter((connection) => !connection.isClosed);
  }

  /** Faults for connections accepted from now on. */
  setPlan(plan: ConnectionPlan | Planner): void {
    this.#planner = toPlanner(plan);
  }

  /** Resolves with the next connection accepted. */
  nextConnection(): Promise<ProxiedConnection> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Called with every connection as it is accepted, before any byte is relayed; returns a disposer. */
  onConnection(listener: (connection: ProxiedConnection) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A stall: open connections and new ones carry nothing, and stay open. */
  blackholeAll(): void {
    this.setPlan({ blackhole: true });
    for (const connection of this.openConnections) connection.blackhole();
  }

  /** Every open connection is reset, and new ones too until the plan changes. */
  resetAll(): void {
    this.setPlan({ resetOnAccept: true });
    for (const connection of this.openConnections) connection.reset();
  }

  /** New connections pass through again; `dropOpen` resets the ones that lived through a fault. */
  heal(options: { readonly dropOpen?: boolean } = {}): void {
    this.setPlan({});
    if (options.dropOpen === true) for (const connection of this.openConnections) connection.reset();
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, targetPort: number, targetHost: string, random: () => number): void {
    const index = this.#connections.length;
    const plan = this.#planner(index);
    const connection = new ProxiedConnection(index, client, plan, random);
    this.#connections.push(connection);
    for (const listener of this.#listeners) listener(connection);
    for (const resolve of this.#waiters.splice(0)) resolve(connection);
    if (plan.resetOnAccept === true) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    connection.start(targetPort, targetHost);
    client.resume();
  }
}

function toPlanner(plan: ConnectionPlan | Planner | undefined): Planner {
  if (plan === undefined) return () => ({});
  return typeof plan === 'function' ? plan : () => plan;
}

export interface SlowLorisResult {
  /** Bytes written before the server closed the connection (or all of them). */
  readonly bytesSent: number;
  /** What the server sent back, if anything. */
  readonly response: Buffer;
  /** How the connection ended: the server ended it (FIN), reset it, or the client finished. */
  readonly endedBy: 'server-end' | 'server-reset' | 'client-finished';
  readonly elapsedMs: number;
}

/**
 * A slow-loris client: writes `payload` to 127.0.0.1:`port` `bytesPerWrite` bytes every
 * `intervalMs`, and stops when the server closes the connection or `maxMs` passes (then it
 * destroys its socket). Resolves with what happened.
 */
export function slowLoris(
  port: number,
  payload: string | Buffer,
  options: { readonly bytesPerWrite?: number; readonly intervalMs: number; readonly maxMs: number },
): Promise<SlowLorisResult> {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const step = options.bytesPerWrite ?? 1;
  const startedAtMs = performance.now();
  return new Promise((resolve) => {
    const socket = new Socket({ allowHalfOpen: true });
    const received: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let isDone = false;
    const finish = (endedBy: SlowLorisResult['endedBy']) => {
      if (isDone) return;
      isDone = true;
      if (timer !== undefined) clearTimeout(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve({
        bytesSent: sent,
        response: Buffer.concat(received),
        endedBy,
        elapsedMs: performance.now() - startedAtMs,
      });
    };
    const deadline = setTimeout(() => finish('client-finished'), options.maxMs);
    const drip = () => {
      timer = undefined;
      if (isDone || socket.destroyed) return;
      if (sent >= bytes.length) return; // everything is out: wait for the answer or the deadline
      const piece = bytes.subarray(sent, sent + step);
      sent += piece.length;
      socket.write(piece);
      timer = setTimeout(drip, options.intervalMs);
    };
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => finish('server-end'));
    socket.on('error', () => finish('server-reset'));
    socket.on('close', () => finish('server-end'));
    socket.connect(port, '127.0.0.1', drip);
  });
}
