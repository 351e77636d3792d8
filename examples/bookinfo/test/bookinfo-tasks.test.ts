/**
 * Istio's Bookinfo tasks, end to end with every process real: the agent, the six Bookinfo
 * workloads and the ingress gateway, each started by the launcher that `npm start` uses. Each
 * step applies one of Istio's sample YAMLs and checks what Istio's documentation says the reader
 * sees on the product page, fetched through the gateway. The steps build on each other, in the
 * order of examples/bookinfo/README.md.
 */
import { describe, expect, it } from 'vitest';
import type { Bookinfo } from '../src/launcher/bookinfo-launcher.ts';
import { REVIEWS_UNAVAILABLE } from '../src/productpage/product-page-html.ts';
import { RATINGS_UNAVAILABLE } from '../src/reviews/reviews-handler.ts';
import { startBookinfoPerFile } from './bookinfo-per-file.ts';
import { loadProductPage, signIn } from './product-page-reader.ts';

let bookinfo: Bookinfo;
startBookinfoPerFile((started) => {
  bookinfo = started;
});

describe('Bookinfo on Weft, through the ingress gateway', () => {
  it('serves the product page with the book, its details and its reviews', async () => {
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.html).toContain('The Comedy of Errors');
    expect(page.html).toContain('<dt>ISBN-10:</dt><dd>1234567890</dd>');
    expect(page.html).toContain('Reviewer1');
  });

  it('refuses paths that bookinfo-gateway.yaml does not route', async () => {
    const response = await fetch(`${bookinfo.gatewayUrl}/admin`, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    expect(response.status).toBe(404);
  });

  it('with no VirtualService, loads go to reviews v1, v2 and v3: no stars, black or red', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const page = await loadProductPage(bookinfo.productPageUrl);
      expect([[], ['black', 'black'], ['red', 'red']]).toContainEqual(page.starColors);
      seen.add(page.starColors.join(','));
    }
    // Three endpoints, 30 loads: all on one version would mean reviews is not balanced at all.
    expect(seen.size).toBeGreaterThan(1);
  });

  it('request routing: virtual-service-all-v1.yaml never shows stars', async () => {
    await bookinfo.apply('virtual-service-all-v1.yaml');
    for (let i = 0; i < 10; i++) {
      const page = await loadProductPage(bookinfo.productPageUrl);
      expect(page.status).toBe(200);
      expect(page.starColors).toEqual([]);
      expect(page.html).toContain('Reviews served by: <b>reviews-v1</b>');
    }
  });
  it('request routing by user: virtual-service-reviews-test-v2.yaml shows jason black stars, others none', async () => {
    await bookinfo.apply('virtual-service-reviews-test-v2.yaml');
    const jason = await signIn(bookinfo.gatewayUrl, 'jason');
    const someoneElse = await signIn(bookinfo.gatewayUrl, 'alice');
    for (let i = 0; i < 5; i++) {
      const asJason = await loadProductPage(bookinfo.productPageUrl, jason);
      expect(asJason.html).toContain('Signed in as <b>jason</b>');
      expect(asJason.starColors).toEqual(['black', 'black']);
      expect((await loadProductPage(bookinfo.productPageUrl, someoneElse)).starColors).toEqual([]);
      expect((await loadProductPage(bookinfo.productPageUrl)).starColors).toEqual([]);
    }
  });
  it('traffic shifting: virtual-service-reviews-50-v3.yaml shows red stars on about half the loads', async () => {
    await bookinfo.apply('virtual-service-all-v1.yaml');
    await bookinfo.apply('virtual-service-reviews-50-v3.yaml');
    const loads = 100;
    let red = 0;
    for (let i = 0; i < loads; i++) {
      const page = await loadProductPage(bookinfo.productPageUrl);
      // Each load is v1 (no stars) or v3 (red): nothing else.
      expect([[], ['red', 'red']]).toContainEqual(page.starColors);
      if (page.starColors.length > 0) red++;
    }
    // Binomial(100, 0.5): mean 50, σ 5; 25..75 is ±5σ (a false failure about once in 1.7 million runs).
    expect(red).toBeGreaterThanOrEqual(25);
    expect(red).toBeLessThanOrEqual(75);
  });

  it('traffic shifting: virtual-service-reviews-v3.yaml always shows red stars', async () => {
    await bookinfo.apply('virtual-service-reviews-v3.yaml');
    for (let i = 0; i < 10; i++) {
      const page = await loadProductPage(bookinfo.productPageUrl);
      expect(page.starColors).toEqual(['red', 'red']);
    }
  });
  it('fault injection: a 7 s delay on ratings for jason makes the page take about 6 s with reviews unavailable', async () => {
    await bookinfo.apply('virtual-service-all-v1.yaml');
    await bookinfo.apply('virtual-service-reviews-test-v2.yaml');
    await bookinfo.apply('virtual-service-ratings-test-delay.yaml');
    const jason = await signIn(bookinfo.gatewayUrl, 'jason');
    const page = await loadProductPage(bookinfo.productPageUrl, jason);
    // productpage gives reviews 3 s and 2 attempts; reviews v2 waits up to 10 s for ratings.
    expect(page.status).toBe(200);
    expect(page.html).toContain(REVIEWS_UNAVAILABLE);
    expect(page.elapsedMs).toBeGreaterThan(5_500);
    expect(page.elapsedMs).toBeLessThan(12_000);
    // Everyone else goes to reviews v1, which never calls ratings.
    const anonymous = await loadProductPage(bookinfo.productPageUrl);
    expect(anonymous.html).not.toContain(REVIEWS_UNAVAILABLE);
    expect(anonymous.elapsedMs).toBeLessThan(2_000);
  }, 30_000);

  it('fault injection: an HTTP 500 from ratings for jason shows "Ratings service is currently unavailable"', async () => {
    await bookinfo.apply('virtual-service-ratings-test-abort.yaml');
    const jason = await signIn(bookinfo.gatewayUrl, 'jason');
    const page = await loadProductPage(bookinfo.productPageUrl, jason);
    expect(page.html).toContain(RATINGS_UNAVAILABLE);
    expect(page.starColors).toEqual([]);
    expect(page.elapsedMs).toBeLessThan(2_500);
    const anonymous = await loadProductPage(bookinfo.productPageUrl);
    expect(anonymous.html).not.toContain(RATINGS_UNAVAILABLE);
    expect(anonymous.html).toContain('Reviewer1');
  });
});
