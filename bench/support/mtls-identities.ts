/**
 * The SVIDs bench/mtls.ts uses: a CA made at bench time with Weft's own certificate builder
 * (@weft/core's test CA), and for the client (productpage) and the origin (reviews) an ECDSA P-256
 * SVID and key, as identity material. Valid for a day; nothing is written to disk.
 */
import type { IdentityMaterial } from '../../packages/core/src/index.ts';
import { createTestCa } from '../../packages/core/src/testing.ts';

const DAY_MS = 86_400_000;

export interface BenchIdentities {
  readonly client: IdentityMaterial;
  readonly origin: IdentityMaterial;
}

export function makeBenchIdentities(nowMs = Date.now()): BenchIdentities {
  const ca = createTestCa('cluster.local', { commonName: 'weft bench root', nowMs });
  const svid = (serviceAccount: string): IdentityMaterial =>
    ca.workload('default', serviceAccount, { notAfter: new Date(nowMs + DAY_MS) });
  return { client: svid('productpage'), origin: svid('reviews') };
}
