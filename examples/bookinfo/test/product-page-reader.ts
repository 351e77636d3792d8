/**
 * How the tests read Bookinfo as a browser would, through the ingress gateway: sign in (the
 * `user` cookie), load the product page, and see its stars and messages.
 */
export interface PageView {
  readonly status: number;
  readonly html: string;
  readonly elapsedMs: number;
  /** The colour of every star rating on the page, in order ([] when reviews shows none). */
  readonly starColors: readonly string[];
}

export async function signIn(gatewayUrl: string, user: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, passwd: 'password' }).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  const cookie = response.headers.get('set-cookie');
  if (response.status !== 302 || cookie === null) throw new Error(`login answered ${response.status}`);
  return cookie.split(';')[0] ?? '';
}

export async function loadProductPage(productPageUrl: string, cookie?: string): Promise<PageView> {
  const started = performance.now();
  const response = await fetch(productPageUrl, {
    headers: cookie === undefined ? {} : { cookie },
    signal: AbortSignal.timeout(20_000),
  });
  const html = await response.text();
  return {
    status: response.status,
    html,
    elapsedMs: performance.now() - started,
    starColors: [...html.matchAll(/data-star-color="([a-z]+)"/g)].map((match) => match[1] ?? ''),
  };
}
