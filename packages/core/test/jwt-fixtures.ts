/**
 * Shared pieces of the JWT tests: signing keys made with jose, a JWKS endpoint served by node:http
 * on 127.0.0.1, RequestAuthentication policies through the parser, and a fake clock that is both
 * the wall clock for `exp`/`nbf` and the timer clock for fetch timeouts and cooldowns.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  type GenerateKeyPairAlgorithm,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import {
  type AuthenticationResult,
  compile,
  JwksCache,
  type JwksCacheOptions,
  RequestAuthenticator,
  type RequestAuthenticatorOptions,
} from '../src/index.ts';
import { FakeClock } from '../src/testing.ts';
import { HTTPBIN, load } from './authz-fixtures.ts';

/** 2026-06-01T00:00:00Z, the tests' "now". */
export const NOW_MS = Date.UTC(2026, 5, 1);
export const NOW_S = NOW_MS / 1000;
export const ISSUER = 'https://issuer.example.com';

export interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly alg: string;
  readonly kid: string;
}

export async function signingKey(
  alg: GenerateKeyPairAlgorithm = 'RS256',
  kid = `${alg.toLowerCase()}-1`,
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    privateKey,
    publicKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    alg,
    kid,
  };
}

/** A token for `claims` (defaults: the test issuer, subject alice, valid for an hour from now). */
export function sign(
  key: SigningKey,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ iss: ISSUER, sub: 'alice', iat: NOW_S, exp: NOW_S + 3600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

export function jwks(...keys: readonly SigningKey[]): { keys: JWK[] } {
  return { keys: keys.map((key) => key.publicJwk) };
}

type Behaviour = 'serve' | 'hang' | 'fail' | 'garbage';

/** A JWKS endpoint on 127.0.0.1 that counts its requests and can be told to misbehave. */
export class JwksServer {
  document: unknown = { keys: [] };
  behaviour: Behaviour = 'serve';
  requests = 0;
  #server: Server | undefined;
  #waiters: (() => void)[] = [];

  async start(): Promise<this> {
    this.#server = createServer((_, response) => {
      this.requests++;
      for (const wake of this.#waiters.splice(0)) wake();
      switch (this.behaviour) {
        case 'hang':
          return;
        case 'fail':
          response.writeHead(503).end('unavailable');
          return;
        case 'garbage':
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [');
          return;
        case 'serve':
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.document));
      }
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get uri(): string {
    const address = this.#server?.address() as AddressInfo | undefined;
    if (address === undefined) throw new Error('the JWKS server is not started');
    return `http://127.0.0.1:${address.port}/jwks.json`;
  }

  /** Resolves when the next request arrives. */
  nextRequest(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

export function requestAuthentication(name: string, spec: object, namespace = 'foo'): object {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name, namespace },
    spec,
  };
}

export interface Authentication {
  readonly authenticator: RequestAuthenticator;
  readonly clock: FakeClock;
  readonly cache: JwksCache;
}

/** An authenticator for httpbin in `foo` with these policies, on a fake clock set to NOW_MS. */
export function authenticatorFor(
  policies: readonly object[],
  options: Partial<RequestAuthenticatorOptions> & { readonly cache?: Partial<JwksCacheOptions> } = {},
): Authentication {
  const clock = new FakeClock(NOW_MS);
  const cache = new JwksCache({ clock, ...options.cache });
  const snapshot = compile(load(...policies));
  const authenticator = new RequestAuthenticator(snapshot.inboundFor(HTTPBIN).requestAuthentications, {
    jwksCache: cache,
    now: () => clock.now(),
    ...options,
  });
  return { authenticator, clock, cache };
}

/** A request carrying these headers (lower-case names) and query. */
export function tokenRequest(headers: Record<string, string> = {}, query = '') {
  return { header: (name: string) => headers[name], query };
}

export const bearer = (token: string) => tokenRequest({ authorization: `Bearer ${token}` });

export async function authenticate(
  authentication: Authentication,
  request: ReturnType<typeof tokenRequest>,
): Promise<AuthenticationResult> {
  return await authentication.authenticator.authenticate(request);
}
