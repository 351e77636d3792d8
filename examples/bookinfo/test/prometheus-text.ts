/**
 * Reads Prometheus's text exposition format as the tests need it: every sample with its name,
 * labels and value, and each metric's `# TYPE`.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly Sample[];
  /** `# TYPE` of each metric family: `counter`, `histogram`, … */
  readonly types: ReadonlyMap<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1] ?? '', type[2] ?? '');
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL))
      labels[name ?? ''] = (value ?? '').replace(/\\(.)/g, (_, escaped: string) =>
        escaped === 'n' ? '\n' : escaped,
      );
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return { samples, types };
}

/** The samples named `name` whose labels include every label of `where`. */
export function samplesWhere(
  exposition: Exposition,
  name: string,
  where: Readonly<Record<string, string>>,
): Sample[] {
  return exposition.samples.filter(
    (sample) =>
      sample.name === name && Object.entries(where).every(([label, value]) => sample.labels[label] === value),
  );
}

/** The sum of the matching samples' values (0 when none match). */
export function sumWhere(
  exposition: Exposition,
  name: string,
  where: Readonly<Record<string, string>>,
): number {
  return samplesWhere(exposition, name, where).reduce((sum, sample) => sum + sample.value, 0);
}
