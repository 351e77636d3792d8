/**
 * Starts Bookinfo on one machine: an agent (embedded MemoryStore in a temporary directory, on
 * 127.0.0.1), every service as its own process, the ingress gateway, and the destination rules
 * (destination-rule-all.yaml). `npm start` and the end-to-end tests both start it this way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgent, MemoryStore } from '@weft/control-agent';
import { applyYamlFile, type RevisionMark, waitForSync, waitForWorkloads } from './agent-admin.ts';
import { ChildService } from './child-service.ts';

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
}

export interface Bookinfo {
  readonly agentUrl: string;
  /** The product page through the ingress gateway. */
  readonly productPageUrl: string;
  readonly gatewayUrl: string;
  /** Applies a sample YAML (a file name in istio/) and waits until every workload serves it. */
  apply(sampleFile: string): Promise<RevisionMark>;
  close(): Promise<void>;
}

export async function startBookinfo(options: BookinfoOptions = {}): Promise<Bookinfo> {
  const log = options.log ?? (() => {});
  const dataDir = await mkdtemp(join(tmpdir(), 'weft-bookinfo-'));
  const store = await MemoryStore.open({ dataDir });
  const agent = await createAgent({ store, host: '127.0.0.1', port: 0 });
  const children: ChildService[] = [];
  const close = async (): Promise<void> => {
    // Children first, so they deregister while the agent still answers.
    await Promise.all(children.map((child) => child.stop()));
    await agent.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const agentArgs = ['--agent', agent.url];
    const started = await Promise.all([
      ...WORKLOADS.map(([service, version]) =>
        ChildService.start(RUN_SERVICE, [service, version, ...agentArgs], log),
      ),
      ChildService.start(RUN_GATEWAY, [...agentArgs, '--port', String(options.gatewayPort ?? 0)], log),
    ]);
    children.push(...started);
    await waitForWorkloads(
      agent.url,
      WORKLOADS.map(([service, version]) => `${service}-${version}`),
    );
    const apply = async (sampleFile: string): Promise<RevisionMark> => {
      const mark = await applyYamlFile(agent.url, join(ISTIO_SAMPLES_DIR, sampleFile));
      await waitForSync(agent.url, mark);
      return mark;
    };
    await apply('destination-rule-all.yaml');
    await apply('bookinfo-gateway.yaml');
    const gateway = started.at(-1) as ChildService;
    const gatewayUrl = `http://127.0.0.1:${gateway.port}`;
    return { agentUrl: agent.url, gatewayUrl, productPageUrl: `${gatewayUrl}/productpage`, apply, close };
  } catch (error) {
    await close();
    throw error;
  }
}
