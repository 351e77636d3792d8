import { ProxyTracerProvider, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** The instrumentation scope Weft reports its spans and metrics under. */
export const INSTRUMENTATION_SCOPE = '@weft/core';

// The API's global provider is a proxy that delegates to the SDK once one is registered; an
// unregistered proxy hands out this no-op provider, which is how "no SDK" is recognized without
// reaching into the API's internals. (ProxyTracerProvider is deprecated for applications; the
// API still exports it, and reading its delegate is what tells Weft whether to build spans.)
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * The tracer to use now: the given provider's, or the global one's, looked up at each request so
 * that an SDK registered after Weft was imported (or replaced later) is picked up. Undefined
 * while no SDK is installed: callers then build no span and no attributes at all.
 */
export class LazyTracer {
  readonly #explicit: TracerProvider | undefined;
  #provider: TracerProvider | undefined;
  #tracer: Tracer | undefined;

  constructor(explicit?: TracerProvider) {
    this.#explicit = explicit;
  }

  current(): Tracer | undefined {
    let provider = this.#explicit ?? trace.getTracerProvider();
    if (provider instanceof ProxyTracerProvider) provider = provider.getDelegate();
    if (provider === NOOP_TRACER_PROVIDER) return undefined;
    if (provider !== this.#provider) {
      this.#provider = provider;
      this.#tracer = provider.getTracer(INSTRUMENTATION_SCOPE);
    }
    return this.#tracer;
  }
}
