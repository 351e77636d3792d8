import type { ConfigIssue } from '../errors/config-validation-error.ts';
import { ConfigValidationError } from '../errors/config-validation-error.ts';
import {
  type CallBreakerConfig,
  type CallBreakerSettings,
  callBreakerConfigSchema,
} from '../resilience/breaker/breaker-config.ts';
import type { BreakerEvent } from '../resilience/breaker/breaker-state.ts';
import { CallBreaker } from '../resilience/breaker/call-breaker.ts';
import type { Clock } from '../time/clock.ts';

/**
 * Weft's call-level circuit breakers, one per route name (`http[].name`, or
 * `VirtualService/<ns>/<name>#<index>` for unnamed routes). Istio has no such field, so they
 * are configured on the mesh: `createMesh({ circuitBreakers: { 'reviews-v2': { … } } })`.
 * Bad settings are refused when the mesh is created, naming the route and the field.
 */
export class RouteBreakers {
  readonly #settings: ReadonlyMap<string, CallBreakerSettings>;
  readonly #breakers = new Map<string, CallBreaker>();
  readonly #clock: Clock;
  readonly #onEvent: (event: BreakerEvent) => void;

  constructor(
    config: Readonly<Record<string, CallBreakerConfig>>,
    clock: Clock,
    onEvent: (event: BreakerEvent) => void,
  ) {
    const settings = new Map<string, CallBreakerSettings>();
    const issues: ConfigIssue[] = [];
    for (const [route, value] of Object.entries(config)) {
      const parsed = callBreakerConfigSchema.safeParse(value);
      if (parsed.success) {
        settings.set(route, parsed.data);
        continue;
      }
      for (const issue of parsed.error.issues) {
        issues.push({
          severity: 'error',
          code: 'invalid-value',
          resource: `circuitBreakers/${route}`,
          path: issue.path.map(String).join('.'),
          message:
            issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
          location: { file: '<createMesh options>' },
        });
      }
    }
    if (issues.length > 0) throw new ConfigValidationError(issues);
    this.#settings = settings;
    this.#clock = clock;
    this.#onEvent = onEvent;
  }

  /** The breaker of a route, created on first use; undefined when the route has none. */
  forRoute(route: string): CallBreaker | undefined {
    let breaker = this.#breakers.get(route);
    if (breaker !== undefined) return breaker;
    const settings = this.#settings.get(route);
    if (settings === undefined) return undefined;
    breaker = new CallBreaker({ name: route, settings, clock: this.#clock });
    breaker.on(this.#onEvent);
    this.#breakers.set(route, breaker);
    return breaker;
  }

  dispose(): void {
    for (const breaker of this.#breakers.values()) breaker.dispose();
    this.#breakers.clear();
  }
}
