import type { Random } from '../randomness/random.ts';
import { CumulativeWeights } from './cumulative-weights.ts';
import { EMPTY_PICKER, type LbEndpoint, type PickContext, type Picker } from './load-balancer.ts';

/** One priority level: its share of requests and its localities' pickers, by effective weight. */
export interface PriorityLevel {
  /** Percentage of requests (Envoy's priority load), 0–100. */
  readonly load: number;
  readonly localityWeights: readonly number[];
  readonly pickers: readonly Picker[];
}

interface BuiltLevel {
  readonly localities: CumulativeWeights;
  readonly pickers: readonly Picker[];
}

/** 2^32 and 2^21: the high 21 bits of a 53-bit hash, as a fraction. */
const TWO_POW_32 = 4_294_967_296;
const TWO_POW_21 = 2_097_152;

/**
 * Envoy's two-stage choice: a priority by priority load, then a locality by effective weight,
 * then the locality's own picker. With a request hash the stages are deterministic, as in Envoy
 * (priority from hash mod 100; locality from the hash's high bits), so a key keeps its endpoint
 * while the health picture is stable. Built per update; a pick allocates nothing.
 */
export class GroupedPicker implements Picker {
  readonly #priorities: CumulativeWeights;
  readonly #levels: readonly BuiltLevel[];
  readonly #random: Random;

  constructor(levels: readonly PriorityLevel[], random: Random) {
    this.#priorities = new CumulativeWeights(levels.map((level) => level.load));
    this.#levels = levels.map((level) => ({
      localities: new CumulativeWeights(level.localityWeights),
      pickers: level.pickers,
    }));
    this.#random = random;
  }

  pick(context?: PickContext): LbEndpoint | undefined {
    const hash = context?.hash;
    const priorityDraw = hash === undefined ? this.#random.next() : (hash % 100) / 100;
    const level = this.#levels[this.#priorities.index(priorityDraw)];
    if (level === undefined) return undefined;
    const { pickers } = level;
    if (pickers.length === 1) return (pickers[0] as Picker).pick(context);
    const localityDraw =
      hash === undefined ? this.#random.next() : Math.floor(hash / TWO_POW_32) / TWO_POW_21;
    return pickers[level.localities.index(localityDraw)]?.pick(context);
  }
}

/**
 * The picker for a set of priority levels: nothing when no level can serve, the one locality's
 * own picker when only one can (no extra hop on the common path), a GroupedPicker otherwise.
 */
export function pickerForLevels(levels: readonly PriorityLevel[], random: Random): Picker {
  const serving = levels.filter((level) => level.load > 0 && level.pickers.length > 0);
  const [only] = serving;
  if (only === undefined) return EMPTY_PICKER;
  if (serving.length === 1 && only.pickers.length === 1) return only.pickers[0] as Picker;
  return new GroupedPicker(levels, random);
}
