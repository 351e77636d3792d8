/** 2^32, to combine two 32-bit lanes into one number. */
const TWO_POW_32 = 4_294_967_296;

/** Number of distinct hash values: 2^53, so every hash is an exact integer in a double. */
export const HASH_SPACE = 2 ** 53;

/** Murmur3's 32-bit finalizer: every input bit flips each output bit with probability ≈ 1/2. */
function avalanche(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A fast non-cryptographic 53-bit string hash, in [0, 2^53). Two 32-bit lanes walk the UTF-16
 * code units (an FNV-1a lane and a multiply-xorshift lane), then are cross-mixed and finalized,
 * and 21 + 32 bits are kept so the result is an exact integer (no BigInt on the request path).
 *
 * It only has to agree with itself: every Weft client hashes keys and ring points the same way,
 * so callers that share an endpoint set map a key to the same endpoint. It is not Envoy's
 * xxHash, so a Weft client and an Envoy sidecar do not agree with each other.
 */
export function hashString(text: string, seed = 0): number {
  let first = 0x811c9dc5 ^ seed;
  let second = 0x27d4eb2f ^ Math.imul(seed, 0x9e3779b1);
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    first = Math.imul(first ^ unit, 0x01000193);
    second = Math.imul(second ^ unit, 0x5bd1e995);
    second ^= second >>> 15;
  }
  first = avalanche(first ^ Math.imul(second, 0x85ebca6b) ^ text.length);
  second = avalanche(second ^ Math.imul(first, 0xc2b2ae35));
  return (second >>> 11) * TWO_POW_32 + first;
}

/** A uniform hash for a request that has none (Envoy falls back to a random one too). */
export function randomHash(draw: number): number {
  return Math.floor(draw * HASH_SPACE);
}
