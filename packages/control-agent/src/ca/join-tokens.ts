import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import {
  certificateSha256,
  type JoinTokenClaims,
  JoinTokenError,
  signJoinToken,
  verifyJoinToken,
  workloadSpiffeId,
} from '@weft/core';
import type { RecordStore, StoredRecord } from '../store/record-store.ts';
import {
  isIdentityRevoked,
  pruneRevocations,
  REVOCATIONS_RECORD,
  type Revocations,
  readRevocations,
  revocationsRecord,
} from './revocations.ts';

export const TOKEN_KEY_RECORD = 'tokens/signing-key';
const KEY_FORMAT = 'weft-join-key/1';
const MAX_ATTEMPTS = 8;

export interface CreatedToken {
  readonly token: string;
  readonly tokenId: string;
  readonly spiffeId: string;
  readonly expiresAt: Date;
}

export type Revocation =
  | { readonly tokenId: string }
  /** Every token and SVID issued for this identity until now. */
  | { readonly spiffeId: string };

/**
 * Join tokens (`weft token create`): JWTs signed by one ES256 key kept in the store, so that any
 * agent on the store verifies what any other issued, and revocations, also in the store, take
 * effect at every agent on the next request (they are read for every check; certificate requests
 * are rare, a few per workload per day).
 */
export class JoinTokens {
  readonly #records: RecordStore;
  readonly #trustDomain: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #keyId: string;
  readonly #wallClock: () => number;
  readonly #maxTtlMs: number;
  /** How long an identity revocation must be kept: every token or SVID from before it has expired. */
  readonly #keepIdentityMs: number;

  private constructor(
    records: RecordStore,
    options: JoinTokensOptions,
    privateKey: KeyObject,
    keyId: string,
  ) {
    this.#records = records;
    this.#trustDomain = options.trustDomain;
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.#keyId = keyId;
    this.#wallClock = options.wallClock;
    this.#maxTtlMs = options.maxTtlMs;
    this.#keepIdentityMs = Math.max(options.maxTtlMs, options.svidTtlMs) + 60_000;
  }

  /** Loads the signing key from the store, creating it (create-if-absent, like the CA) when absent. */
  static async open(records: RecordStore, options: JoinTokensOptions): Promise<JoinTokens> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const existing = await records.getRecord(TOKEN_KEY_RECORD);
      if (existing !== undefined) return JoinTokens.#fromRecord(records, options, existing);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const value = {
        format: KEY_FORMAT,
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        keyId: certificateSha256(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })).slice(
          0,
          16,
        ),
      };
      const written = await records.putRecord(TOKEN_KEY_RECORD, value, null);
      const record = written.ok ? written.record : written.current;
      if (record !== undefined) return JoinTokens.#fromRecord(records, options, record);
    }
    throw new Error(`could not create or read ${TOKEN_KEY_RECORD} in ${MAX_ATTEMPTS} attempts`);
  }

  static #fromRecord(records: RecordStore, options: JoinTokensOptions, record: StoredRecord): JoinTokens {
    const value = record.value as { format?: unknown; privateKey?: unknown; keyId?: unknown };
    if (
      value?.format !== KEY_FORMAT ||
      typeof value.privateKey !== 'string' ||
      typeof value.keyId !== 'string'
    ) {
      throw new Error(`the stored record ${TOKEN_KEY_RECORD} is not a ${KEY_FORMAT} record`);
    }
    return new JoinTokens(records, options, createPrivateKey(value.privateKey), value.keyId);
  }

  /** A token for `spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>`, valid for `ttlMs`. */
  async create(namespace: string, serviceAccount: string, ttlMs: number): Promise<CreatedToken> {
    if (!(Number.isFinite(ttlMs) && ttlMs >= 1_000 && ttlMs <= this.#maxTtlMs)) {
      throw new RangeError(`ttl must be between 1s and ${Math.floor(this.#maxTtlMs / 3_600_000)}h`);
    }
    const spiffeId = workloadSpiffeId(this.#trustDomain, namespace, serviceAccount);
    const issuedAtMs = this.#wallClock();
    // JWT times are whole seconds: round so that the token never outlives what was asked.
    const expiresAtMs = Math.floor((issuedAtMs + ttlMs) / 1000) * 1000;
    const tokenId = randomUUID();
    const token = await signJoinToken(this.#privateKey, this.#keyId, {
      spiffeId,
      tokenId,
      issuedAtMs,
      expiresAtMs,
    });
    return { token, tokenId, spiffeId: spiffeId.uri, expiresAt: new Date(expiresAtMs) };
  }

  /** Verifies a token and that neither it nor its identity has been revoked. */
  async verify(token: string): Promise<JoinTokenClaims> {
    const claims = await verifyJoinToken(token, this.#publicKey, this.#wallClock());
    const revocations = await this.revocations();
    if (revocations.tokens[claims.tokenId] !== undefined)
      throw new JoinTokenError(`join token ${claims.tokenId} has been revoked`);
    // iat is whole seconds: compare at that resolution, so a token made in the same second as a
    // revocation counts as made before it.
    if (isIdentityRevoked(revocations, claims.spiffeId.uri, claims.issuedAtMs)) {
      throw new JoinTokenError(
        `every join token for ${claims.spiffeId.uri} issued before its revocation is refused`,
      );
    }
    return claims;
  }

  async revocations(): Promise<Revocations> {
    return readRevocations((await this.#records.getRecord(REVOCATIONS_RECORD))?.value);
  }

  /** Records a revocation (compare-and-set, so concurrent revocations at several agents all stick). */
  async revoke(revocation: Revocation): Promise<Revocations> {
    const nowMs = this.#wallClock();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const current = await this.#records.getRecord(REVOCATIONS_RECORD);
      const pruned = pruneRevocations(readRevocations(current?.value), nowMs, this.#keepIdentityMs);
      const next: Revocations =
        'tokenId' in revocation
          ? { ...pruned, tokens: { ...pruned.tokens, [revocation.tokenId]: nowMs + this.#maxTtlMs } }
          : { ...pruned, identities: { ...pruned.identities, [revocation.spiffeId]: nowMs } };
      const written = await this.#records.putRecord(
        REVOCATIONS_RECORD,
        revocationsRecord(next),
        current?.version ?? null,
      );
      if (written.ok) return next;
    }
    throw new Error(
      `could not record the revocation in ${MAX_ATTEMPTS} attempts (other agents kept writing)`,
    );
  }
}

export interface JoinTokensOptions {
  readonly trustDomain: string;
  readonly wallClock: () => number;
  readonly maxTtlMs: number;
  readonly svidTtlMs: number;
}
