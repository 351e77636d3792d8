import type { RequestFacts } from './request-facts.ts';

/** A compiled piece of a rule: does the request have this property? */
export type Predicate = (facts: RequestFacts) => boolean;

export const ALWAYS: Predicate = () => true;
export const NEVER: Predicate = () => false;

/** Every predicate holds; unrolled for the short lists rules are made of. */
export function allOf(predicates: readonly Predicate[]): Predicate {
  const live = predicates.filter((predicate) => predicate !== ALWAYS);
  if (live.includes(NEVER)) return NEVER;
  const [first, second, third] = live;
  switch (live.length) {
    case 0:
      return ALWAYS;
    case 1:
      return first as Predicate;
    case 2:
      return (facts) => (first as Predicate)(facts) && (second as Predicate)(facts);
    case 3:
      return (facts) =>
        (first as Predicate)(facts) && (second as Predicate)(facts) && (third as Predicate)(facts);
    default:
      return (facts) => {
        for (const predicate of live) if (!predicate(facts)) return false;
        return true;
      };
  }
}

/** At least one predicate holds; an empty list never does. */
export function anyOf(predicates: readonly Predicate[]): Predicate {
  const live = predicates.filter((predicate) => predicate !== NEVER);
  if (live.includes(ALWAYS)) return ALWAYS;
  const [first, second] = live;
  switch (live.length) {
    case 0:
      return NEVER;
    case 1:
      return first as Predicate;
    case 2:
      return (facts) => (first as Predicate)(facts) || (second as Predicate)(facts);
    default:
      return (facts) => {
        for (const predicate of live) if (predicate(facts)) return true;
        return false;
      };
  }
}
