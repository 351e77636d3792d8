import type { KeyObject, X509Certificate } from 'node:crypto';
import {
  type Clock,
  type Disposer,
  EventChannel,
  type SpiffeId,
  type TimerHandle,
  type TrustBundle,
} from '@weft/core';
import type { AgentLogger } from '../agent/agent-logger.ts';
import type { RecordStore, StoredRecord } from '../store/record-store.ts';
import {
  AUTHORITY_RECORD,
  type AuthorityEntry,
  authorityRecord,
  readAuthorityRecord,
} from './authority-record.ts';
import type { CaSettings } from './ca-options.ts';
import { type CaStatus, describeStatus } from './ca-status.ts';
import { type CaView, type ScheduledAuthority, viewAt } from './ca-view.ts';
import { loadPluggedCa } from './plugged-ca.ts';
import { generateRoot } from './root-generation.ts';
import { CaMaterialError } from './signing-authority.ts';
import { type IssuedSvid, issueSvid } from './svid-issuer.ts';

export interface CertificateAuthorityDeps {
  readonly records: RecordStore;
  readonly settings: CaSettings;
  /** Timers (the periodic re-read of the store). */
  readonly clock: Clock;
  /** Wall-clock ms: certificate validity, and the rotation schedule. */
  readonly wallClock: () => number;
  readonly logger: AgentLogger;
}

export interface RotationRequest {
  /** How long the new root is trusted before it signs (time for the bundle to reach everyone). */
  readonly activateAfterMs: number;
  /** How long the old root stays trusted after the new one signs (≥ the SVID lifetime). */
  readonly overlapMs: number;
}

export interface RotationResult {
  readonly newRootSha256: string;
  readonly activatesAt: Date;
  readonly previousRootSha256: string;
  readonly previousRetiresAt: Date;
}

/** Why the CA cannot do what was asked; `reason` maps to the HTTP answer. */
export class CaRefusalError extends Error {
  readonly reason: 'unavailable' | 'conflict' | 'not-supported';

  constructor(reason: CaRefusalError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaRefusalError';
    this.reason = reason;
  }
}

/** Optimistic retries of a read-then-compare-and-set on the CA record that lost a race. */
const MAX_ATTEMPTS = 8;

/**
 * The agent's certificate authority. Generated mode: the roots live in one store record that every
 * agent on the store reads, created with a create-if-absent write so that agents starting together
 * agree on one root (bad-inputs H4), rotated with a compare-and-set write. Plugged mode: the
 * operator's CA, nothing stored. Either way the CA's behaviour at any instant is `viewAt(schedule,
 * now)`; the record is re-read every `refreshIntervalMs` so that a rotation made through another
 * agent is followed, and `onBundleChange` fires whenever the trust bundle changes (a root added,
 * activated or retired), which the watch pushes to every workload.
 */
export class CertificateAuthority {
  readonly trustDomain: string;
  readonly mode: 'generated' | 'plugged';
  readonly #deps: CertificateAuthorityDeps;
  readonly #bundleChanges = new EventChannel<TrustBundle>();
  readonly #extraRoots: readonly X509Certificate[];
  #schedule: readonly ScheduledAuthority[];
  #recordVersion: string | undefined;
  #announcedVersion: string | undefined;
  #timer: TimerHandle | undefined;
  #isClosed = false;

  private constructor(
    deps: CertificateAuthorityDeps,
    mode: 'generated' | 'plugged',
    schedule: readonly ScheduledAuthority[],
    extraRoots: readonly X509Certificate[],
    recordVersion: string | undefined,
  ) {
    this.#deps = deps;
    this.trustDomain = deps.settings.trustDomain;
    this.mode = mode;
    this.#schedule = schedule;
    this.#extraRoots = extraRoots;
    this.#recordVersion = recordVersion;
    this.#announcedVersion = this.view().bundle?.version;
  }

