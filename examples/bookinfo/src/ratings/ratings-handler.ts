/** ratings: the stars each reviewer gave a product, as JSON, for `GET /ratings/<id>`. */
import type { RequestListener } from 'node:http';
import { productIdIn, sendJson } from '../service-runtime/responses.ts';

/** What both reviewers gave every product: Istio's ratings v1 answers the same for any id. */
export const RATINGS = { Reviewer1: 5, Reviewer2: 4 } as const;

export function createRatingsHandler(): RequestListener {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://ratings').pathname;
    if (path === '/health') return sendJson(response, 200, { status: 'Ratings is healthy' });
    const id = productIdIn(path, 'ratings');
    if (request.method !== 'GET' || id === undefined) return sendJson(response, 404, { error: 'not found' });
    sendJson(response, 200, { id, ratings: RATINGS });
  };
}
