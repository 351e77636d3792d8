/**
 * What tells reviews v1, v2 and v3 apart (one source, the version chosen by argument), as in
 * Istio's sample: v1 never calls ratings; v2 shows black stars and waits 10 s for ratings; v3
 * shows red stars and waits 2.5 s.
 */
export type ReviewsVersion = 'v1' | 'v2' | 'v3';

export interface ReviewsBehaviour {
  /** Colour of the stars, or undefined: this version does not show ratings at all. */
  readonly starColor: 'black' | 'red' | undefined;
  readonly ratingsTimeoutMs: number;
}

export const REVIEWS_VERSIONS: Readonly<Record<ReviewsVersion, ReviewsBehaviour>> = {
  v1: { starColor: undefined, ratingsTimeoutMs: 0 },
  v2: { starColor: 'black', ratingsTimeoutMs: 10_000 },
  v3: { starColor: 'red', ratingsTimeoutMs: 2_500 },
};

export function isReviewsVersion(value: string | undefined): value is ReviewsVersion {
  return value === 'v1' || value === 'v2' || value === 'v3';
}
