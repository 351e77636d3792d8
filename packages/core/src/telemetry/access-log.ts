import { capLength, MAX_LOGGED_VALUE_LENGTH } from './attribute-limits.ts';

/**
 * One access-log record with the fields of Envoy's default access-log format, under the names
 * Istio's JSON encoding gives them. Values Weft does not know are null, as Envoy writes them.
 */
export interface AccessLogRecord {
  readonly start_time: string;
  readonly method: string;
  readonly path: string;
  readonly protocol: string;
  /** 0 when no response was received or sent. */
  readonly response_code: number;
  /** `-` when none, else Envoy's short flags joined with `,`. */
  readonly response_flags: string;
  readonly response_code_details: string | null;
  readonly connection_termination_details: string | null;
  readonly upstream_transport_failure_reason: string | null;
  readonly bytes_received: number;
  readonly bytes_sent: number;
  /** Milliseconds from the request's start to the end of its response. */
  readonly duration: number;
  /** Envoy's x-envoy-upstream-service-time: ms from sending to the upstream to its response headers. */
  readonly upstream_service_time: number | null;
  readonly x_forwarded_for: string | null;
  readonly user_agent: string | null;
  readonly request_id: string | null;
  readonly authority: string | null;
  readonly upstream_host: string | null;
  readonly upstream_cluster: string | null;
  readonly upstream_local_address: string | null;
  readonly downstream_local_address: string | null;
  readonly downstream_remote_address: string | null;
  readonly requested_server_name: string | null;
  readonly route_name: string | null;
}

// JSON.stringify escapes C0 controls, quotes and backslashes; these it leaves raw, and some log
// pipelines treat them as line breaks or terminal controls (bad-inputs I3).
const UNSAFE_IN_LOGS = /[\u007f-\u009f\u2028\u2029]/g;

/** One JSON line, newline-terminated; a header value can never break it or forge another. */
export function formatAccessLogLine(record: AccessLogRecord): string {
  return `${JSON.stringify(record).replace(UNSAFE_IN_LOGS, escapeUnicode)}\n`;
}

function escapeUnicode(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A request-derived value for a log field: capped, or null when absent. */
export function loggedValue(value: string | undefined): string | null {
  return value === undefined ? null : capLength(value, MAX_LOGGED_VALUE_LENGTH);
}
