/**
 * Counters that need no OpenTelemetry SDK: what the mesh did (retries, ejections, overflows,
 * faults, breaker trips, configuration updates, denials, dropped log lines), named like Envoy's
 * stats, for the admin endpoint's /stats. They are fed by the mesh's events, never by the
 * request path, so keeping them costs nothing per request.
 */
export class MeshStats {
  readonly #counters = new Map<string, number>();

  increment(name: string, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.#counters.get(name) ?? 0;
  }

  /** Every counter, sorted by name. */
  entries(): [string, number][] {
    return [...this.#counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
