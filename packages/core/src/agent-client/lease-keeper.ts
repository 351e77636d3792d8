import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { WorkloadIdentity } from '../mesh/workload-identity.ts';
import type { Random } from '../randomness/random.ts';
import type { RegisteredWorkload } from '../registry/workload.ts';
import { backoffDelayMs } from '../resilience/retry/backoff.ts';
import { sleep } from '../resilience/retry/sleep.ts';
import type { Clock } from '../time/clock.ts';
import type { RegistrationEvent } from './agent-client-events.ts';
import type { RegistrationOptions } from './agent-client-options.ts';
import { type AgentAnswer, describeAnswer } from './agent-http.ts';
import type { LeaseGrant, WorkloadRegistration } from './protocol.ts';

/** One call to an agent (the client picks which one, and fails over); rejects when none answers. */
export type AgentCall = (
  method: 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  signal: AbortSignal,
) => Promise<AgentAnswer>;

export interface LeaseKeeperOptions {
  readonly workload: RegisteredWorkload;
  readonly ttlMs: number;
  readonly call: AgentCall;
  readonly clock: Clock;
  readonly random: Random;
  readonly backoffBaseMs: number;
  readonly onEvent: (event: RegistrationEvent) => void;
}

/**
 * Keeps this workload in the agent's registry: registers, renews the lease every ttl/3 (so two
 * renewals can fail before it lapses), registers again when the agent has forgotten the lease
 * (it lapsed, or the agent lost its store), and retries with jittered back-off while no agent
 * answers, never waiting longer than a renewal interval.
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #renewEveryMs: number;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#renewEveryMs = Math.max(1, Math.floor(options.ttlMs / 3));
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, random, backoffBaseMs, onEvent } = this.#options;
    let failures = 0;
    let leaseId: string | undefined;
    while (!signal.aborted) {
      try {
        if (leaseId === undefined) {
          leaseId = await this.#register(signal);
          onEvent({ type: 'registered', leaseId });
        } else if (await this.#renew(leaseId, signal)) {
          onEvent({ type: 'renewed', leaseId });
        } else {
          onEvent({ type: 'lease-lost', leaseId });
          leaseId = undefined;
          continue;
        }
        failures = 0;
        await sleep(clock, this.#renewEveryMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        onEvent({ type: 'failed', error });
        failures += 1;
        const delayMs = Math.min(
          this.#renewEveryMs,
          backoffDelayMs(failures, backoffBaseMs, this.#renewEveryMs, random),
        );
        await sleep(clock, delayMs, signal).catch(() => undefined);
      }
    }
  }

  /** Removes the workload from the registry (whether or not a registration is known to have landed). */
  async deregister(signal: AbortSignal): Promise<void> {
    const { workload, call } = this.#options;
    const path = `/v1/workloads/${encodeURIComponent(workload.namespace)}/${encodeURIComponent(workload.name)}`;
    const answer = await call('DELETE', path, undefined, signal);
    if (!isSuccess(answer) && answer.status !== 404) throw refused('deregistration', answer);
    this.#options.onEvent({ type: 'deregistered' });
  }

  async #register(signal: AbortSignal): Promise<string> {
    const body: WorkloadRegistration = { ...this.#options.workload, ttlMs: this.#options.ttlMs };
    const answer = await this.#options.call('POST', '/v1/workloads', body, signal);
    const grant = answer.body as Partial<LeaseGrant> | undefined;
    if (!isSuccess(answer) || typeof grant?.leaseId !== 'string') throw refused('registration', answer);
    return grant.leaseId;
  }

  /** True when renewed, false when the agent does not know the lease. */
  async #renew(leaseId: string, signal: AbortSignal): Promise<boolean> {
    const answer = await this.#options.call(
      'PUT',
      `/v1/leases/${encodeURIComponent(leaseId)}`,
      undefined,
      signal,
    );
    if (answer.status === 404) return false;
    if (!isSuccess(answer)) throw refused('lease renewal', answer);
    return true;
  }
}

/** The registry entry of this process: the mesh's identity, and where it listens. */
export function registrationOf(
  workload: WorkloadIdentity,
  register: RegistrationOptions,
): RegisteredWorkload {
  if (workload.service === undefined) {
    throw new TypeError('connectToAgent: `register` needs the mesh workload to name its `service`');
  }
  const locality = register.locality ?? workload.locality;
  return {
    name: workload.name,
    namespace: workload.namespace,
    service: workload.service,
    serviceAccount: workload.serviceAccount,
    labels: workload.labels,
    address: register.address,
    ports: register.ports,
    ...(register.protocols === undefined ? {} : { protocols: register.protocols }),
    ...(locality === undefined ? {} : { locality }),
    ...(register.weight === undefined ? {} : { weight: register.weight }),
  };
}

function isSuccess(answer: AgentAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/**
 * An agent's refusal. 401 and 403 say the credential is missing, invalid, or for another identity
 * (PROTOCOL.md §4.2): a deployment mistake the keeper retries, but one its event should name.
 */
function refused(what: string, answer: AgentAnswer): WeftError {
  const code =
    answer.status === 401
      ? ErrorCodes.unauthenticated
      : answer.status === 403
        ? ErrorCodes.permissionDenied
        : ErrorCodes.controlPlaneUnavailable;
  return new WeftError(code, `the agent refused the ${what}: ${describeAnswer(answer)}`);
}
