import type { ClusterRuntime, undiciPoolOptions } from '@weft/core';

type PoolOptions = ReturnType<typeof undiciPoolOptions>;

/**
 * The connection settings of each endpoint origin (`http://10.0.0.7:9080`), remembered from the
 * cluster that last sent a request there, so the Agent's pool factory can create the endpoint's
 * undici Pool with its DestinationRule's connectTimeout, idleTimeout, maxConnections and
 * maxRequestsPerConnection. undici creates a pool once per origin: settings changed later apply
 * to endpoints first used after the change.
 */
export class EndpointPoolOptions {
  readonly #byOrigin = new Map<string, PoolOptions>();
  readonly #toOptions: (runtime: ClusterRuntime) => PoolOptions;

  constructor(toOptions: (runtime: ClusterRuntime) => PoolOptions) {
    this.#toOptions = toOptions;
  }

  remember(origin: string, runtime: ClusterRuntime): void {
    if (!this.#byOrigin.has(origin)) this.#byOrigin.set(origin, this.#toOptions(runtime));
  }

  forOrigin(origin: string): PoolOptions | undefined {
    return this.#byOrigin.get(origin);
  }
}
