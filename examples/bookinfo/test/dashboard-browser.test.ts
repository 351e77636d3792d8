/**
 * The agent's dashboard in a real browser against a running Bookinfo: Debian's chromium, headless,
 * driven by playwright-core, every process on 127.0.0.1. The graph shows the gateway, productpage,
 * reviews and ratings with the traffic the test made; after virtual-service-reviews-v3.yaml the
 * reviews v3 edge carries all of it; a caller from outside the mesh (a plain fetch straight to
 * productpage) shows as the `unknown` node; a client that refuses a revision shows NACKED with its reason.
 * Screenshots go to test-artifacts/ (gitignored).
 *
 * Chromium: /usr/bin/chromium. When it is missing the test installs it (`apt-get install -y
 * chromium`) if it runs as root, and is skipped with the reason otherwise. `.ci/run` installs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bookinfo, startBookinfo } from '../src/launcher/bookinfo-launcher.ts';
import { loadProductPage } from './product-page-reader.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const PRODUCTPAGE = 'svc:productpage.default.svc.cluster.local:v1';
const REVIEWS = 'svc:reviews.default.svc.cluster.local:';
const RATINGS = 'svc:ratings.default.svc.cluster.local:v1';
/** The gateway registers as its Service, as Istio's does, so it is that service's node (any version). */
const GATEWAY = 'svc:istio-ingressgateway.istio-system.svc.cluster.local:';
/** Callers nobody can name: reported by the service they called (PROTOCOL.md §3.8.2). */
const UNKNOWN = 'unknown';
/** Clients report every 5 s and the page refreshes every 2 s: a new count shows within ~8 s. */
const SHOWS_WITHIN_MS = 15_000;

/** Why the browser cannot run here, or undefined when /usr/bin/chromium is there (installed if need be). */
function chromiumUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() !== 0)
    return `${CHROMIUM} is missing and this is not root, so it cannot be installed (apt-get install -y chromium)`;
  const apt = (args: readonly string[]): void => {
    execFileSync('apt-get', args, {
      stdio: 'ignore',
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  try {
    try {
      apt(['install', '-y', '-qq', 'chromium']);
    } catch {
      // The package lists may be missing or stale: refresh them once.
      apt(['update', '-qq']);
      apt(['install', '-y', '-qq', 'chromium']);
    }
  } catch (error) {
    return `installing chromium failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  return existsSync(CHROMIUM) ? undefined : `apt-get installed no ${CHROMIUM}`;
}

const unavailable = chromiumUnavailable();
if (unavailable !== undefined) process.stderr.write(`dashboard-browser.test.ts skipped: ${unavailable}\n`);

let bookinfo: Bookinfo;
let profile: string;
let context: BrowserContext;
let page: Page;
let probe: AbortController | undefined;

describe.skipIf(unavailable !== undefined)('the dashboard in chromium, against Bookinfo', () => {
  beforeAll(async () => {
    [bookinfo, profile] = await Promise.all([
      startBookinfo(),
      mkdtemp(join(tmpdir(), 'weft-dashboard-chromium-')),
      mkdir(ARTIFACTS, { recursive: true }),
    ]);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
      timeout: 20_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(SHOWS_WITHIN_MS);
  }, 60_000);

  afterAll(async () => {
    probe?.abort();
    await context?.close();
    await bookinfo?.close();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  }, 30_000);

  it('shows gateway → productpage → reviews → ratings with the traffic made', async () => {
    const loads = 12;
    for (let i = 0; i < loads; i++) expect((await loadProductPage(bookinfo.productPageUrl)).status).toBe(200);
    await page.goto(`${bookinfo.agentUrl}/dashboard`);
    await page.locator('#live.live').waitFor();
    // Every load is one request gateway → productpage and one productpage → reviews (v1, v2 or v3).
    await waitForRequests(GATEWAY, PRODUCTPAGE, loads);
    await waitForRequests(PRODUCTPAGE, REVIEWS, loads);
    // v2 and v3 call ratings; with 12 loads spread over three versions, some did.
    await page.locator(`g.edge[data-to="${RATINGS}"][data-from^="${REVIEWS}"]`).first().waitFor();
    const reviewsNodes = await page.locator(`g.node[data-node-id^="${REVIEWS}"]`).count();
    expect(reviewsNodes).toBe(3);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1-graph.png'), fullPage: true });
  }, 45_000);

  it('after virtual-service-reviews-v3.yaml, the reviews v3 edge carries the traffic', async () => {
    const before = await requestsByTarget(PRODUCTPAGE, REVIEWS);
    await bookinfo.apply('virtual-service-reviews-v3.yaml');
    const loads = 10;
    for (let i = 0; i < loads; i++) {
      const view = await loadProductPage(bookinfo.productPageUrl);
      expect(view.starColors).toEqual(['red', 'red']);
    }
    const v3 = `${REVIEWS}v3`;
    await page.waitForFunction(
      ([from, to, expected]) => {
        const edge = (globalThis as unknown as PageGlobals).document.querySelector(
          `g.edge[data-from="${from}"][data-to="${to}"]`,
        );
        return edge !== null && Number(edge.getAttribute('data-requests')) >= Number(expected);
      },
      [PRODUCTPAGE, v3, (before[v3] ?? 0) + loads] as const,
      { timeout: SHOWS_WITHIN_MS },
    );
    const after = await requestsByTarget(PRODUCTPAGE, REVIEWS);
    // All the new requests went to v3, through the route's v3 subset; v1 and v2 got none.
    expect(after[v3]).toBe((before[v3] ?? 0) + loads);
    expect(after[`${REVIEWS}v1`] ?? 0).toBe(before[`${REVIEWS}v1`] ?? 0);
    expect(after[`${REVIEWS}v2`] ?? 0).toBe(before[`${REVIEWS}v2`] ?? 0);
    const subsets = await page
      .locator(`g.edge[data-from="${PRODUCTPAGE}"][data-to="${v3}"]`)
      .getAttribute('data-subsets');
    expect(subsets?.split(',')).toContain('v3');
    // The service's detail shows the VirtualService as applied.
    await page.locator(`g.node[data-node-id="${v3}"]`).click();
    await page
      .locator('#detail[data-host="reviews.default.svc.cluster.local"] pre.spec', {
        hasText: '"subset": "v3"',
      })
      .first()
      .waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-2-reviews-v3.png'), fullPage: true });
  }, 45_000);

  it('shows calls from outside the mesh, straight to productpage, from the unknown node', async () => {
    const listed = (await (await fetch(`${bookinfo.agentUrl}/v1/workloads`)).json()) as {
      items: { name: string; address: string; ports: Record<string, number> }[];
    };
    const productpage = listed.items.find((workload) => workload.name === 'productpage-v1');
    const port = productpage?.ports['9080'];
    expect(port).toBeDefined();
    const calls = 3;
    // Not through the gateway, and not from a meshed client: nobody but productpage counts these.
    for (let i = 0; i < calls; i++) {
      const response = await fetch(`http://${productpage?.address}:${port}/health`, {
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
    }
    await page.locator(`g.node[data-node-id="${UNKNOWN}"]`).waitFor();
    await waitForRequests(UNKNOWN, PRODUCTPAGE, calls);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-3-unknown-caller.png'), fullPage: true });
  }, 30_000);

  it('shows a NACKed revision on the workload that refused it, with the reason', async () => {
    const reason =
      'VirtualService/default/reviews spec.http[0].route[0].destination.subset: subset "v3" refused by this canary build';
    probe = new AbortController();
    await nackCurrentRevision(bookinfo, 'ratings-v2-canary', reason, probe.signal);
    const row = page.locator('tr[data-client-id="ratings-v2-canary"][data-status="NACKED"]');
    await row.waitFor();
    expect(await row.locator('td.error').textContent()).toBe(reason);
    expect(await row.locator('td.status').textContent()).toBe('NACKED');
    // It serves nothing from the agent: no revision was ever acked.
    expect(await row.locator('td').nth(4).textContent()).toMatch(/^refused \d+, serving -$/);
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-4-nack.png'), fullPage: true });
  }, 30_000);
});

