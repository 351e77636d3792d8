/**
 * The launcher's (and the tests') calls to the agent's admin API: apply a YAML file as
 * `weft apply -f` does, delete a resource as `weft delete KIND NAME` does, create a join token as
 * `weft token create` does, and wait until every connected workload has applied a revision.
 * Writes carry the agent's admin token when it has one (`Authorization: Bearer`), as the CLI's
 * `--token` / `WEFT_TOKEN` does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RevisionMark {
  readonly epoch: string;
  readonly revision: number;
}

const SYNC_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 25;

/** A write to the agent: the store's mark after it, and the resources it wrote or deleted. */
export interface WrittenChange {
  readonly mark: RevisionMark;
  readonly resources: readonly ResourceName[];
}

/** POST /v1/apply of a file's YAML (namespace `default`); throws with the agent's answer on refusal. */
export async function applyYamlFile(
  agentUrl: string,
  file: string,
  adminToken?: string,
): Promise<WrittenChange> {
  const yaml = await readFile(file, 'utf8');
  const response = await fetch(`${agentUrl}/v1/apply?namespace=default`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml', ...bearer(adminToken) },
    body: yaml,
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as {
    mark?: RevisionMark;
    results?: (ResourceName & { action: 'created' | 'configured' | 'unchanged' })[];
  };
  if (response.status !== 200 || body.mark === undefined)
    throw new Error(`applying ${file} failed (${response.status}): ${JSON.stringify(body)}`);
  // An unchanged resource was not written: no client has anything new of it to apply.
  const written = (body.results ?? []).filter((result) => result.action !== 'unchanged');
  return { mark: body.mark, resources: written };
}

/** One resource as the agent names it (`weft delete KIND NAME -n NAMESPACE`). */
export interface ResourceName {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** DELETE /v1/resources/KIND/NS/NAME; throws with the agent's answer when it is refused or absent. */
export async function deleteResource(
  agentUrl: string,
  resource: ResourceName,
  adminToken?: string,
): Promise<WrittenChange> {
  const path = [resource.kind, resource.namespace, resource.name].map(encodeURIComponent).join('/');
  const response = await fetch(`${agentUrl}/v1/resources/${path}`, {
    method: 'DELETE',
    headers: bearer(adminToken),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { mark?: RevisionMark };
  if (response.status !== 200 || body.mark === undefined) {
    const what = `${resource.kind}/${resource.namespace}/${resource.name}`;
    throw new Error(`deleting ${what} failed (${response.status}): ${JSON.stringify(body)}`);
  }
  return { mark: body.mark, resources: [resource] };
}

/**
 * A join token for the identity `spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>`
 * (POST /v1/tokens, which needs the admin token itself, loopback or not). `ttl` is a duration
 * such as `1h`; a workload uses the token for its first SVID and renews with the SVID after that.
 */
export async function createJoinToken(
  agentUrl: string,
  adminToken: string,
  identity: { readonly namespace: string; readonly serviceAccount: string; readonly ttl: string },
): Promise<string> {
  const response = await fetch(`${agentUrl}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(adminToken) },
    body: JSON.stringify(identity),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { token?: unknown };
  if (response.status !== 201 || typeof body.token !== 'string') {
    const who = `${identity.namespace}/${identity.serviceAccount}`;
    throw new Error(`creating a join token for ${who} failed (${response.status}): ${JSON.stringify(body)}`);
  }
  return body.token;
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

/**
 * Resolves once every connected client is in sync at the change's mark (or a later one); throws
 * after a bound. The agent counts a client the change does not concern (another namespace's
 * policy, PROTOCOL.md "Scoping") in sync at it without sending it anything (§3.5), so every
 * client is waited for the same way; one that refuses the change stays NACKED and times this out.
 */
export async function waitForSync(agentUrl: string, change: WrittenChange): Promise<void> {
  const { mark } = change;
  await pollUntil(`every client to be in sync at revision ${mark.revision}`, async () => {
    const response = await fetch(`${agentUrl}/v1/clients`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as {
      clients?: { connected: boolean; status: string; inSyncAt: RevisionMark | null }[];
    };
    return (body.clients ?? [])
      .filter((client) => client.connected)
      .every(
        (client) =>
          client.status === 'SYNCED' &&
          client.inSyncAt !== null &&
          client.inSyncAt.epoch === mark.epoch &&
          client.inSyncAt.revision >= mark.revision,
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

/**
 * What a deployment hands one workload: a join token for its identity, in a file only its owner
 * reads (a process listing shows file names, never tokens). Returns the file's path, in `dir`.
 */
export async function writeJoinTokenFile(
  agentUrl: string,
  adminToken: string,
  dir: string,
  identity: { readonly namespace: string; readonly serviceAccount: string; readonly workload: string },
): Promise<string> {
  const token = await createJoinToken(agentUrl, adminToken, {
    namespace: identity.namespace,
    serviceAccount: identity.serviceAccount,
    ttl: JOIN_TOKEN_TTL,
  });
  const file = join(dir, `${identity.workload}.join-token`);
  await writeFile(file, token, { mode: 0o600 });
  return file;
}

/** Long enough for a workload to start (and restart); it renews with its SVID after that. */
const JOIN_TOKEN_TTL = '1h';

function bearer(adminToken: string | undefined): Record<string, string> {
  return adminToken === undefined ? {} : { authorization: `Bearer ${adminToken}` };
}
