/**
 * How an attempt tells the channel's balancer which endpoint the mesh chose for it (with the
 * transport its cluster asks for: a connection id, see endpoint-transport.ts).
 *
 * The interceptor picks the endpoint (route → subset → @weft/core's balancer, with outlier
 * ejections, hashing and retry host exclusion); the `weft_endpoints` picker only maps that choice
 * to the endpoint's subchannel. grpc-js gives a picker nothing per call but the call's metadata,
 * so the choice rides there under this key, and the picker removes it from the metadata it is
 * given — the copy grpc-js sends — so it never reaches the upstream.
 */
export const ENDPOINT_HINT_METADATA = 'x-weft-internal-endpoint';

/**
 * Marks a status the picker made, not an upstream: the attempt then failed before any byte left
 * the process, which the retry layer treats as a connect failure.
 */
export const PICK_FAILURE_METADATA = 'x-weft-internal-pick-failure';

export type PickFailure = 'connect-failure' | 'tls-auth-failure' | 'unknown-endpoint' | 'no-endpoint-hint';
