import { compile, type MeshSnapshot, parseConfigObjects, type RegisteredWorkload } from '@weft/core';
import type { AgentApi } from './agent-api.ts';

/** What the agent holds, compiled here as a client would compile it: for describe and endpoints. */
export interface MeshState {
  readonly snapshot: MeshSnapshot;
  readonly workloads: readonly RegisteredWorkload[];
}

export async function loadMeshState(agent: AgentApi): Promise<MeshState> {
  const [resources, workloads] = await Promise.all([agent.listResources({}), agent.workloads()]);
  // Stored resources passed the agent's validation; one this CLI's version cannot read is left
  // out rather than failing the whole view.
  const parsed = parseConfigObjects(resources, { file: 'agent' });
  return { snapshot: compile(parsed.resources, { workloads }), workloads };
}

/** Whether every label a selector asks for is on the workload (an empty selector selects all). */
export function selects(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}

export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '<none>' : entries.map(([key, value]) => `${key}=${value}`).join(',');
}
