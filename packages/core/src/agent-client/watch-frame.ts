import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import { parseTrustBundle } from '../security/identity/trust-bundle.ts';
import type { RevisionMark, WatchFrame } from './protocol.ts';

/**
 * Reads one NDJSON line as a WatchFrame, checking the frame's shape: its type, its mark, and that
 * every resource and workload it carries can be keyed. What the resources *say* is checked later,
 * whole, by the config parser; a frame this function refuses is a broken agent or a broken
 * stream, and the client drops the stream and resyncs instead of guessing.
 */
/** The longest heartbeat interval a client accepts (PROTOCOL.md §3.4): 10 minutes. */
export const MAX_HEARTBEAT_MS = 600_000;

export function parseWatchFrame(line: string): WatchFrame {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw protocolError(`a watch frame is not JSON (${describe(cause)})`, cause);
  }
  if (!isObject(value)) throw protocolError('a watch frame is not a JSON object');
  const mark = value.mark;
  if (!isMark(mark)) throw protocolError(`a ${String(value.type)} frame has no valid mark`);
  switch (value.type) {
    case 'snapshot':
      expectArray(value, 'resources', isKeyedResource);
      expectArray(value, 'workloads', isKeyedWorkload);
      break;
    case 'delta':
      expectArray(value, 'upserts', isKeyedResource);
      expectArray(value, 'deletes', isResourceRef);
      expectArray(value, 'workloadUpserts', isKeyedWorkload);
      expectArray(value, 'workloadDeletes', isKeyedWorkload);
      break;
    case 'heartbeat':
      if (typeof value.heartbeatMs !== 'number' || !(value.heartbeatMs > 0))
        throw protocolError('a heartbeat frame has no positive heartbeatMs');
      // The client times the stream out at a few heartbeats; a timer cannot hold much more than
      // 24 days, and Node fires a longer one after 1 ms, which would end the stream at once.
      if (value.heartbeatMs > MAX_HEARTBEAT_MS)
        throw protocolError(`a heartbeat frame's heartbeatMs is above ${MAX_HEARTBEAT_MS}`);
      if (value.trustBundle !== undefined) {
        try {
          value.trustBundle = parseTrustBundle(value.trustBundle, 'heartbeat frame: trustBundle');
        } catch (cause) {
          throw protocolError(describe(cause), cause);
        }
      }
      break;
    default:
      throw protocolError(`unknown watch frame type ${JSON.stringify(value.type)}`);
  }
  return value as unknown as WatchFrame;
}

export function isMark(value: unknown): value is RevisionMark {
  return (
    isObject(value) &&
    typeof value.epoch === 'string' &&
    value.epoch !== '' &&
    typeof value.revision === 'number' &&
    Number.isSafeInteger(value.revision) &&
    value.revision >= 0
  );
}

/**
 * An error in what the agent sent (a malformed frame, a delta that does not follow), as opposed to
 * what the configuration says: the client drops the stream and asks for a full snapshot.
 */
export class AgentProtocolError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.controlPlaneUnavailable, `agent protocol error: ${message}`, options);
    this.name = 'AgentProtocolError';
  }
}

export function protocolError(message: string, cause?: unknown): AgentProtocolError {
  return new AgentProtocolError(message, cause === undefined ? undefined : { cause });
}

function expectArray(
  frame: Record<string, unknown>,
  field: string,
  isValid: (item: unknown) => boolean,
): void {
  const items = frame[field];
  if (!Array.isArray(items)) throw protocolError(`a ${String(frame.type)} frame has no ${field} array`);
  const index = items.findIndex((item) => !isValid(item));
  if (index !== -1)
    throw protocolError(`${String(frame.type)} frame: ${field}[${index}] has no kind, name or namespace`);
}

function isKeyedResource(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.kind === 'string' &&
    isObject(value.metadata) &&
    typeof value.metadata.name === 'string' &&
    typeof value.metadata.namespace === 'string'
  );
}

function isResourceRef(value: unknown): boolean {
  return isObject(value) && typeof value.kind === 'string' && isKeyedWorkload(value);
}

function isKeyedWorkload(value: unknown): boolean {
  return isObject(value) && typeof value.name === 'string' && typeof value.namespace === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
