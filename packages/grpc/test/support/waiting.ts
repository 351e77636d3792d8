/**
 * Waits until `condition` holds, polling every 5 ms, for at most `limitMs`; returns whether it
 * held. Tests assert on the result, so a condition that never holds fails instead of hanging.
 */
export async function eventually(condition: () => boolean, limitMs = 3000): Promise<boolean> {
  const rounds = Math.ceil(limitMs / 5);
  for (let round = 0; round < rounds; round++) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return condition();
}
