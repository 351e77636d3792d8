/**
 * productpage: the HTML page of a book, assembled from details and reviews, which it calls
 * through the mesh (`http://details:9080`, `http://reviews:9080`). Also the sign-in that sets
 * `end-user`, a small JSON API and the page's stylesheet — every path bookinfo-gateway.yaml
 * routes here.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Mesh } from '@weft/core';
import { createMeshFetch, type MeshFetch } from '@weft/http';
import type { BookDetails } from '../details/details-handler.ts';
import type { ProductReviews } from '../reviews/reviews-handler.ts';
import { productIdIn, sendJson, sendText } from '../service-runtime/responses.ts';
import { PRODUCT, renderProductPage } from './product-page-html.ts';
import { signedInUser, userCookie, validUserName } from './signed-in-user.ts';

/** Istio's productpage: 3 s for details; 3 s per attempt and 2 attempts for reviews. */
const DETAILS_TIMEOUT_MS = 3_000;
const REVIEWS_TIMEOUT_MS = 3_000;
const REVIEWS_ATTEMPTS = 2;
const MAX_LOGIN_BODY_BYTES = 4_096;

const STYLESHEET = 'body { font-family: sans-serif; margin: 2em; } .stars { font-size: 1.5em; }\n';

export function createProductPageHandler(mesh: Mesh): RequestListener {
  const meshFetch = createMeshFetch(mesh);
  return (request, response) => {
    void serve(meshFetch, request, response).catch((error: unknown) => {
      if (!response.headersSent)
        sendText(response, 500, 'text/plain', `productpage failed: ${String(error)}\n`);
      else response.destroy();
    });
  };
}

async function serve(
  meshFetch: MeshFetch,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://productpage').pathname;
  const user = signedInUser(request);
  if (request.method === 'POST' && path === '/login') return login(request, response);
  if (request.method !== 'GET') return sendJson(response, 405, { error: 'method not allowed' });
  if (path === '/health') return sendJson(response, 200, { status: 'Product page is healthy' });
  if (path === '/logout') return redirectToPage(response, undefined);
  if (path === '/static/bookinfo.css') return sendText(response, 200, 'text/css', STYLESHEET);
  if (path === '/' || path === '/productpage') {
    const [details, reviews] = await Promise.all([
      getDetails(meshFetch, PRODUCT.id),
      getReviews(meshFetch, PRODUCT.id, user),
    ]);
    return sendText(response, 200, 'text/html; charset=utf-8', renderProductPage({ user, details, reviews }));
  }
  if (path === '/api/v1/products') return sendJson(response, 200, [PRODUCT]);
  const productId = productIdIn(path, 'api/v1/products');
  if (productId !== undefined) return sendJson(response, 200, await getDetails(meshFetch, productId));
  const reviewsOf = /^\/api\/v1\/products\/(\d{1,9})\/reviews$/.exec(path)?.[1];
  if (reviewsOf !== undefined) {
    const reviews = await getReviews(meshFetch, Number(reviewsOf), user);
    return reviews === undefined
      ? sendJson(response, 503, { error: 'reviews unavailable' })
      : sendJson(response, 200, reviews);
  }
  sendJson(response, 404, { error: 'not found' });
}

async function login(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = '';
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > MAX_LOGIN_BODY_BYTES) return sendJson(response, 413, { error: 'form too large' });
  }
  const user = validUserName(new URLSearchParams(body).get('username'));
  if (user === undefined)
    return sendJson(response, 400, { error: 'a user name is letters, digits, . _ @ -' });
  redirectToPage(response, user);
}

function redirectToPage(response: ServerResponse, user: string | undefined): void {
  response.writeHead(302, { location: '/productpage', 'set-cookie': userCookie(user), 'content-length': 0 });
  response.end();
}

async function getDetails(meshFetch: MeshFetch, id: number): Promise<BookDetails | undefined> {
  return getJson<BookDetails>(meshFetch, `http://details:9080/details/${id}`, {}, DETAILS_TIMEOUT_MS);
}

/**
 * The `end-user` header starts here: productpage is where the user is known (from the sign-in
 * cookie), and the sample routes (virtual-service-reviews-test-v2.yaml) match on it. From reviews
 * on, the mesh carries it, with the request id and the trace, to every call a handler makes.
 */
async function getReviews(
  meshFetch: MeshFetch,
  id: number,
  user: string | undefined,
): Promise<ProductReviews | undefined> {
  const headers: Record<string, string> = user === undefined ? {} : { 'end-user': user };
  for (let attempt = 1; attempt <= REVIEWS_ATTEMPTS; attempt++) {
    const reviews = await getJson<ProductReviews>(
      meshFetch,
      `http://reviews:9080/reviews/${id}`,
      headers,
      REVIEWS_TIMEOUT_MS,
    );
    if (reviews !== undefined) return reviews;
  }
  return undefined;
}

/** The JSON body of a 200, or undefined for any failure: the page then says what is missing. */
async function getJson<T>(
  meshFetch: MeshFetch,
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<T | undefined> {
  try {
    const response = await meshFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    return (await response.json()) as T;
  } catch {
    return undefined;
  }
}
