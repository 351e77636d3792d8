/**
 * Istio's security tasks on Bookinfo, end to end with every process real, in the order of the
 * README's "Mutual TLS" and "Authorization": every process joined with its own SVID from the
 * agent's CA (the launcher gave each a join token), so destination-rule-all-mtls.yaml and a STRICT
 * PeerAuthentication leave the page working, every hop mutual TLS as each destination's metrics
 * say, and a caller outside the mesh refused; then the AuthorizationPolicies of Istio's
 * "Authorization for HTTP traffic" task, one at a time, with what its page says the reader sees.
 * What the reader runs besides `weft apply` / `weft delete` (`weft describe` and the `node -e`
 * one-liners) runs here as written in the README.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Bookinfo } from '../src/launcher/bookinfo-launcher.ts';
import {
  DETAILS_ERROR,
  DETAILS_UNAVAILABLE,
  REVIEWS_ERROR,
  REVIEWS_UNAVAILABLE,
} from '../src/productpage/product-page-html.ts';
import { RATINGS_UNAVAILABLE } from '../src/reviews/reviews-handler.ts';
import { startBookinfoPerFile } from './bookinfo-per-file.ts';
import { loadProductPage } from './product-page-reader.ts';
import { parseExposition, sumWhere } from './prometheus-text.ts';
import { PLAINTEXT_CALL, runOneLiner, TLS_WITHOUT_CERTIFICATE } from './reader-one-liners.ts';

const WEFT = fileURLToPath(new URL('../../../node_modules/@weft/control-agent/bin/weft.js', import.meta.url));

let bookinfo: Bookinfo;
startBookinfoPerFile((started) => {
  bookinfo = started;
});

/** `npx weft …` as the reader runs it, with the admin token in WEFT_TOKEN; resolves with what it printed. */
function weft(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [WEFT, ...args, '--agent', bookinfo.agentUrl],
      { env: { ...process.env, WEFT_TOKEN: bookinfo.adminToken }, timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`weft ${args.join(' ')}: ${error.message}\n${stderr}`));
        else resolve(stdout + stderr);
      },
    );
  });
}

const spiffe = (namespace: string, serviceAccount: string): string =>
  `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`;
const GATEWAY = spiffe('istio-system', 'istio-ingressgateway-service-account');
const PRODUCTPAGE = spiffe('default', 'bookinfo-productpage');
const REVIEWS = spiffe('default', 'bookinfo-reviews');

/** Every hop of a page load with reviews v3: who receives it, and the identities both sides proved. */
const HOPS = [
  { workload: 'productpage-v1', caller: GATEWAY, callee: PRODUCTPAGE },
  { workload: 'details-v1', caller: PRODUCTPAGE, callee: spiffe('default', 'bookinfo-details') },
  { workload: 'reviews-v3', caller: PRODUCTPAGE, callee: REVIEWS },
  { workload: 'ratings-v1', caller: REVIEWS, callee: spiffe('default', 'bookinfo-ratings') },
] as const;

/** istio_requests_total{reporter="destination"} of one workload, by connection_security_policy. */
async function receivedBy(workload: string, caller: string, callee: string) {
  const url = bookinfo.metricsUrls[workload];
  if (url === undefined) throw new Error(`${workload} announced no metrics endpoint`);
  const exposition = parseExposition(
    await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text(),
  );
  const count = (labels: Record<string, string>) =>
    sumWhere(exposition, 'istio_requests_total', { reporter: 'destination', ...labels });
  return {
    mutualTls: count({
      connection_security_policy: 'mutual_tls',
      source_principal: caller,
      destination_principal: callee,
    }),
    plaintext: count({ connection_security_policy: 'none' }),
  };
}

