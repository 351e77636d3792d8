import type { Disposer } from '../events/event-channel.ts';
import type { BreakerEvent } from '../resilience/breaker/breaker-state.ts';
import type { FaultEvent } from '../resilience/fault/fault-events.ts';
import type { OutlierEvent } from '../resilience/outlier/outlier-events.ts';
import type { PoolOverflowEvent } from '../resilience/pool/pool-admission.ts';
import type { RetryEvent } from '../resilience/retry/retry-events.ts';
import type { UpstreamTlsEvent } from '../security/mtls/upstream-tls-events.ts';
import type { MeshInstruments } from './mesh-instruments.ts';
import type { MeshStats } from './mesh-stats.ts';

/** What is read of an EventChannel: subscribing to it. */
interface Subscribable<Event> {
  on(listener: (event: Event) => void): Disposer;
}

/** The mesh's event channels that Weft's own metrics count. */
export interface MeshEventSources {
  readonly retry: Subscribable<RetryEvent>;
  readonly outlier: Subscribable<OutlierEvent>;
  readonly overflow: Subscribable<PoolOverflowEvent>;
  readonly fault: Subscribable<FaultEvent>;
  readonly breaker: Subscribable<BreakerEvent>;
  readonly tls: Subscribable<UpstreamTlsEvent>;
  /** Configuration applied and rejected; the events' contents are not read. */
  readonly snapshot: Subscribable<unknown>;
  readonly rejected: Subscribable<unknown>;
}

/**
 * Every retry, ejection, overflow, injected fault, breaker transition and configuration update
 * becomes a metric (STYLE 14): an OpenTelemetry counter when an SDK is installed, and always a
 * MeshStats counter for /stats.
 */
export function countMeshEvents(
  events: MeshEventSources,
  instruments: () => MeshInstruments | undefined,
  stats: MeshStats,
): Disposer[] {
  return [
    events.retry.on((event) => {
      if (event.type === 'retry-scheduled') {
        stats.increment(`cluster.${event.cluster}.upstream_rq_retry`);
        instruments()?.retries.add(1, {
          cluster: event.cluster,
          route: event.route,
          condition: event.condition,
        });
      } else {
        stats.increment(`cluster.${event.cluster}.upstream_rq_retry_refused.${event.reason}`);
        instruments()?.retriesRefused.add(1, {
          cluster: event.cluster,
          route: event.route,
          reason: event.reason,
        });
      }
    }),
    events.outlier.on((event) => {
      if (event.type === 'ejected') {
        stats.increment(`cluster.${event.cluster}.outlier_detection.ejections_enforced_total`);
        instruments()?.ejections.add(1, { cluster: event.cluster, reason: event.reason });
      } else if (event.type === 'ejection-overflow') {
        stats.increment(`cluster.${event.cluster}.outlier_detection.ejections_overflow`);
        instruments()?.ejectionOverflows.add(1, { cluster: event.cluster, reason: event.reason });
      }
    }),
    events.overflow.on((event) => {
      stats.increment(`cluster.${event.cluster}.upstream_rq_overflow.${event.reason}`);
      instruments()?.overflows.add(1, { cluster: event.cluster, reason: event.reason });
    }),
    events.fault.on((event) => {
      if (event.type === 'fault-overflow') {
        stats.increment(`route.${event.route}.fault.faults_overflow`);
        return;
      }
      const kind =
        event.delayMs !== undefined && (event.httpStatus !== undefined || event.grpcStatus !== undefined)
          ? 'delay_and_abort'
          : event.delayMs !== undefined
            ? 'delay'
            : 'abort';
      if (kind !== 'abort') stats.increment(`route.${event.route}.fault.delays_injected`);
      if (kind !== 'delay') stats.increment(`route.${event.route}.fault.aborts_injected`);
      instruments()?.faults.add(1, { route: event.route, kind });
    }),
    events.breaker.on((event) => {
      stats.increment(`breaker.${event.breaker}.${event.type}`);
      instruments()?.breakerTransitions.add(1, { breaker: event.breaker, event: event.type });
    }),
    events.tls.on((event) => {
      // Envoy's names: ssl.handshake per connection made, ssl.connection_error per one that failed,
      // and fail_verify_san / fail_verify_error when it was the peer's certificate we refused.
      if (event.type === 'handshake') {
        stats.increment(`cluster.${event.cluster}.ssl.handshake`);
        return;
      }
      stats.increment(`cluster.${event.cluster}.ssl.connection_error`);
      const verdict = VERIFY_STATS[event.reason];
      if (verdict !== undefined) stats.increment(`cluster.${event.cluster}.ssl.${verdict}`);
      instruments()?.tlsHandshakeFailures.add(1, {
        cluster: event.cluster,
        mode: event.mode,
        reason: event.reason,
      });
    }),
    events.snapshot.on(() => {
      stats.increment('weft.config.updates_applied');
      instruments()?.configUpdates.add(1, { result: 'applied' });
    }),
    events.rejected.on(() => {
      stats.increment('weft.config.updates_rejected');
      instruments()?.configUpdates.add(1, { result: 'rejected' });
    }),
  ];
}

/** Which of Envoy's verification stats a refusal of the peer's certificate counts in. */
const VERIFY_STATS: Partial<Record<string, string>> = {
  'identity-not-allowed': 'fail_verify_san',
  'foreign-trust-domain': 'fail_verify_san',
  'san-mismatch': 'fail_verify_san',
  'not-an-svid': 'fail_verify_error',
  untrusted: 'fail_verify_error',
  expired: 'fail_verify_error',
  'not-yet-valid': 'fail_verify_error',
};
