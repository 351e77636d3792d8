import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import type { Mesh } from '../../mesh/create-mesh.ts';
import type { Random } from '../../randomness/random.ts';
import type { Clock } from '../../time/clock.ts';
import { certificateReportOf, type SecretSummary, summarizeSecret } from './identity-summary.ts';
import { readJoinTokenIdentity } from './join-token.ts';
import type { RenewalSettings } from './renewal-settings.ts';
import { workloadSpiffeId } from './spiffe-id.ts';
import { SvidRequester } from './svid-requester.ts';
import { WorkloadCertificates } from './workload-certificates.ts';

/** `connectToAgent(mesh, { identity })`: obtain and renew this workload's SVID from the agents' CA. */
export interface AgentIdentityOptions {
  /**
   * The join token `weft token create` printed for this workload's namespace and service
   * account, or a function returning the current one (e.g. read from a file an operator
   * refreshes). Used for the first SVID, and again only if a renewal is refused.
   */
  readonly joinToken: string | (() => string | Promise<string>);
  /** How long one certificate request may take with one agent. 10 s by default. */
  readonly requestTimeoutMs?: number;
  readonly renewal?: Partial<RenewalSettings>;
  /** Wall-clock ms for certificate validity; `Date.now` by default. */
  readonly wallClock?: () => number;
  /** The trust domain; by default the join token's (or `cluster.local` for a token function). */
  readonly trustDomain?: string;
}

/** Istio's default trust domain, which the agent's CA uses unless told otherwise. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** A connected workload's identity, as the agent client holds it. */
export interface AgentIdentity {
  readonly certificates: WorkloadCertificates;
  /** The `secret` section of the client's config dump. */
  dumpSection(): { readonly secret: SecretSummary };
  /** Stops renewing, releases sockets, and stops feeding the mesh's /certs report. */
  close(): void;
}

/**
 * The certificate manager for a workload connected to `agents`, for the mesh workload's own
 * identity: `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. A join token given as
 * a string must be for exactly that identity (a token for another one is a deployment mistake,
 * refused here rather than discovered at the first request); its trust domain is the default.
 * The mesh's certificate report (/certs, the expiry gauge) reads from it.
 */
export function createAgentIdentity(input: {
  readonly options: AgentIdentityOptions;
  readonly mesh: Mesh;
  readonly agents: readonly string[];
  readonly clock: Clock;
  readonly random: Random;
}): AgentIdentity {
  const { options, mesh } = input;
  const { joinToken } = options;
  if (typeof joinToken !== 'string' && typeof joinToken !== 'function') {
    throw new TypeError('connectToAgent: identity.joinToken must be a string or a function');
  }
  const tokenIdentity = typeof joinToken === 'string' ? readJoinTokenIdentity(joinToken) : undefined;
  const trustDomain = options.trustDomain ?? tokenIdentity?.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const spiffeId = workloadSpiffeId(trustDomain, mesh.workload.namespace, mesh.workload.serviceAccount);
  if (tokenIdentity !== undefined && tokenIdentity.uri !== spiffeId.uri) {
    throw new WeftError(
      ErrorCodes.identityUnavailable,
      `the join token is for ${tokenIdentity.uri}, but this workload is ${spiffeId.uri}`,
    );
  }
  const wallClock = options.wallClock ?? Date.now;
  const requester = new SvidRequester({
    agents: input.agents,
    clock: input.clock,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
  });
  const certificates = new WorkloadCertificates({
    spiffeId,
    joinToken,
    send: (body, token, signal) => requester.request(body, token, signal),
    clock: input.clock,
    random: input.random,
    wallClock,
    ...(options.renewal === undefined ? {} : { renewal: options.renewal }),
  });
  const stopReport = mesh.certificateReport.provide(() => certificateReportOf(certificates.current()));
  return {
    certificates,
    dumpSection: () => ({
      secret: summarizeSecret(spiffeId.uri, certificates.current(), wallClock(), certificates.lastError),
    }),
    close() {
      stopReport();
      certificates.close();
      requester.close();
    },
  };
}
