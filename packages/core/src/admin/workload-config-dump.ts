import { type ConfigDump, summarizeView } from '../agent-client/config-dump.ts';
import type { WorkloadView } from '../config/compile/workload-view.ts';
import type { WorkloadIdentity } from '../mesh/workload-identity.ts';
import type { TelemetryPolicy } from '../telemetry/telemetry-policy.ts';

/**
 * /config_dump: the compiled view this workload serves from (the same summary a client reports
 * to the agent with each ACK, so `weft proxy-config` reads both alike), who the workload is,
 * and the Telemetry policy in force with anything in it Weft does not apply.
 */
export interface WorkloadConfigDump extends ConfigDump {
  readonly workload: WorkloadIdentity;
  readonly telemetry: TelemetryPolicy;
}

export function workloadConfigDump(
  view: WorkloadView,
  revision: string,
  workload: WorkloadIdentity,
  telemetry: TelemetryPolicy,
): WorkloadConfigDump {
  return { ...summarizeView(view, revision), workload, telemetry };
}
