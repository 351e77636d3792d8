/**
 * Starts Bookinfo on one machine: an agent (embedded MemoryStore in a temporary directory, on
 * 127.0.0.1), every service as its own process, the ingress gateway, and the destination rules
 * (destination-rule-all.yaml). `npm start` and the end-to-end tests both start it this way.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgent, MemoryStore } from '@weft/control-agent';
import {
  applyYamlFile,
  deleteResource,
  type ResourceName,
  type RevisionMark,
  waitForSync,
  waitForWorkloads,
  writeJoinTokenFile,
} from './agent-admin.ts';
import { ChildService } from './child-service.ts';
import { telemetryEnv } from './telemetry-env.ts';
import { startTraceCollector } from './trace-collector.ts';

/** Where the Istio sample YAMLs are kept (copied byte-identical; see istio/README.md). */
export const ISTIO_SAMPLES_DIR = fileURLToPath(new URL('../../istio/', import.meta.url));

const RUN_SERVICE = fileURLToPath(new URL('../service-runtime/run-service.ts', import.meta.url));
const RUN_GATEWAY = fileURLToPath(new URL('../gateway/run-gateway.ts', import.meta.url));

/** Every workload of the sample, as [service, version]. */
const WORKLOADS = [
  ['details', 'v1'],
  ['ratings', 'v1'],
  ['reviews', 'v1'],
  ['reviews', 'v2'],
  ['reviews', 'v3'],
  ['productpage', 'v1'],
] as const;

export interface BookinfoOptions {
  /** Log lines of the children; silent by default. */
  readonly log?: (line: string) => void;
  /** The gateway's port; 0 (the default) picks a free one. */
  readonly gatewayPort?: number;
  /**
   * More arguments for the gateway process (run-gateway.ts): more ports (`--listen 443=0`), where
   * credentialName certificates are (`--credentials-dir DIR`).
   */
  readonly gatewayArgs?: readonly string[];
}

export interface Bookinfo {
  readonly agentUrl: string;
  /** The product page through the ingress gateway. */
  readonly productPageUrl: string;
  readonly gatewayUrl: string;
  /** The gateway's Gateway port → the port it listens on (8080, and any `--listen` in gatewayArgs). */
  readonly gatewayPorts: ReadonlyMap<number, number>;
  /** The trace collector every process exports its spans to: `/` as text trees, `/traces` as JSON. */
  readonly tracesUrl: string;
  /** Each workload's Prometheus endpoint (`productpage-v1` → `http://127.0.0.1:…/metrics`). */
  readonly metricsUrls: Readonly<Record<string, string>>;
  /**
   * The agent's admin token: writes (`weft apply`, `weft delete`) need it as `--token` or
   * WEFT_TOKEN, and so does `weft token create`, which the launcher ran for every process.
   */
  readonly adminToken: string;
  /** Applies a sample YAML (a file name in istio/) and waits until every workload serves it. */
  apply(sampleFile: string): Promise<RevisionMark>;
  /** Deletes one resource (`weft delete KIND NAME -n NS`) and waits until every workload serves that. */
  delete(resource: ResourceName): Promise<RevisionMark>;
  close(): Promise<void>;
}

export async function startBookinfo(options: BookinfoOptions = {}): Promise<Bookinfo> {
  const log = options.log ?? (() => {});
  const dataDir = await mkdtemp(join(tmpdir(), 'weft-bookinfo-'));
  const store = await MemoryStore.open({ dataDir });
  // An admin token, because only with one does the agent mint join tokens (loopback is no
  // identity); its CA signs every process's SVID in Istio's trust domain.
  const adminToken = randomBytes(24).toString('hex');
  const agent = await createAgent({
    store,
    host: '127.0.0.1',
    port: 0,
    adminToken,
    ca: { trustDomain: 'cluster.local' },
  });
  const traceCollector = await startTraceCollector();
  const children: ChildService[] = [];
  const close = async (): Promise<void> => {
    // Children first, so they deregister while the agent still answers (and flush their spans).
    await Promise.all(children.map((child) => child.stop()));
    await traceCollector.close();
    await agent.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // Each process joins as itself: a join token for its namespace and service account, which
    // is also all it registers with. The admin token stays with the launcher.
    const agentArgs = async (namespace: string, serviceAccount: string, workload: string) => [
      '--agent',
      agent.url,
      '--join-token-file',
      await writeJoinTokenFile(agent.url, adminToken, dataDir, { namespace, serviceAccount, workload }),
    ];
    const started = await Promise.all([
      ...WORKLOADS.map(async ([service, version]) =>
        ChildService.start(
          RUN_SERVICE,
          [service, version, ...(await agentArgs('default', `bookinfo-${service}`, `${service}-${version}`))],
          log,
          telemetryEnv(traceCollector, { serviceName: service, namespace: 'default', version }),
        ),
      ),
      ChildService.start(
        RUN_GATEWAY,
        [
          ...(await agentArgs(
            'istio-system',
            'istio-ingressgateway-service-account',
            'istio-ingressgateway',
          )),
          // bookinfo-gateway.yaml's port 8080, on the port asked for (0: a free one).
          '--listen',
          `8080=${options.gatewayPort ?? 0}`,
          ...(options.gatewayArgs ?? []),
        ],
        log,
        telemetryEnv(traceCollector, { serviceName: 'istio-ingressgateway', namespace: 'istio-system' }),
      ),
    ]);
    children.push(...started);
    await waitForWorkloads(
      agent.url,
      WORKLOADS.map(([service, version]) => `${service}-${version}`),
    );
    const apply = async (sampleFile: string): Promise<RevisionMark> => {
      const change = await applyYamlFile(agent.url, join(ISTIO_SAMPLES_DIR, sampleFile), adminToken);
      await waitForSync(agent.url, change);
      return change.mark;
    };
    const remove = async (resource: ResourceName): Promise<RevisionMark> => {
      const change = await deleteResource(agent.url, resource, adminToken);
      await waitForSync(agent.url, change);
      return change.mark;
    };
    await apply('destination-rule-all.yaml');
    await apply('bookinfo-gateway.yaml');
    const gateway = started.at(-1) as ChildService;
    const gatewayUrl = `http://127.0.0.1:${gateway.port}`;
    return {
      agentUrl: agent.url,
      gatewayUrl,
      gatewayPorts: gateway.ports,
      productPageUrl: `${gatewayUrl}/productpage`,
      tracesUrl: traceCollector.url,
      metricsUrls: Object.fromEntries(
        started.flatMap((child) => (child.metricsUrl === undefined ? [] : [[child.name, child.metricsUrl]])),
      ),
      adminToken,
      apply,
      delete: remove,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
