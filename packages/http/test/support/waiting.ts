/**
 * Waits until `condition` holds, polling every 5 ms, for at most `limitMs`; returns whether it
 * held. Tests assert on the result, so a condition that never holds fails instead of hanging.
 */
export async function eventually(condition: () => boolean, limitMs = 2000): Promise<boolean> {
  const rounds = Math.ceil(limitMs / 5);
  for (let round = 0; round < rounds; round++) {
    if (condition()) return true;
    await sleep(5);
  }
  return condition();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