describe('mutual TLS', () => {
  it('with destination-rule-all-mtls.yaml and a STRICT PeerAuthentication the page loads, every hop mutual TLS', async () => {
    // reviews v3 calls ratings: every load crosses all four hops.
    await bookinfo.apply('virtual-service-reviews-v3.yaml');
    await bookinfo.apply('destination-rule-all-mtls.yaml');
    await bookinfo.apply('from-docs/peer-authentication-strict.yaml');
    const before = await Promise.all(HOPS.map((hop) => receivedBy(hop.workload, hop.caller, hop.callee)));
    const loads = 5;
    for (let i = 0; i < loads; i++) {
      const page = await loadProductPage(bookinfo.productPageUrl);
      expect(page.status).toBe(200);
      expect(page.html).toContain('<dt>ISBN-10:</dt><dd>1234567890</dd>');
      expect(page.starColors).toEqual(['red', 'red']);
    }
    // A request is counted when its response ends, a moment after the page arrives.
    const deadline = Date.now() + 10_000;
    let after = await Promise.all(HOPS.map((hop) => receivedBy(hop.workload, hop.caller, hop.callee)));
    while (
      after.some((hop, i) => hop.mutualTls < (before[i]?.mutualTls ?? 0) + loads) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await Promise.all(HOPS.map((hop) => receivedBy(hop.workload, hop.caller, hop.callee)));
    }
    HOPS.forEach((hop, i) => {
      // Every request of every hop: mutual TLS, from the caller's SVID to the callee's.
      expect({
        hop: hop.workload,
        received: (after[i]?.mutualTls ?? 0) - (before[i]?.mutualTls ?? 0),
      }).toEqual({
        hop: hop.workload,
        received: loads,
      });
      expect({ hop: hop.workload, plaintext: after[i]?.plaintext }).toEqual({
        hop: hop.workload,
        plaintext: before[i]?.plaintext,
      });
    });
  }, 60_000);

  it('weft describe shows productpage STRICT; plaintext and TLS without a mesh certificate are refused', async () => {
    const description = await weft('describe', 'workload', 'productpage-v1');
    expect(description).toMatch(/^mTLS: +STRICT from PeerAuthentication\/default\/default$/m);
    const port = /^Ports: +9080→(\d+)$/m.exec(description)?.[1];
    expect(port).toMatch(/^\d+$/);
    // No HTTP answer at all: the connection is closed (reset, if the request was still being written).
    expect(await runOneLiner(PLAINTEXT_CALL, port ?? '')).toMatch(
      /^refused: (other side closed|read ECONNRESET)$/,
    );
    // The TLS handshake needs a client certificate of the mesh: TLS 1.3 says so with an alert.
    expect(await runOneLiner(TLS_WITHOUT_CERTIFICATE, port ?? '')).toMatch(
      /^refused: (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/,
    );
    // The mesh's own callers are unaffected.
    expect((await loadProductPage(bookinfo.productPageUrl)).status).toBe(200);
  }, 60_000);
});

describe("authorization (Istio's Authorization for HTTP traffic task)", () => {
  it('allow-nothing: the page is "RBAC: access denied" (HTTP 403)', async () => {
    await bookinfo.apply('from-docs/authz-allow-nothing.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(403);
    expect(page.html).toBe('RBAC: access denied');
  });

  it('productpage-viewer: the page loads, with errors fetching product details and reviews', async () => {
    await bookinfo.apply('from-docs/authz-productpage-viewer.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.html).toContain('The Comedy of Errors');
    expect(page.html).toContain(DETAILS_ERROR);
    expect(page.html).toContain(DETAILS_UNAVAILABLE);
    expect(page.html).toContain(REVIEWS_ERROR);
    expect(page.html).toContain(REVIEWS_UNAVAILABLE);
  });

  it('details-viewer and reviews-viewer: details and reviews show, and ratings is unavailable', async () => {
    await bookinfo.apply('from-docs/authz-details-viewer.yaml');
    await bookinfo.apply('from-docs/authz-reviews-viewer.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<dt>ISBN-10:</dt><dd>1234567890</dd>');
    expect(page.html).toContain('Reviewer1');
    expect(page.html).not.toContain(DETAILS_ERROR);
    expect(page.html).not.toContain(REVIEWS_ERROR);
    expect(page.html.split(RATINGS_UNAVAILABLE)).toHaveLength(3);
    expect(page.starColors).toEqual([]);
  });

  it('ratings-viewer: the stars are back', async () => {
    await bookinfo.apply('from-docs/authz-ratings-viewer.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.starColors).toEqual(['red', 'red']);
    expect(page.html).not.toContain(RATINGS_UNAVAILABLE);
  });

  it('deleting the five policies leaves none, and the page as before', async () => {
    for (const name of [
      'allow-nothing',
      'productpage-viewer',
      'details-viewer',
      'reviews-viewer',
      'ratings-viewer',
    ])
      await bookinfo.delete({ kind: 'AuthorizationPolicy', namespace: 'default', name });
    expect(await weft('get', 'authorizationpolicy')).toBe(
      'No AuthorizationPolicy resources found in namespace default.\n',
    );
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.starColors).toEqual(['red', 'red']);
  }, 60_000);
});
