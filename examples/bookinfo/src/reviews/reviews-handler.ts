/**
 * reviews: two reviews of a product, as JSON, for `GET /reviews/<id>`; v2 and v3 add each
 * reviewer's stars, read from ratings through the mesh.
 */
import type { RequestListener } from 'node:http';
import type { Mesh } from '@weft/core';
import { createMeshFetch } from '@weft/http';
import { productIdIn, sendJson } from '../service-runtime/responses.ts';
import { REVIEWS_VERSIONS, type ReviewsVersion } from './reviews-versions.ts';

/** What reviews shows instead of stars when ratings fails, as Istio's sample does. */
export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

const REVIEWS = [
  {
    reviewer: 'Reviewer1',
    text: 'A comedy of errors that still lands every joke; the twins steal every scene.',
  },
  { reviewer: 'Reviewer2', text: 'Great fun on stage, lighter on the page than the later plays.' },
] as const;

export interface Rating {
  readonly stars?: number;
  readonly color?: string;
  readonly error?: string;
}

export interface ProductReviews {
  readonly id: number;
  readonly podname: string;
  readonly reviews: readonly { readonly reviewer: string; readonly text: string; readonly rating?: Rating }[];
}

export function createReviewsHandler(mesh: Mesh, version: ReviewsVersion): RequestListener {
  const behaviour = REVIEWS_VERSIONS[version];
  const meshFetch = createMeshFetch(mesh);
  const readRatings = async (id: number): Promise<Readonly<Record<string, number>> | undefined> => {
    try {
      // No header is copied: the mesh carries this request's end-user (which the ratings routes
      // match on), request id and trace to ratings by itself.
      const response = await meshFetch(`http://ratings:9080/ratings/${id}`, {
        signal: AbortSignal.timeout(behaviour.ratingsTimeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return undefined;
      }
      const body = (await response.json()) as { ratings?: Record<string, number> };
      return body.ratings;
    } catch {
      // A timeout, a reset or an injected fault all look the same to a reader: no stars.
      return undefined;
    }
  };
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://reviews').pathname;
    if (path === '/health') return sendJson(response, 200, { status: 'Reviews is healthy' });
    const id = productIdIn(path, 'reviews');
    if (request.method !== 'GET' || id === undefined) return sendJson(response, 404, { error: 'not found' });
    const color = behaviour.starColor;
    if (color === undefined) {
      sendJson(response, 200, { id, podname: mesh.workload.name, reviews: REVIEWS });
      return;
    }
    void readRatings(id).then((ratings) => {
      const reviews = REVIEWS.map((review) => {
        const stars = ratings?.[review.reviewer];
        const rating: Rating = stars === undefined ? { error: RATINGS_UNAVAILABLE } : { stars, color };
        return { ...review, rating };
      });
      sendJson(response, 200, { id, podname: mesh.workload.name, reviews } satisfies ProductReviews);
    });
  };
}
