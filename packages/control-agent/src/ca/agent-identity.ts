import type { Clock } from '@weft/core';
import type { AgentLogger } from '../agent/agent-logger.ts';
import { isRecordStore, type RecordStore } from '../store/record-store.ts';
import type { Store } from '../store/store.ts';
import type { TrustBundleFeed } from '../watch/trust-bundle-feed.ts';
import { type CaOptions, type CaSettings, resolveCaSettings } from './ca-options.ts';
import { CertificateAuthority } from './certificate-authority.ts';
import { JoinTokens } from './join-tokens.ts';
import { ProcessRecords } from './process-records.ts';

/** The agent's identity services: its CA, its join tokens, and the trust bundle the watch pushes. */
export interface AgentIdentity {
  readonly settings: CaSettings;
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  readonly bundleFeed: TrustBundleFeed;
  close(): void;
}

/**
 * Opens the CA and the join-token key on the store's records (creating them on first start), or
 * on process-local records, with a warning, when the store keeps none.
 */
export async function openAgentIdentity(input: {
  readonly store: Store;
  readonly options: CaOptions | undefined;
  readonly clock: Clock;
  readonly wallClock: () => number;
  readonly logger: AgentLogger;
}): Promise<AgentIdentity> {
  const settings = resolveCaSettings(input.options);
  let records: RecordStore;
  if (isRecordStore(input.store)) {
    records = input.store;
  } else {
    input.logger.warn(
      'the store keeps no agent records: the CA and join-token key live in this process only',
    );
    records = new ProcessRecords();
  }
  const ca = await CertificateAuthority.open({
    records,
    settings,
    clock: input.clock,
    wallClock: input.wallClock,
    logger: input.logger,
  });
  try {
    const tokens = await JoinTokens.open(records, {
      trustDomain: settings.trustDomain,
      wallClock: input.wallClock,
      maxTtlMs: settings.maxJoinTokenTtlMs,
      svidTtlMs: settings.svidTtlMs,
    });
    return {
      settings,
      ca,
      tokens,
      bundleFeed: { current: () => ca.trustBundle(), onChange: (listener) => ca.onBundleChange(listener) },
      close: () => ca.close(),
    };
  } catch (error) {
    ca.close();
    throw error;
  }
}
