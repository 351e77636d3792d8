import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../time/clock.ts';
import { fetchJwksDocument, type JwksFetcher } from './jwks-fetch.ts';
import {
  DEFAULT_JWKS_REFRESH_INTERVAL_MS,
  DEFAULT_JWKS_RETRY_AFTER_FAILURE_MS,
  DEFAULT_MAX_KEY_SETS,
  DEFAULT_UNKNOWN_KEY_COOLDOWN_MS,
} from './jwt-limits.ts';

export interface JwksCacheOptions {
  readonly clock: Clock;
  readonly fetchJwks?: JwksFetcher;
  readonly refreshIntervalMs?: number;
  readonly unknownKeyCooldownMs?: number;
  readonly retryAfterFailureMs?: number;
  readonly maxKeySets?: number;
}

/** The issuer's keys cannot be had: tokens of that issuer are refused (bad-inputs F6). */
export class JwksUnavailableError extends Error {
  constructor(uri: string, detail: string | undefined) {
    super(`the key set at ${uri} is unavailable${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'JwksUnavailableError';
  }
}

interface KeySetEntry {
  keys: JWTVerifyGetKey | undefined;
  fetchedAtMs: number;
  lastAttemptMs: number;
  lastError: string | undefined;
  inflight: Promise<void> | undefined;
}

/**
 * Remote key sets, fetched on first use (startup never waits for them) and kept in an LRU cache by
 * URI, shared by every snapshot so a configuration push does not refetch them.
 * - A key set older than the refresh interval is refetched in the background; the old keys keep
 *   serving, and keep serving if the refetch fails.
 * - A token whose `kid` no key fits triggers a refetch, at most once per cooldown per URI, so a
 *   flood of made-up `kid`s cannot turn into a flood of fetches (bad-inputs F7).
 * - When there are no keys and the last fetch failed, tokens are refused at once until the retry
 *   delay has passed, instead of each waiting for a fetch that will likely fail too.
 * One fetch per URI is in flight at a time; concurrent callers wait for it.
 */
export class JwksCache {
  readonly #clock: Clock;
  readonly #fetchJwks: JwksFetcher;
  readonly #refreshIntervalMs: number;
  readonly #unknownKeyCooldownMs: number;
  readonly #retryAfterFailureMs: number;
  readonly #entries: LRUCache<string, KeySetEntry>;

  constructor(options: JwksCacheOptions) {
    this.#clock = options.clock;
    this.#fetchJwks = options.fetchJwks ?? fetchJwksDocument;
    this.#refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_JWKS_REFRESH_INTERVAL_MS;
    this.#unknownKeyCooldownMs = options.unknownKeyCooldownMs ?? DEFAULT_UNKNOWN_KEY_COOLDOWN_MS;
    this.#retryAfterFailureMs = options.retryAfterFailureMs ?? DEFAULT_JWKS_RETRY_AFTER_FAILURE_MS;
    this.#entries = new LRUCache({ max: options.maxKeySets ?? DEFAULT_MAX_KEY_SETS });
  }

  /** The keys of `uri`, fetching them if none are cached; throws JwksUnavailableError. */
  async keysFor(uri: string, timeoutMs: number): Promise<JWTVerifyGetKey> {
    const entry = this.#entry(uri);
    const now = this.#clock.now();
    if (entry.keys !== undefined) {
      const isStale = now - entry.fetchedAtMs >= this.#refreshIntervalMs;
      if (isStale && entry.inflight === undefined && now - entry.lastAttemptMs >= this.#retryAfterFailureMs) {
        this.#startFetch(uri, entry, timeoutMs);
      }
      return entry.keys;
    }
    if (entry.inflight === undefined) {
      if (now - entry.lastAttemptMs < this.#retryAfterFailureMs)
        throw new JwksUnavailableError(uri, entry.lastError);
      this.#startFetch(uri, entry, timeoutMs);
    }
    await entry.inflight;
    if (entry.keys === undefined) throw new JwksUnavailableError(uri, entry.lastError);
    return entry.keys;
  }

  /**
   * After a token named a key the cached set lacks: refetch if the cooldown allows, and return
   * the new keys; undefined when no refetch was allowed (the token is then refused).
   */
  async refreshAfterUnknownKey(uri: string, timeoutMs: number): Promise<JWTVerifyGetKey | undefined> {
    const entry = this.#entry(uri);
    if (entry.inflight === undefined) {
      if (this.#clock.now() - entry.lastAttemptMs < this.#unknownKeyCooldownMs) return undefined;
      this.#startFetch(uri, entry, timeoutMs);
    }
    await entry.inflight;
    return entry.keys;
  }

  /** Starts fetching `uri` now, without waiting (e.g. when a snapshot names a new issuer). */
  prefetch(uri: string, timeoutMs: number): void {
    const entry = this.#entry(uri);
    if (entry.keys === undefined && entry.inflight === undefined) this.#startFetch(uri, entry, timeoutMs);
  }

  #entry(uri: string): KeySetEntry {
    let entry = this.#entries.get(uri);
    if (entry === undefined) {
      entry = {
        keys: undefined,
        fetchedAtMs: Number.NEGATIVE_INFINITY,
        lastAttemptMs: Number.NEGATIVE_INFINITY,
        lastError: undefined,
        inflight: undefined,
      };
      this.#entries.set(uri, entry);
    }
    return entry;
  }

  #startFetch(uri: string, entry: KeySetEntry, timeoutMs: number): void {
    entry.lastAttemptMs = this.#clock.now();
    // Every failure (fetch or a document jose refuses) is caught here: the kept promise never rejects.
    entry.inflight = this.#fetchJwks(uri, { timeoutMs, clock: this.#clock })
      .then((document) => {
        entry.keys = createLocalJWKSet(document);
        entry.fetchedAtMs = this.#clock.now();
        entry.lastError = undefined;
      })
      .catch((error: unknown) => {
        entry.lastError = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        entry.inflight = undefined;
      });
  }
}
