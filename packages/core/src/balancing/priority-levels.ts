import type { ClusterEndpoint } from '../config/compile/cluster.ts';
import type { PriorityLevel } from './grouped-picker.ts';
import type { LbEndpoint, Picker } from './load-balancer.ts';
import { localityLabel } from './locality-match.ts';
import type { LocalityPlan } from './locality-plan.ts';
import { effectiveLocalityWeight, priorityLoads } from './priority-load.ts';

/** Endpoints of one priority and (when localities are weighted) one locality. */
interface Group {
  readonly key: string;
  readonly rawPriority: number;
  readonly label: string;
  readonly locality: ClusterEndpoint['locality'];
  members: number;
  weight: number;
  readonly healthy: LbEndpoint[];
}

/**
 * Splits a cluster into Envoy's priority levels and localities under a LocalityPlan, and sizes
 * them as Envoy does: a level's load from the health of every level (priority-load.ts), a
 * locality's weight from its plan weight × its own health. Membership (`members`, healthy or not)
 * sets the denominators; only healthy endpoints get pickers. `build` makes the picker of one
 * group, keyed `<raw priority>|<locality>` so a group keeps its builder across updates.
 */
export function priorityLevels(
  plan: LocalityPlan,
  members: ReadonlyMap<string, ClusterEndpoint>,
  healthy: readonly LbEndpoint[],
  build: (key: string, endpoints: readonly LbEndpoint[]) => Picker,
): PriorityLevel[] {
  const groups = new Map<string, Group>();
  const groupOf = new Map<string, Group>();
  for (const [key, member] of members) {
    const rawPriority = plan.priorityOf(member);
    const label = plan.isLocalityWeighted ? localityLabel(member.locality) : '';
    const groupKey = `${rawPriority}|${label}`;
    let group = groups.get(groupKey);
    if (group === undefined) {
      group = {
        key: groupKey,
        rawPriority,
        label,
        locality: member.locality,
        members: 0,
        weight: 0,
        healthy: [],
      };
      groups.set(groupKey, group);
    }
    group.members++;
    group.weight += member.weight;
    groupOf.set(key, group);
  }
  for (const endpoint of healthy) groupOf.get(endpoint.key)?.healthy.push(endpoint);

  const byPriority = new Map<number, Group[]>();
  for (const group of groups.values()) {
    const level = byPriority.get(group.rawPriority);
    if (level === undefined) byPriority.set(group.rawPriority, [group]);
    else level.push(group);
  }
  const levels = [...byPriority.keys()]
    .sort((left, right) => left - right)
    .map((rawPriority) => {
      const candidates = byPriority.get(rawPriority) ?? [];
      const weights = plan.localityWeights(candidates);
      // A locality `distribute` gives no weight is not part of the cluster at all (as in Istio).
      const included = candidates.filter(
        (group) => !plan.isLocalityWeighted || (weights.get(group.label) ?? 0) > 0,
      );
      const live = included.filter((group) => group.healthy.length > 0);
      return {
        health: {
          healthy: live.reduce((sum, group) => sum + group.healthy.length, 0),
          total: included.reduce((sum, group) => sum + group.members, 0),
        },
        localityWeights: live.map((group) =>
          effectiveLocalityWeight(weights.get(group.label) ?? group.weight, {
            healthy: group.healthy.length,
            total: group.members,
          }),
        ),
        pickers: live.map((group) => build(group.key, group.healthy)),
      };
    });
  const loads = priorityLoads(levels.map((level) => level.health));
  return levels.map((level, index) => ({
    load: loads[index] ?? 0,
    localityWeights: level.localityWeights,
    pickers: level.pickers,
  }));
}
