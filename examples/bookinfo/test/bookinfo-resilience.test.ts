/**
 * Istio's resilience tasks on Bookinfo, end to end with every process real, in the order of the
 * README's "Request timeouts", "Circuit breaking" and "Mirroring": request timeouts as Istio's
 * task page gives them (istio/from-docs/), circuit breaking and mirroring as Weft's adaptations of
 * Istio's httpbin tasks (istio/tasks/). What the reader runs besides `weft apply` (the `node -e`
 * one-liners) runs here as written in the README.
 */
import { describe, expect, it } from 'vitest';
import type { Bookinfo } from '../src/launcher/bookinfo-launcher.ts';
import { REVIEWS_ERROR, REVIEWS_UNAVAILABLE } from '../src/productpage/product-page-html.ts';
import { startBookinfoPerFile } from './bookinfo-per-file.ts';
import { loadProductPage } from './product-page-reader.ts';
import { parseExposition, sumWhere } from './prometheus-text.ts';
import { CONCURRENT_LOADS, REQUESTS_RECEIVED, runOneLiner } from './reader-one-liners.ts';

let bookinfo: Bookinfo;
startBookinfoPerFile((started) => {
  bookinfo = started;
});

/** How many of one workload's istio_requests_total match `labels`, as its Prometheus endpoint says now. */
async function requestCount(workload: string, labels: Readonly<Record<string, string>>): Promise<number> {
  const url = bookinfo.metricsUrls[workload];
  if (url === undefined) throw new Error(`${workload} announced no metrics endpoint`);
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return sumWhere(parseExposition(await response.text()), 'istio_requests_total', labels);
}

/** Polls `read` until `isEnough` holds (metrics of a request are recorded as it ends); throws after a bound. */
async function eventually(
  read: () => Promise<number>,
  isEnough: (value: number) => boolean,
): Promise<number> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (!isEnough(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

describe('request timeouts (Istio task page, istio/from-docs/)', () => {
  it('reviews v2 with ratings delayed 2 s: black stars, and the page takes about 2 s', async () => {
    await bookinfo.apply('virtual-service-all-v1.yaml');
    await bookinfo.apply('from-docs/request-timeouts-delay.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.starColors).toEqual(['black', 'black']);
    expect(page.elapsedMs).toBeGreaterThan(1_800);
    expect(page.elapsedMs).toBeLessThan(6_000);
  }, 20_000);

  it('a 0.5 s timeout on reviews: the page returns in about 1 s, reviews unavailable', async () => {
    await bookinfo.apply('from-docs/request-timeouts-timeout.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.html).toContain(REVIEWS_ERROR);
    expect(page.html).toContain(REVIEWS_UNAVAILABLE);
    expect(page.starColors).toEqual([]);
    // productpage tries reviews twice, and the mesh ends each attempt after 0.5 s.
    expect(page.elapsedMs).toBeGreaterThan(900);
    expect(page.elapsedMs).toBeLessThan(4_000);
  }, 20_000);

  it('virtual-service-all-v1.yaml takes the delay and the timeout away again', async () => {
    await bookinfo.apply('virtual-service-all-v1.yaml');
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.html).toContain('Reviews served by: <b>reviews-v1</b>');
    expect(page.elapsedMs).toBeLessThan(1_500);
  });
});

describe('circuit breaking (Weft adaptation, istio/tasks/)', () => {
  it('with one connection and one pending request to productpage, 20 concurrent loads get 503s flagged UO', async () => {
    await bookinfo.apply('tasks/destination-rule-productpage-circuit-breaker.yaml');
    const overflowBefore = await requestCount('istio-ingressgateway', {
      reporter: 'source',
      response_code: '503',
      response_flags: 'UO',
    });
    // One round is 20 requests sent together: the gateway admits one and queues one, unless the
    // machine is so slow that they arrive one after another. A few rounds make that moot.
    let counts: Record<string, number> = {};
    for (let round = 0; round < 5 && counts['503 UO'] === undefined; round++) {
      counts = JSON.parse(await runOneLiner(CONCURRENT_LOADS, bookinfo.productPageUrl)) as Record<
        string,
        number
      >;
      // Every answer is the page, or the gateway's overflow: nothing else.
      expect(Object.keys(counts).filter((outcome) => outcome !== '200 -' && outcome !== '503 UO')).toEqual(
        [],
      );
      expect(counts['200 -']).toBeGreaterThanOrEqual(1);
    }
    const overflowed = counts['503 UO'] ?? 0;
    expect(overflowed).toBeGreaterThanOrEqual(1);
    // The gateway's own metrics say the same: 503s with response_flags UO.
    const overflowAfter = await eventually(
      () =>
        requestCount('istio-ingressgateway', {
          reporter: 'source',
          response_code: '503',
          response_flags: 'UO',
        }),
      (value) => value >= overflowBefore + overflowed,
    );
    expect(overflowAfter).toBeGreaterThanOrEqual(overflowBefore + overflowed);
  }, 60_000);

  it('destination-rule-all.yaml lifts the limits: all 20 concurrent loads succeed', async () => {
    await bookinfo.apply('destination-rule-all.yaml');
    expect(JSON.parse(await runOneLiner(CONCURRENT_LOADS, bookinfo.productPageUrl))).toEqual({ '200 -': 20 });
  }, 30_000);
});

describe('mirroring (Weft adaptation, istio/tasks/)', () => {
  it('reviews to v1, mirrored to v2: the page shows v1 while v2 receives a copy of every request', async () => {
    const metrics = bookinfo.metricsUrls['reviews-v2'] ?? '';
    const received = async (): Promise<number> =>
      Number(
        /^received (\d+) requests$/.exec(await runOneLiner(REQUESTS_RECEIVED, metrics))?.[1] ?? Number.NaN,
      );
    await bookinfo.apply('tasks/virtual-service-reviews-v1-mirror-v2.yaml');
    const before = await received();
    expect(before).toBeGreaterThanOrEqual(0);
    const loads = 5;
    for (let i = 0; i < loads; i++) {
      const page = await loadProductPage(bookinfo.productPageUrl);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Reviews served by: <b>reviews-v1</b>');
      expect(page.starColors).toEqual([]);
    }
    // The copies are fire-and-forget: they may land a moment after the pages.
    const after = await eventually(received, (value) => value >= before + loads);
    expect(after).toBe(before + loads);
  }, 60_000);
});
