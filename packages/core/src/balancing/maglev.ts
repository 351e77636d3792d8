import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Random } from '../randomness/random.ts';
import { hashString, randomHash } from './hash-function.ts';
import type { LbEndpoint, LoadBalancerFactory, PickContext, Picker } from './load-balancer.ts';

/** Istio's and Envoy's default Maglev table size (a prime). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
/** Envoy's limit: the table size must be a prime below this. */
export const MAGLEV_TABLE_SIZE_LIMIT = 5_000_011;

/** Seeds of the two independent hashes that place an endpoint in the table (arbitrary, fixed). */
const OFFSET_SEED = 0x6d61676c;
const SKIP_SEED = 0x65762d31;

function isPrime(value: number): boolean {
  if (value < 2) return false;
  if (value % 2 === 0) return value === 2;
  for (let factor = 3; factor * factor <= value; factor += 2) if (value % factor === 0) return false;
  return true;
}

/** Why `tableSize` is not a valid Maglev table size, or undefined when it is. */
export function maglevTableSizeProblem(tableSize: number): string | undefined {
  if (!Number.isSafeInteger(tableSize) || tableSize < 2)
    return `maglev tableSize ${tableSize} must be a prime number, e.g. 65537`;
  if (tableSize >= MAGLEV_TABLE_SIZE_LIMIT)
    return `maglev tableSize must be below ${MAGLEV_TABLE_SIZE_LIMIT}`;
  return isPrime(tableSize) ? undefined : `maglev tableSize ${tableSize} must be a prime number, e.g. 65537`;
}

export interface MaglevTable {
  readonly endpoints: readonly LbEndpoint[];
  /** Slot → index into `endpoints`. */
  readonly slots: Int32Array;
}

/**
 * Maglev's lookup table (Eisenbud et al., NSDI 2016) with Envoy's weighting. Each endpoint has a
 * preference order over the M slots, offset + j·skip (mod M) from two hashes of its key; the
 * endpoints take turns claiming their next free preferred slot until the table is full. With
 * weights, an endpoint takes a turn in round r only once r·weight has caught up with the turns it
 * already took × the largest weight, so slot counts follow weights. Endpoints are taken in key
 * order, so the table is a function of the set alone. Removing one of N endpoints frees its slots
 * and leaves most others in place: close to 1/N of keys move.
 */
export function buildMaglevTable(endpoints: readonly LbEndpoint[], tableSize: number): MaglevTable {
  const sorted = [...endpoints]
    .filter((endpoint) => endpoint.weight > 0 || endpoints.every((other) => other.weight <= 0))
    .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  const weights = sorted.map((endpoint) => (endpoint.weight > 0 ? endpoint.weight : 1));
  const heaviest = Math.max(...weights);
  const skips = sorted.map((endpoint) => (hashString(endpoint.key, SKIP_SEED) % (tableSize - 1)) + 1);
  const next = sorted.map((endpoint) => hashString(endpoint.key, OFFSET_SEED) % tableSize);
  const turnsTaken = sorted.map(() => 0);
  const slots = new Int32Array(tableSize).fill(-1);
  let filled = 0;
  for (let round = 1; filled < tableSize; round++) {
    for (let owner = 0; owner < sorted.length && filled < tableSize; owner++) {
      if (round * (weights[owner] as number) < (turnsTaken[owner] as number) * heaviest) continue;
      turnsTaken[owner] = (turnsTaken[owner] as number) + 1;
      const skip = skips[owner] as number;
      let slot = next[owner] as number;
      while (slots[slot] !== -1) slot = (slot + skip) % tableSize;
      slots[slot] = owner;
      next[owner] = (slot + skip) % tableSize;
      filled++;
    }
  }
  return { endpoints: sorted, slots };
}

class MaglevPicker implements Picker {
  readonly #table: MaglevTable;
  readonly #random: Random;

  constructor(table: MaglevTable, random: Random) {
    this.#table = table;
    this.#random = random;
  }

  pick(context?: PickContext): LbEndpoint | undefined {
    const slots = this.#table.slots;
    const hash = context?.hash ?? randomHash(this.#random.next());
    return this.#table.endpoints[slots[hash % slots.length] as number];
  }
}

/**
 * `consistentHash` with `maglev`. The table size is checked again here (the schema checks it
 * too) because a balancer can be created from settings built in code.
 */
export const maglevBalancer: LoadBalancerFactory = {
  usesWarmup: false,
  create: ({ settings, random }) => {
    const configured = settings?.consistentHash?.maglev?.tableSize;
    const tableSize = configured === undefined || configured === 0 ? DEFAULT_MAGLEV_TABLE_SIZE : configured;
    const problem = maglevTableSizeProblem(tableSize);
    if (problem !== undefined) throw new WeftError(ErrorCodes.configValidation, problem);
    return (endpoints) => new MaglevPicker(buildMaglevTable(endpoints, tableSize), random);
  },
};
