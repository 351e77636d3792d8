import { parseDurationMs } from '@weft/core';
import { CaRefusalError, type CertificateAuthority } from '../ca/certificate-authority.ts';
import { admitCertificateRequest } from '../ca/csr-admission.ts';
import type { JoinTokens } from '../ca/join-tokens.ts';
import type { AdminAuth } from '../http/admin-auth.ts';
import { badRequest, HttpError } from '../http/http-error.ts';
import { readJsonBody } from '../http/read-body.ts';
import { sendJson } from '../http/respond.ts';
import type { Route } from '../http/router.ts';

export interface IdentityRouteDeps {
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  readonly auth: AdminAuth;
  readonly wallClock: () => number;
  readonly backdateMs: number;
  readonly svidTtlMs: number;
  /** Cap on a certificate request's body: a CSR and, for a renewal, a short chain. */
  readonly maxCertificateRequestBytes: number;
  readonly maxRequestBytes: number;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** How long a new root is trusted before it signs, when the operator does not say (docs/ca.md). */
const DEFAULT_ACTIVATE_AFTER_MS = 60_000;

/**
 * The identity API (PROTOCOL.md §4.4–4.6): certificate requests from workloads, the trust
 * bundle and CA status for anyone, join tokens and CA rotation for the admin. Certificate
 * requests are not admin writes: they carry their own credential and are never let through
 * for coming from loopback (bad-inputs B9). Token and rotation routes need the admin token
 * itself, loopback or not (`AdminAuth.requireToken`), checked before the body is read.
 */
export function identityRoutes(deps: IdentityRouteDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/certificates',
      isWrite: false,
      // The request carries its own credential (a join token or the current SVID).
      readers: 'anyone',
      handle: async ({ request, response }) => {
        const admitted = await admitCertificateRequest(
          request.headers.authorization,
          () => readJsonBody(request, deps.maxCertificateRequestBytes),
          deps,
        );
        const issued = caCall(() => deps.ca.issue(admitted.spiffeId, admitted.csr.publicKey));
        sendJson(response, 200, {
          spiffeId: admitted.spiffeId.uri,
          certificateChain: issued.chainPem,
          serialNumber: issued.serialNumber,
          notBefore: issued.notBefore.toISOString(),
          notAfter: issued.notAfter.toISOString(),
          trustBundle: issued.trustBundle,
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/ca/bundle',
      isWrite: false,
      // Public by design: whoever verifies a peer needs the roots.
      readers: 'anyone',
      handle: ({ response }) => {
        const bundle = deps.ca.trustBundle();
        if (bundle === undefined)
          throw new HttpError(503, 'ca-unavailable', 'the CA has no root that may sign now');
        sendJson(response, 200, bundle);
      },
    },
    {
      method: 'GET',
      path: '/v1/ca',
      isWrite: false,
      handle: ({ response }) => sendJson(response, 200, deps.ca.status()),
    },
    {
      method: 'POST',
      path: '/v1/ca/rotate',
      isWrite: false,
      // Checks the admin token itself (requireToken): loopback does not stand in for it.
      readers: 'anyone',
      handle: async ({ request, response }) => {
        deps.auth.requireToken(request);
        const body = objectBody(await readJsonBody(request, deps.maxRequestBytes), [
          'activateAfter',
          'overlap',
        ]);
        const result = await caCallAsync(() =>
          deps.ca.rotate({
            activateAfterMs: durationField(body, 'activateAfter', DEFAULT_ACTIVATE_AFTER_MS),
            // Every SVID the old root signed expires within one SVID lifetime of the switch.
            overlapMs: durationField(body, 'overlap', deps.svidTtlMs + deps.backdateMs + 60 * 60_000),
          }),
        );
        sendJson(response, 200, {
          newRootSha256: result.newRootSha256,
          activatesAt: result.activatesAt.toISOString(),
          previousRootSha256: result.previousRootSha256,
          previousRetiresAt: result.previousRetiresAt.toISOString(),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/tokens',
      isWrite: false,
      // Checks the admin token itself (requireToken): loopback does not stand in for it.
      readers: 'anyone',
      handle: async ({ request, response }) => {
        deps.auth.requireToken(request);
        const body = objectBody(await readJsonBody(request, deps.maxRequestBytes), [
          'namespace',
          'serviceAccount',
          'ttl',
        ]);
        const { namespace, serviceAccount } = identityFields(body);
        const ttlMs = durationField(body, 'ttl', 60 * 60_000);
        let created: Awaited<ReturnType<JoinTokens['create']>>;
        try {
          created = await deps.tokens.create(namespace, serviceAccount, ttlMs);
        } catch (error) {
          if (error instanceof RangeError) throw badRequest(`ttl: ${error.message}`);
          throw error;
        }
        sendJson(response, 201, { ...created, expiresAt: created.expiresAt.toISOString() });
      },
    },
    {
      method: 'POST',
      path: '/v1/tokens/revocations',
      isWrite: false,
      // Checks the admin token itself (requireToken): loopback does not stand in for it.
      readers: 'anyone',
      handle: async ({ request, response }) => {
        deps.auth.requireToken(request);
        const body = objectBody(await readJsonBody(request, deps.maxRequestBytes), [
          'tokenId',
          'namespace',
          'serviceAccount',
        ]);
        if (body.tokenId !== undefined) {
          if (typeof body.tokenId !== 'string' || !/^[A-Za-z0-9-]{1,128}$/.test(body.tokenId)) {
            throw badRequest('tokenId must be the id `weft token create` printed');
          }
          if (body.namespace !== undefined || body.serviceAccount !== undefined) {
            throw badRequest('give tokenId, or namespace and serviceAccount, not both');
          }
          await deps.tokens.revoke({ tokenId: body.tokenId });
          sendJson(response, 200, { revoked: { tokenId: body.tokenId } });
          return;
        }
        const { namespace, serviceAccount } = identityFields(body);
        const spiffeId = `spiffe://${deps.ca.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
        await deps.tokens.revoke({ spiffeId });
        sendJson(response, 200, { revoked: { spiffeId, before: new Date(deps.wallClock()).toISOString() } });
      },
    },
  ];
}

function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw badRequest(`unknown field ${JSON.stringify(key)} (known: ${allowed.join(', ')})`);
  }
  return body as Record<string, unknown>;
}

function identityFields(body: Record<string, unknown>): { namespace: string; serviceAccount: string } {
  const { namespace, serviceAccount } = body;
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw badRequest(
      `namespace must be a DNS-1123 label (a-z, 0-9, "-", at most 63), got ${JSON.stringify(namespace)}`,
    );
  }
  if (typeof serviceAccount !== 'string' || !SERVICE_ACCOUNT.test(serviceAccount)) {
    throw badRequest(
      `serviceAccount must be a DNS-1123 subdomain (a-z, 0-9, "-", ".", at most 253), got ${JSON.stringify(serviceAccount)}`,
    );
  }
  return { namespace, serviceAccount };
}

function durationField(body: Record<string, unknown>, field: string, fallbackMs: number): number {
  const value = body[field];
  if (value === undefined) return fallbackMs;
  if (typeof value !== 'string') throw badRequest(`${field} must be a duration such as "1h" or "90s"`);
  const parsed = parseDurationMs(value);
  if (!parsed.ok) throw badRequest(`${field}: ${parsed.reason}`);
  return parsed.ms;
}

function caCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw asHttpError(error);
  }
}

async function caCallAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asHttpError(error);
  }
}

function asHttpError(error: unknown): unknown {
  if (error instanceof CaRefusalError) {
    if (error.reason === 'unavailable')
      return new HttpError(503, 'ca-unavailable', error.message, { cause: error });
    return new HttpError(409, error.reason === 'conflict' ? 'conflict' : 'not-supported', error.message, {
      cause: error,
    });
  }
  if (error instanceof RangeError) return badRequest(error.message);
  return error;
}
