import { createPrivateKey, type KeyObject } from 'node:crypto';
import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { IdentityMaterial } from '../security/identity/identity-material.ts';
import { createSvidProof } from './svid-proof.ts';

/** The `Authorization` header value a workload's registration call carries (PROTOCOL.md §4.2). */
export type WorkloadCredential = (request: {
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array | undefined;
}) => Promise<string>;

/**
 * The workload's own credential for its registration calls, so that it needs no admin token:
 * an SVID proof (`Weft-SVID …`, signed afresh for every request) while it holds an unexpired
 * SVID, and its join token (`Bearer …`) before the first SVID arrives or after one expired. The
 * SVID keeps working long after the join token expired: registering again after an agent restart
 * or a lost lease needs nothing else.
 */
export function workloadCredential(input: {
  /** The current SVID (`WorkloadCertificates.current`). */
  readonly svid: () => IdentityMaterial | undefined;
  readonly joinToken: string | (() => string | Promise<string>);
  readonly wallClock: () => number;
}): WorkloadCredential {
  // Parsing a PEM key costs more than signing with it: once per SVID (every renewal has a new key).
  let parsed: { readonly material: IdentityMaterial; readonly privateKey: KeyObject } | undefined;
  return async (request) => {
    const material = input.svid();
    const nowMs = input.wallClock();
    if (material !== undefined && nowMs < material.notAfter.getTime()) {
      if (parsed?.material !== material) parsed = { material, privateKey: createPrivateKey(material.keyPem) };
      return createSvidProof(
        { chainPem: material.certChainPem, privateKey: parsed.privateKey },
        request,
        nowMs,
      );
    }
    const source = input.joinToken;
    const token = typeof source === 'string' ? source : await source();
    if (typeof token !== 'string' || token.trim() === '') {
      throw new WeftError(ErrorCodes.identityUnavailable, 'the join token source gave no token');
    }
    return `Bearer ${token.trim()}`;
  };
}
