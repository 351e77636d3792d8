/**
 * The inbound pipeline's own CPU per request, in-process, without HTTP traffic: bench/inbound.ts's
 * second part. A request listener from meshRequestListener is called with a node
 * IncomingMessage/ServerResponse pair on one real loopback connection (its addresses are those of
 * a served request; nothing is written to it), fresh request objects each time,
 * against the same listener without Weft; batches of each alternate, and the CPU time of each
 * batch (process.cpuUsage) gives ns per request. Being CPU time in one process, it holds up on a
 * shared machine better than the served figures do.
 */
import { IncomingMessage, type RequestListener, ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { createMesh, type Mesh } from '../../packages/core/src/index.ts';
import { meshRequestListener } from '../../packages/http/src/index.ts';
import { BENCH_REQUEST, BENCH_WORKLOAD, twentyPolicies } from './inbound-policies.ts';
import { median } from './stats.ts';

export interface PipelineCost {
  readonly variant: string;
  /** Median CPU ns per request of the variant, and minus the listener without Weft. */
  readonly ns: number;
  readonly overheadNs: number;
}

const served = { count: 0 };
/** The application: takes the request and answers nothing (no socket to write to). */
const application: RequestListener = () => {
  served.count++;
};

function meshWith(objects: readonly object[]): Mesh {
  return createMesh({ workload: BENCH_WORKLOAD, config: { objects } });
}

/** CPU ns per request of `listener` over one batch of `size` requests on one connection. */
function batch(listener: RequestListener, socket: Socket, size: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < size; i++) {
    const request = new IncomingMessage(socket);
    request.method = BENCH_REQUEST.method;
    request.url = BENCH_REQUEST.path;
    request.headers = { host: 'bench:9080', 'user-agent': 'bench', ...BENCH_REQUEST.headers };
    request.rawHeaders = ['Host', 'bench:9080', 'User-Agent', 'bench', 'x-tenant', 'acme'];
    listener(request, new ServerResponse(request));
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / size;
}

/** Both ends of a real loopback connection, so requests have the addresses served ones have. */
async function loopbackConnection(): Promise<{ socket: Socket; close(): void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const socket = await accepted;
  return {
    socket,
    close() {
      client.destroy();
      socket.destroy();
      server.close();
    },
  };
}

export async function measurePipelineCost(options: {
  batches: number;
  batchSize: number;
}): Promise<PipelineCost[]> {
  const meshes = [meshWith([]), meshWith(twentyPolicies())];
  const variants: [string, RequestListener][] = [
    ['without Weft', application],
    ['meshRequestListener, no policies', meshRequestListener(meshes[0] as Mesh, application)],
    ['meshRequestListener, 20 AuthorizationPolicies', meshRequestListener(meshes[1] as Mesh, application)],
  ];
  const connection = await loopbackConnection();
  const socket = connection.socket;
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (const [, listener] of variants) batch(listener, socket, options.batchSize);
  for (let round = 0; round < options.batches; round++) {
    for (const [name, listener] of round % 2 === 0 ? variants : [...variants].reverse()) {
      samples.get(name)?.push(batch(listener, socket, options.batchSize));
    }
  }
  const expected = variants.length * options.batchSize * (options.batches + 1);
  if (served.count !== expected)
    throw new Error(`the application got ${served.count} of ${expected} requests`);
  for (const mesh of meshes) mesh.close();
  connection.close();
  const floor = median(samples.get('without Weft') ?? []);
  return variants.map(([name]) => {
    const ns = median(samples.get(name) ?? []);
    return { variant: name, ns, overheadNs: ns - floor };
  });
}
