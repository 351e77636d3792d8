import {
  type AuthenticationResult,
  type AuthzDecision,
  type AuthzRequest,
  type DestinationWorkload,
  type EffectivePeerAuthentication,
  InboundSecurity,
  type Mesh,
  type MeshSnapshot,
  normalizeRequestPath,
  type WorkloadSecurity,
} from '@weft/core';
import { metadataValue } from '../outbound/metadata-reading.ts';
import { ALLOW, type InboundCallInfo, type InboundPolicy, type InboundVerdict } from './inbound-policy.ts';

export interface MeshInboundPolicyOptions {
  /**
   * The request-level security engines (JWKS cache, external authorizer); one of its own when
   * absent, closed by `close()`. Share one with other servers of the process to share key sets.
   */
  readonly security?: InboundSecurity;
}

/** The mesh's inbound policy: an InboundPolicy that also releases what it holds. */
export interface MeshInboundPolicy extends InboundPolicy {
  close(): void;
}

/** What the policy compiled for one snapshot. */
interface SnapshotState {
  readonly snapshot: MeshSnapshot;
  readonly security: WorkloadSecurity;
  readonly peerAuthentication: EffectivePeerAuthentication;
}

const ACCESS_DENIED = 'RBAC: access denied';

/**
 * The mesh's own inbound policy for a gRPC server, with the method path `/package.Service/Method`
 * as the request path, POST as the method and the metadata as headers, in Istio's order:
 *
 * 1. **PeerAuthentication**: under STRICT for the port the call arrived on, a caller without a
 *    verified mTLS identity is refused (UNAUTHENTICATED). A MeshServer refuses such connections
 *    before any call; this catches calls on connections opened before the policy changed, and
 *    calls to servers bound by the application. Under DISABLE a certificate proves nothing.
 * 2. **Path normalization**: the method path must be its own normal form (it always is for the
 *    methods grpc-js dispatches); authorization judges the path the handler serves.
 * 3. **RequestAuthentication**: a token that does not verify is refused (UNAUTHENTICATED, with
 *    the reason as details and `www-authenticate` in the trailers); a verified one is consumed
 *    (removed from the metadata unless `forwardOriginalToken`) and its claims written where the
 *    rules say. No token: the call goes on anonymous, as in Istio.
 * 4. **AuthorizationPolicy** (CUSTOM, DENY, ALLOW, AUDIT): a denial is PERMISSION_DENIED
 *    `RBAC: access denied`, or the external authorizer's body; principals come from the caller's
 *    verified SPIFFE ID.
 *
 * Engines come from @weft/core's InboundSecurity, compiled once per snapshot. A call no policy
 * concerns is decided synchronously; only a key fetch or an external check makes it async.
 */
export function meshInboundPolicy(mesh: Mesh, options: MeshInboundPolicyOptions = {}): MeshInboundPolicy {
  const ownsSecurity = options.security === undefined;
  const inboundSecurity = options.security ?? new InboundSecurity({ clock: mesh.clock });
  const { workload } = mesh;
  const destination: DestinationWorkload = {
    namespace: workload.namespace,
    labels: workload.labels,
    ...(workload.service === undefined ? {} : { service: workload.service }),
  };
  let state: SnapshotState | undefined;
  const stateNow = (): SnapshotState => {
    const snapshot = mesh.snapshot;
    if (state?.snapshot === snapshot) return state;
    state = {
      snapshot,
      security: inboundSecurity.forWorkload(snapshot, destination),
      peerAuthentication: snapshot.inboundFor(destination).peerAuthentication,
    };
    return state;
  };

  const policy = (call: InboundCallInfo): InboundVerdict | Promise<InboundVerdict> => {
    const current = stateNow();
    const mode = current.peerAuthentication.modeForPort(call.localPort ?? 0);
    if (mode === 'STRICT' && call.spiffeId === undefined) {
      return {
        kind: 'deny',
        reason: 'unauthenticated',
        details: `mTLS is required on port ${call.localPort ?? '?'} (PeerAuthentication STRICT)`,
        denial: 'peer-authentication',
        ...policyOf(current.peerAuthentication),
      };
    }
    const normalized = normalizeRequestPath(call.method, current.security.pathNormalization);
    if (!normalized.ok || normalized.path !== call.method) {
      return {
        kind: 'deny',
        reason: 'permission-denied',
        details: `the method path ${call.method} is not in normal form`,
      };
    }
    const metadata = call.metadata;
    const header = (name: string) => metadataValue(metadata, name);
    const authenticated = current.security.authenticator.authenticate({ header, query: '' });
    const proceed = (result: AuthenticationResult): InboundVerdict | Promise<InboundVerdict> => {
      if (result.outcome === 'rejected') {
        return {
          kind: 'deny',
          reason: 'unauthenticated',
          details: result.reason,
          metadata: result.response.headers,
        };
      }
      for (const name of result.headers.remove) metadata.remove(name);
      for (const [name, value] of result.headers.set) metadata.set(name, value);
      const request: AuthzRequest = {
        method: 'POST',
        path: call.method,
        query: '',
        authority: call.host,
        header,
        headerNames: () => Object.keys(metadata.getMap()),
        sourceIp: call.remoteAddress ?? '',
        ...(call.localAddress === undefined ? {} : { destinationIp: call.localAddress }),
        destinationPort: call.localPort ?? 0,
        ...(mode === 'DISABLE' || call.peerIdentity === undefined ? {} : { peer: call.peerIdentity }),
        ...(call.sni === undefined ? {} : { sni: call.sni }),
        ...(result.outcome === 'authenticated' ? { auth: result.auth } : {}),
      };
      const decision = current.security.authorizer.authorize(request);
      return decision instanceof Promise ? decision.then(verdictOf) : verdictOf(decision);
    };
    return authenticated instanceof Promise ? authenticated.then(proceed) : proceed(authenticated);
  };
  return Object.assign(policy, {
    close: () => {
      if (ownsSecurity) inboundSecurity.close();
    },
  });
}

function verdictOf(decision: AuthzDecision): InboundVerdict {
  if (decision.isAllowed) return ALLOW;
  const denied = decision.response;
  return {
    kind: 'deny',
    reason: 'permission-denied',
    details: denied === undefined || denied.body === '' ? ACCESS_DENIED : denied.body,
    ...(decision.policy === undefined ? {} : { policy: decision.policy }),
    ...(denied === undefined || denied.headers.length === 0 ? {} : { metadata: denied.headers }),
  };
}

function policyOf(peerAuthentication: EffectivePeerAuthentication): { policy?: string } {
  const source = peerAuthentication.sources.at(-1);
  return source === undefined ? {} : { policy: source };
}
