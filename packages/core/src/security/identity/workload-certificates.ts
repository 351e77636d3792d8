import { generateKeyPairSync, sign } from 'node:crypto';
import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import type { Disposer } from '../../events/event-channel.ts';
import type { Random } from '../../randomness/random.ts';
import { backoffDelayMs } from '../../resilience/retry/backoff.ts';
import type { Clock, TimerHandle } from '../../time/clock.ts';
import { buildCertificationRequest } from '../x509/certification-request.ts';
import { toPem } from '../x509/pem.ts';
import {
  type CertificateAnswer,
  type CertificateRequestBody,
  type RenewalProof,
  renewalProofMessage,
} from './certificate-exchange.ts';
import type { IdentityMaterial, IdentitySource } from './identity-material.ts';
import { acceptCertificateAnswer, type IssuedCertificate, withTrustBundle } from './issued-certificate.ts';
import { type RenewalSettings, renewalTimeMs, resolveRenewalSettings } from './renewal-settings.ts';
import type { SpiffeId } from './spiffe-id.ts';
import { CertificateRefusedError } from './svid-requester.ts';
import type { TrustBundle } from './trust-bundle.ts';
import { type CertificateCredential, workloadCertificateEvents } from './workload-certificate-events.ts';

/** Sends one certificate request to the agents (SvidRequester.request, or a test double). */
export type CertificateRequestSender = (
  body: CertificateRequestBody,
  joinToken: string | undefined,
  signal: AbortSignal,
) => Promise<CertificateAnswer>;

export interface WorkloadCertificatesOptions {
  /** The identity to hold; a join token for it must be what `joinToken` gives. */
  readonly spiffeId: SpiffeId;
  /** The join token, or where to get the current one (a file an operator refreshes). */
  readonly joinToken: string | (() => string | Promise<string>);
  readonly send: CertificateRequestSender;
  /** Timers: renewal, retry, expiry. */
  readonly clock: Clock;
  /** Wall-clock ms, which certificate validity is measured in; `Date.now` by default. */
  readonly wallClock?: () => number;
  /** Renewal jitter and retry back-off. */
  readonly random: Random;
  readonly renewal?: Partial<RenewalSettings>;
}

/** setTimeout's limit; a later renewal is re-armed when this runs out. */
const MAX_TIMER_MS = 0x7fff_ffff;

/**
 * A workload's SVID, kept current. It generates an ECDSA P-256 key in the process (the key never
 * leaves it: only a CSR does), obtains the first SVID with the join token, and renews at about
 * half the lifetime — with the current SVID as credential, and a new key each time — retrying
 * failures with back-off. A new trust bundle (from the watch stream) replaces the roots in the
 * material at once; when the agent has started signing with another root, it renews early.
 * Servers swap their secure context on `changed` (see `followIdentity`); new outbound connections
 * read `current()`.
 */
export class WorkloadCertificates implements IdentitySource {
  readonly spiffeId: SpiffeId;
  readonly events = workloadCertificateEvents();
  /** Resolves with the first SVID's material; rejects only if closed before one was issued. */
  readonly ready: Promise<IdentityMaterial>;

  readonly #options: WorkloadCertificatesOptions;
  readonly #settings: RenewalSettings;
  readonly #wallClock: () => number;
  readonly #controller = new AbortController();
  #resolveReady: (material: IdentityMaterial) => void = () => {};
  #rejectReady: (error: unknown) => void = () => {};
  #issued: IssuedCertificate | undefined;
  #bundle: TrustBundle | undefined;
  #timer: TimerHandle | undefined;
  /** Clock time the next attempt is due at; Infinity when none is scheduled. */
  #nextAttemptAtMs = Number.POSITIVE_INFINITY;
  #expiryTimer: TimerHandle | undefined;
  #isRequesting = false;
  #failures = 0;
  /** The agent refused a renewal proof: the next attempt uses the join token. */
  #mustUseToken = false;
  #expiringSerial: string | undefined;
  #lastError: unknown;
  #isClosed = false;

