/** Why an endpoint was (or would have been) ejected: the detector whose threshold it reached. */
export type EjectionReason =
  | 'consecutive-5xx'
  | 'consecutive-gateway-error'
  | 'consecutive-local-origin-failure';

/** Outlier detection's events, one per state change; each is also a metric. */
export type OutlierEvent =
  | {
      readonly type: 'ejected';
      readonly cluster: string;
      readonly endpoint: string;
      readonly reason: EjectionReason;
      /** How long this ejection lasts at least (it ends at the first sweep after that). */
      readonly durationMs: number;
      /** How many times this endpoint has been ejected, this one included. */
      readonly times: number;
      readonly atMs: number;
    }
  | {
      readonly type: 'returned';
      readonly cluster: string;
      readonly endpoint: string;
      readonly ejectedForMs: number;
      readonly atMs: number;
    }
  /** A threshold was reached but maxEjectionPercent forbade the ejection (Envoy's ejections_overflow). */
  | {
      readonly type: 'ejection-overflow';
      readonly cluster: string;
      readonly endpoint: string;
      readonly reason: EjectionReason;
      readonly ejectedCount: number;
      readonly endpointCount: number;
      readonly maxEjectionPercent: number;
      readonly atMs: number;
    };