/**
 * What the functions run in the page read of it (this project's types have no DOM): they run in
 * chromium, where `globalThis.document` is the dashboard.
 */
interface PageGlobals {
  readonly document: {
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>;
  };
}

/** Waits until the edges from nodes starting with `from` to nodes starting with `toPrefix` add up to `requests`. */
async function waitForRequests(from: string, toPrefix: string, requests: number): Promise<void> {
  await page.waitForFunction(
    ([source, prefix, expected]) => {
      let sum = 0;
      for (const edge of (globalThis as unknown as PageGlobals).document.querySelectorAll(
        `g.edge[data-from^="${source}"][data-to^="${prefix}"]`,
      ))
        sum += Number(edge.getAttribute('data-requests'));
      return sum === Number(expected);
    },
    [from, toPrefix, requests] as const,
    { timeout: SHOWS_WITHIN_MS },
  );
}

/** Requests per target node of the edges from `from` to nodes starting with `toPrefix`, as drawn. */
async function requestsByTarget(from: string, toPrefix: string): Promise<Record<string, number>> {
  return page.evaluate(
    ([source, prefix]) => {
      const counts: Record<string, number> = {};
      for (const edge of (globalThis as unknown as PageGlobals).document.querySelectorAll(
        `g.edge[data-from="${source}"][data-to^="${prefix}"]`,
      ))
        counts[edge.getAttribute('data-to') ?? ''] = Number(edge.getAttribute('data-requests'));
      return counts;
    },
    [from, toPrefix] as const,
  );
}

/**
 * A client that refuses what it is sent, as a workload of another build would refuse a field its
 * validator does not accept: it opens a watch (PROTOCOL.md §3), reads the first frame and reports
 * a NACK for its revision with the stream's token. The stream stays open until `signal` aborts.
 */
async function nackCurrentRevision(
  { agentUrl, adminToken }: Pick<Bookinfo, 'agentUrl' | 'adminToken'>,
  clientId: string,
  reason: string,
  signal: AbortSignal,
): Promise<void> {
  const query = new URLSearchParams({
    clientId,
    namespace: 'default',
    workload: clientId,
    protocolVersion: '1',
  });
  // The watch needs a credential (PROTOCOL.md §3.1): this stand-in client has the admin token.
  const response = await fetch(`${agentUrl}/v1/watch?${query}`, {
    signal,
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(response.status).toBe(200);
  const token = response.headers.get('x-weft-stream-token') ?? '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('\n')) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error('the watch ended before its first frame');
    text += decoder.decode(chunk.value, { stream: true });
  }
  const { mark } = JSON.parse(text.slice(0, text.indexOf('\n'))) as { mark: unknown };
  // Keep reading so that the agent never counts this client as stalled.
  void (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // aborted at the end of the test
    }
  })();
  const answer = await fetch(`${agentUrl}/v1/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-weft-stream-token': token },
    body: JSON.stringify({ clientId, mark, status: 'nack', error: reason }),
    signal: AbortSignal.timeout(5_000),
  });
  expect(answer.status).toBe(200);
  await answer.body?.cancel();
}