  constructor(options: WorkloadCertificatesOptions) {
    this.#options = options;
    this.spiffeId = options.spiffeId;
    this.#settings = resolveRenewalSettings(options.renewal);
    this.#wallClock = options.wallClock ?? Date.now;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // closing before the first SVID is not an unhandled rejection
    this.#scheduleAttempt(0);
  }

  current(): IdentityMaterial | undefined {
    return this.#issued?.material;
  }

  onChange(listener: (material: IdentityMaterial) => void): Disposer {
    return this.events.changed.on(listener);
  }

  /** Wall-clock ms the current SVID expires at (for an expiry metric); undefined before the first. */
  get expiresAtMs(): number | undefined {
    return this.#issued?.material.notAfter.getTime();
  }

  /** The last failure to obtain or renew, until the next success. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /**
   * A trust bundle from the agent (the watch stream). Replaces the roots at once; renews early,
   * within `rotationJitterMs`, when the agent now signs with a root other than this SVID's.
   */
  updateTrustBundle(bundle: TrustBundle): void {
    if (bundle.trustDomain !== this.spiffeId.trustDomain) {
      throw new WeftError(
        ErrorCodes.identityUnavailable,
        `a trust bundle for ${bundle.trustDomain} cannot serve ${this.spiffeId.uri}`,
      );
    }
    const previousVersion = this.#bundle?.version;
    if (previousVersion === bundle.version) return;
    this.#bundle = bundle;
    this.events.trustBundle.emit({ bundle, previousVersion });
    const issued = this.#issued;
    if (issued === undefined) return;
    this.#issued = withTrustBundle(issued, bundle);
    this.events.changed.emit(this.#issued.material);
    if (issued.issuingRootSha256 !== bundle.signingRootSha256) {
      const delayMs = this.#options.random.next() * this.#settings.rotationJitterMs;
      if (this.#options.clock.now() + delayMs < this.#nextAttemptAtMs) this.#scheduleAttempt(delayMs);
    }
  }

  /** Stops renewing and clears every timer. The current material stays readable. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#controller.abort(
      new WeftError(ErrorCodes.identityUnavailable, 'the workload certificates were closed'),
    );
    this.#clearTimer();
    if (this.#expiryTimer !== undefined) this.#options.clock.clearTimeout(this.#expiryTimer);
    if (this.#issued === undefined) this.#rejectReady(this.#controller.signal.reason);
  }

  #scheduleAttempt(delayMs: number): void {
    this.#clearTimer();
    const boundedMs = Math.max(0, Math.min(delayMs, MAX_TIMER_MS));
    this.#nextAttemptAtMs = this.#options.clock.now() + boundedMs;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#nextAttemptAtMs = Number.POSITIVE_INFINITY;
      if (boundedMs < delayMs) this.#scheduleAttempt(delayMs - boundedMs);
      else void this.#obtain();
    }, boundedMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextAttemptAtMs = Number.POSITIVE_INFINITY;
  }

  async #obtain(): Promise<void> {
    if (this.#isClosed || this.#isRequesting) return;
    this.#isRequesting = true;
    const previous = this.#issued;
    const proofSource =
      this.#mustUseToken || previous === undefined || this.#isExpired(previous) ? undefined : previous;
    const credential: CertificateCredential = proofSource === undefined ? 'join-token' : 'renewal';
    try {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const csr = buildCertificationRequest({ privateKey, publicKey, uris: [this.spiffeId.uri] });
      const body: CertificateRequestBody = {
        csr: toPem(csr, 'CERTIFICATE REQUEST'),
        ...(proofSource === undefined ? {} : { renewal: renewalProof(proofSource, csr) }),
      };
      const token = proofSource === undefined ? await this.#joinToken() : undefined;
      const answer = await this.#options.send(body, token, this.#controller.signal);
      const issued = acceptCertificateAnswer(answer, {
        spiffeId: this.spiffeId,
        privateKey,
        publicKey,
        nowMs: this.#wallClock(),
      });
      if (this.#isClosed) return;
      this.#accept(issued, answer.trustBundle, credential, previous);
    } catch (error) {
      if (this.#isClosed) return;
      this.#fail(error, credential);
    } finally {
      this.#isRequesting = false;
    }
  }

  #accept(
    fresh: IssuedCertificate,
    answerBundle: TrustBundle,
    credential: CertificateCredential,
    previous: IssuedCertificate | undefined,
  ): void {
    // The watch may have brought a newer bundle while the request was in flight.
    const bundle =
      this.#bundle !== undefined && this.#bundle.version !== answerBundle.version
        ? this.#bundle
        : answerBundle;
    this.#bundle = bundle;
    const issued = bundle === answerBundle ? fresh : withTrustBundle(fresh, bundle);
    this.#issued = issued;
    this.#failures = 0;
    this.#mustUseToken = false;
    this.#lastError = undefined;
    const { material } = issued;
    if (previous === undefined) {
      this.events.issued.emit({ material, credential });
      this.#resolveReady(material);
    } else {
      this.events.renewed.emit({
        material,
        credential,
        previousSerialNumber: previous.material.serialNumber,
      });
    }
    this.events.changed.emit(material);
    // The lifetime counts from when the certificate arrived, not from its back-dated notBefore:
    // with a short TTL (at most the CA's back-date) half the nominal lifetime is already past,
    // and the workload would renew again at once, in a loop.
    const startMs = Math.max(material.notBefore.getTime(), this.#wallClock());
    const notAfterMs = material.notAfter.getTime();
    const renewAtMs = renewalTimeMs(startMs, notAfterMs, this.#settings, this.#options.random.next());
    // Issued by a root the agent no longer signs with (the bundle moved on while this request was
    // in flight): renew soon, as updateTrustBundle would have.
    const isOnSigningRoot = issued.issuingRootSha256 === bundle.signingRootSha256;
    this.#scheduleAttempt(
      isOnSigningRoot
        ? renewAtMs - this.#wallClock()
        : this.#options.random.next() * this.#settings.rotationJitterMs,
    );
    if (this.#expiryTimer !== undefined) this.#options.clock.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = this.#options.clock.setTimeout(
      () => {
        this.#expiryTimer = undefined;
        if (this.#issued === issued || this.#issued?.material.serialNumber === material.serialNumber) {
          this.events.expired.emit({ material: this.#issued?.material ?? material });
        }
      },
      Math.min(MAX_TIMER_MS, Math.max(0, notAfterMs - this.#wallClock())),
    );
  }

  #fail(error: unknown, credential: CertificateCredential): void {
    this.#failures += 1;
    this.#lastError = error;
    // A refused renewal (the SVID's root was dropped, or its identity revoked): the join token next.
    if (credential === 'renewal' && error instanceof CertificateRefusedError) this.#mustUseToken = true;
    const retryInMs = backoffDelayMs(
      this.#failures,
      this.#settings.retryBaseMs,
      this.#settings.retryMaxMs,
      this.#options.random,
    );
    this.#scheduleAttempt(retryInMs);
    this.events.renewalFailed.emit({ error, attempt: this.#failures, retryInMs });
    const issued = this.#issued;
    if (issued === undefined) return;
    const { material } = issued;
    const lifetimeMs = material.notAfter.getTime() - material.notBefore.getTime();
    const remainingMs = material.notAfter.getTime() - this.#wallClock();
    if (
      remainingMs <= lifetimeMs * this.#settings.expiringFraction &&
      this.#expiringSerial !== material.serialNumber
    ) {
      this.#expiringSerial = material.serialNumber;
      this.events.expiring.emit({ material, remainingMs });
    }
  }

  #isExpired(issued: IssuedCertificate): boolean {
    return this.#wallClock() >= issued.material.notAfter.getTime();
  }

  async #joinToken(): Promise<string> {
    const source = this.#options.joinToken;
    const token = typeof source === 'string' ? source : await source();
    if (typeof token !== 'string' || token === '') {
      throw new WeftError(ErrorCodes.identityUnavailable, 'the join token source gave no token');
    }
    return token.trim();
  }
}

function renewalProof(issued: IssuedCertificate, csrDer: Buffer): RenewalProof {
  return {
    certificateChain: issued.chain.map((certificate) => toPem(certificate.raw, 'CERTIFICATE')).join(''),
    signature: sign('sha256', renewalProofMessage(csrDer), issued.privateKey).toString('base64url'),
  };
}
