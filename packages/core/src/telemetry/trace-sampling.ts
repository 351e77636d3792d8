import { isSpanContextValid, type SpanContext, TraceFlags } from '@opentelemetry/api';
import type { Random } from '../randomness/random.ts';

/**
 * Istio's randomSamplingPercentage: it decides only for requests that arrive with no sampling
 * decision (no parent context); a request that carries one keeps it, as Envoy keeps an incoming
 * x-b3-sampled or traceparent flag. Without the setting Weft does not decide at all and the
 * application's SDK sampler does.
 */
export function isSampledOut(
  parent: SpanContext | undefined,
  samplingPercentage: number | undefined,
  random: Random,
): boolean {
  if (samplingPercentage === undefined) return false;
  if (parent !== undefined && isSpanContextValid(parent)) return false;
  return random.next() * 100 >= samplingPercentage;
}

/**
 * The context of a root request that was sampled out: new, valid ids with the sampled flag off,
 * so every hop after this one also knows not to sample it.
 */
export function unsampledRootContext(random: Random): SpanContext {
  return {
    traceId: randomHex(random, 4),
    spanId: randomHex(random, 2),
    traceFlags: TraceFlags.NONE,
  };
}

/** `words` 32-bit words of hex; never all zeros (an all-zero id is invalid). */
function randomHex(random: Random, words: number): string {
  let hex = '';
  for (let i = 0; i < words; i++) {
    const word = Math.floor(random.next() * 0x1_0000_0000) >>> 0;
    hex += word.toString(16).padStart(8, '0');
  }
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}