  /** Loads the plugged CA, or the stored one (creating it when the store has none). */
  static async open(deps: CertificateAuthorityDeps): Promise<CertificateAuthority> {
    const { settings } = deps;
    let authority: CertificateAuthority;
    if (settings.plugged !== undefined) {
      const plugged = loadPluggedCa(settings.plugged);
      authority = new CertificateAuthority(deps, 'plugged', plugged.schedule, plugged.roots, undefined);
    } else {
      const record = await loadOrCreate(deps);
      const read = readAuthorityRecord(record.value);
      if (read.trustDomain !== settings.trustDomain) {
        throw new CaMaterialError(
          `the store's CA is for trust domain ${read.trustDomain}, but this agent was given ${settings.trustDomain}: give the same trust domain to every agent on one store`,
        );
      }
      authority = new CertificateAuthority(deps, 'generated', read.schedule, [], record.version);
      authority.#armRefresh();
    }
    for (const warning of authority.status().warnings) deps.logger.warn(warning);
    return authority;
  }

  /** What the CA does now. */
  view(): CaView {
    return viewAt(this.trustDomain, this.#schedule, this.#extraRoots, this.#deps.wallClock());
  }

  /** The roots workloads trust now; undefined only when no root can sign (all expired or retired). */
  trustBundle(): TrustBundle | undefined {
    return this.view().bundle;
  }

  onBundleChange(listener: (bundle: TrustBundle) => void): Disposer {
    return this.#bundleChanges.on(listener);
  }

  /** An SVID for `spiffeId` and `publicKey`, signed by the current signer. */
  issue(spiffeId: SpiffeId, publicKey: KeyObject): IssuedSvid & { readonly trustBundle: TrustBundle } {
    this.#announceIfChanged();
    const { signer, bundle } = this.view();
    if (signer === undefined || bundle === undefined) {
      throw new CaRefusalError(
        'unavailable',
        'the CA has no root that may sign now (all retired): rotate the CA',
      );
    }
    const { settings } = this.#deps;
    try {
      const issued = issueSvid(signer.authority, {
        spiffeId,
        publicKey,
        nowMs: this.#deps.wallClock(),
        ttlMs: settings.svidTtlMs,
        backdateMs: settings.backdateMs,
      });
      return { ...issued, trustBundle: bundle };
    } catch (error) {
      if (error instanceof RangeError) {
        throw new CaRefusalError(
          'unavailable',
          `the CA cannot sign: ${error.message}; rotate it (weft ca rotate)`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /**
   * Starts a root rotation: a new root, trusted at once, signing after `activateAfterMs`; the
   * current signer stays trusted until `overlapMs` after that. Refused while another rotation has
   * not yet activated, and in plugged mode (rotate the operator's files instead).
   */
  async rotate(request: RotationRequest): Promise<RotationResult> {
    if (this.mode === 'plugged') {
      throw new CaRefusalError(
        'not-supported',
        'the CA is supplied by the operator: rotate by giving the agent new CA files (keep the old root in the roots file for the overlap)',
      );
    }
    for (const [name, value] of Object.entries(request)) {
      if (!(Number.isFinite(value) && value >= 0))
        throw new RangeError(`${name} must be zero or a positive duration`);
    }
    const { records, settings, wallClock } = this.#deps;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const current = await records.getRecord(AUTHORITY_RECORD);
      if (current === undefined)
        throw new CaRefusalError('unavailable', 'the CA record disappeared from the store');
      const { entries, schedule } = readAuthorityRecord(current.value);
      const nowMs = wallClock();
      const pending = schedule.find((entry) => entry.activatesAtMs > nowMs);
      if (pending !== undefined) {
        throw new CaRefusalError(
          'conflict',
          `a rotation is in progress: root ${pending.authority.rootSha256.slice(0, 16)}… starts signing at ${new Date(pending.activatesAtMs).toISOString()}`,
        );
      }
      const signer = viewAt(this.trustDomain, schedule, [], nowMs).signer;
      if (signer === undefined)
        throw new CaRefusalError('unavailable', 'the CA has no active root to rotate from');
      const activatesAtMs = nowMs + request.activateAfterMs;
      const retiresAtMs = activatesAtMs + request.overlapMs;
      const root = generateRoot(this.trustDomain, nowMs, settings.rootTtlMs);
      const kept = entries.filter((_, index) => {
        const retires = schedule[index]?.retiresAtMs;
        return retires === undefined || retires > nowMs;
      });
      const next: AuthorityEntry[] = [
        ...kept.map((entry) =>
          entry.certificate === signer.authority.certificate.toString() || entry.retiresAt === null
            ? { ...entry, retiresAt: new Date(retiresAtMs).toISOString() }
            : entry,
        ),
        {
          certificate: root.certificatePem,
          privateKey: root.privateKeyPem,
          activatesAt: new Date(activatesAtMs).toISOString(),
          retiresAt: null,
        },
      ];
      const written = await records.putRecord(
        AUTHORITY_RECORD,
        authorityRecord(this.trustDomain, next),
        current.version,
      );
      if (!written.ok) continue; // another agent rotated or refreshed it: read again and decide again
      this.#adopt(written.record);
      const newest = this.#schedule[this.#schedule.length - 1] as ScheduledAuthority;
      this.#deps.logger.warn('CA root rotation started', {
        newRoot: newest.authority.rootSha256,
        activatesAt: new Date(activatesAtMs).toISOString(),
        previousRetiresAt: new Date(retiresAtMs).toISOString(),
      });
      return {
        newRootSha256: newest.authority.rootSha256,
        activatesAt: new Date(activatesAtMs),
        previousRootSha256: signer.authority.rootSha256,
        previousRetiresAt: new Date(retiresAtMs),
      };
    }
    throw new CaRefusalError(
      'conflict',
      `lost ${MAX_ATTEMPTS} races with other agents rotating the CA; try again`,
    );
  }

  /** Reads the record back (another agent may have rotated) and announces a changed bundle. */
  async refresh(): Promise<void> {
    if (this.mode === 'generated') {
      const record = await this.#deps.records.getRecord(AUTHORITY_RECORD);
      if (record !== undefined && record.version !== this.#recordVersion) this.#adopt(record);
    }
    this.#announceIfChanged();
  }

  status(): CaStatus {
    return describeStatus({
      mode: this.mode,
      trustDomain: this.trustDomain,
      schedule: this.#schedule,
      view: this.view(),
      nowMs: this.#deps.wallClock(),
      svidTtlMs: this.#deps.settings.svidTtlMs,
    });
  }

  close(): void {
    this.#isClosed = true;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #adopt(record: StoredRecord): void {
    const read = readAuthorityRecord(record.value);
    this.#schedule = read.schedule;
    this.#recordVersion = record.version;
    this.#announceIfChanged();
  }

  #announceIfChanged(): void {
    const bundle = this.view().bundle;
    if (bundle === undefined || bundle.version === this.#announcedVersion) return;
    this.#announcedVersion = bundle.version;
    this.#bundleChanges.emit(bundle);
  }

  #armRefresh(): void {
    if (this.#isClosed) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = undefined;
      this.refresh()
        .catch((error: unknown) =>
          this.#deps.logger.warn('could not re-read the CA from the store', { error }),
        )
        .finally(() => this.#armRefresh());
    }, this.#deps.settings.refreshIntervalMs);
  }
}

/**
 * The stored CA, or a new one. Agents that start together each generate a root and try a
 * create-if-absent write; one wins, the others read the winner's record (bad-inputs H4).
 */
async function loadOrCreate(deps: CertificateAuthorityDeps): Promise<StoredRecord> {
  const { records, settings, wallClock } = deps;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const existing = await records.getRecord(AUTHORITY_RECORD);
    if (existing !== undefined) return existing;
    const nowMs = wallClock();
    const root = generateRoot(settings.trustDomain, nowMs, settings.rootTtlMs);
    const value = authorityRecord(settings.trustDomain, [
      {
        certificate: root.certificatePem,
        privateKey: root.privateKeyPem,
        activatesAt: new Date(nowMs - 60_000).toISOString(),
        retiresAt: null,
      },
    ]);
    const written = await records.putRecord(AUTHORITY_RECORD, value, null);
    if (written.ok) return written.record;
    if (written.current !== undefined) return written.current;
  }
  throw new CaRefusalError('conflict', `could not create or read the CA record in ${MAX_ATTEMPTS} attempts`);
}
