/**
 * Field paths: the `(string | number)[]` form zod and yaml use, the `a.b[0].c` form users read,
 * and the pattern form of kind definitions (`a.b[].c`, `m{}.v`), matched against concrete paths.
 */
export type FieldPath = readonly PropertyKey[];

export function formatFieldPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

type PatternStep = { readonly kind: 'key'; readonly name: string } | { readonly kind: 'each' };

function compilePattern(pattern: string): readonly PatternStep[] {
  const steps: PatternStep[] = [];
  for (const part of pattern.split('.')) {
    const match = /^([^[{]*)((?:\[\]|\{\})*)$/.exec(part);
    if (match === null) throw new Error(`malformed field pattern "${pattern}"`);
    const [, name = '', wildcards = ''] = match;
    if (name !== '') steps.push({ kind: 'key', name });
    for (let i = 0; i < wildcards.length; i += 2) steps.push({ kind: 'each' });
  }
  return steps;
}

/**
 * Every concrete path in `value` that a pattern names and that is present (not undefined), so a
 * note about `http[].mirrorPercent` can point at `http[2].mirrorPercent`.
 */
export function findFieldsByPattern(value: unknown, pattern: string): FieldPath[] {
  const steps = compilePattern(pattern);
  const found: FieldPath[] = [];
  const visit = (node: unknown, stepIndex: number, path: PropertyKey[]): void => {
    if (stepIndex === steps.length) {
      if (node !== undefined) found.push(path);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const step = steps[stepIndex];
    if (step === undefined) return;
    if (step.kind === 'key') {
      if (Object.hasOwn(node, step.name)) {
        visit((node as Record<string, unknown>)[step.name], stepIndex + 1, [...path, step.name]);
      }
      return;
    }
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) visit(item, stepIndex + 1, [...path, index]);
    } else for (const [key, item] of Object.entries(node)) visit(item, stepIndex + 1, [...path, key]);
  };
  visit(value, 0, []);
  return found;
}
