import type { LbEndpoint, PickContext, Picker } from '@weft/core';

/** Istio's `host_selection_retry_max_attempts` for retryIgnorePreviousHosts. */
const HOST_SELECTION_RETRIES = 5;

/**
 * The endpoints one call has tried, for Istio's `retryIgnorePreviousHosts` (on by default): a
 * retry picks again, up to 5 times, while the pick is an endpoint this call already tried. The
 * first attempt (almost every call) remembers its endpoint without allocating a Set.
 */
export class TriedEndpoints {
  #first: string | undefined;
  #all: Set<string> | undefined;

  pick(
    picker: Picker,
    context: PickContext | undefined,
    isIgnoringPrevious: boolean,
  ): LbEndpoint | undefined {
    let picked = picker.pick(context);
    if (picked === undefined) return undefined;
    const first = this.#first;
    if (first === undefined) {
      this.#first = picked.key;
      return picked;
    }
    this.#all ??= new Set([first]);
    const tried = this.#all;
    if (isIgnoringPrevious) {
      for (
        let again = 0;
        again < HOST_SELECTION_RETRIES && picked !== undefined && tried.has(picked.key);
        again++
      ) {
        picked = picker.pick(context);
      }
    }
    if (picked !== undefined) tried.add(picked.key);
    return picked;
  }
}
