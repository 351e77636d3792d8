/**
 * The launcher's (and the tests') calls to the agent's admin API: apply a YAML file as
 * `weft apply -f` does, and wait until every connected workload has applied a revision.
 */
import { readFile } from 'node:fs/promises';

export interface RevisionMark {
  readonly epoch: string;
  readonly revision: number;
}

const SYNC_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 25;

/** POST /v1/apply of a file's YAML (namespace `default`); throws with the agent's answer on refusal. */
export async function applyYamlFile(agentUrl: string, file: string): Promise<RevisionMark> {
  const yaml = await readFile(file, 'utf8');
  const response = await fetch(`${agentUrl}/v1/apply?namespace=default`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: yaml,
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { mark?: RevisionMark };
  if (response.status !== 200 || body.mark === undefined)
    throw new Error(`applying ${file} failed (${response.status}): ${JSON.stringify(body)}`);
  return body.mark;
}

/** The names of the registered workloads (GET /v1/workloads). */
export async function registeredWorkloads(agentUrl: string): Promise<string[]> {
  const response = await fetch(`${agentUrl}/v1/workloads`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { items?: { name: string }[] };
  return (body.items ?? []).map((workload) => workload.name);
}

/** Resolves once `names` are all registered; throws after a bound. */
export async function waitForWorkloads(agentUrl: string, names: readonly string[]): Promise<void> {
  await pollUntil(`workloads ${names.join(', ')} to register`, async () => {
    const registered = new Set(await registeredWorkloads(agentUrl));
    return names.every((name) => registered.has(name));
  });
}

/** Resolves once every connected client has acknowledged `mark` (or later); throws after a bound. */
export async function waitForSync(agentUrl: string, mark: RevisionMark): Promise<void> {
  await pollUntil(`every client to apply revision ${mark.revision}`, async () => {
    const response = await fetch(`${agentUrl}/v1/clients`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as {
      clients?: { connected: boolean; acked: RevisionMark | null }[];
    };
    return (body.clients ?? [])
      .filter((client) => client.connected)
      .every(
        (client) =>
          client.acked !== null &&
          client.acked.epoch === mark.epoch &&
          client.acked.revision >= mark.revision,
      );
  });
}

async function pollUntil(what: string, isDone: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isDone()) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`timed out after ${SYNC_TIMEOUT_MS} ms waiting for ${what}`);
}
