/** The Markdown the benchmark prints: one table row per variant, then the aims. */
import type { Spread } from './stats.ts';
import type { AimResult, VariantSummary } from './summary.ts';

function figure(value: Spread | undefined, digits: number, isSigned = false): string {
  if (value === undefined || !Number.isFinite(value.median)) return '—';
  const format = (n: number) => {
    const text = n.toFixed(digits);
    return isSigned && n > 0 ? `+${text}` : text;
  };
  if (value.min === value.max) return format(value.median);
  return `${format(value.median)} (${format(value.min)}…${format(value.max)})`;
}

export function markdownTable(summaries: readonly VariantSummary[]): string {
  const header = [
    'variant',
    'vs',
    'client CPU µs/req',
    'Δ client µs',
    'server CPU µs/req',
    'throughput % of vs',
    'p50 µs',
    'p99 µs',
    'Δp50 µs',
    'Δp99 µs',
    'errors',
  ];
  const rows = summaries.map((s) => [
    s.variant,
    s.baseline ?? '(floor)',
    figure(s.clientCpuUs, 1),
    figure(s.deltaClientCpuUs, 1, true),
    figure(s.serverCpuUs, 1),
    figure(s.throughputPercent, 0),
    figure(s.p50Us, 0),
    figure(s.p99Us, 0),
    figure(s.deltaP50Us, 0, true),
    figure(s.deltaP99Us, 0, true),
    String(s.errors),
  ]);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdownAims(aims: readonly AimResult[]): string {
  return aims
    .map((aim) =>
      aim.isMet === undefined
        ? `- not judged: ${aim.aim} — every window was disturbed by other processes`
        : `- ${aim.isMet ? 'met' : 'MISSED'}: ${aim.aim} — measured ${aim.measured.toFixed(1)} (limit ${aim.limit})`,
    )
    .join('\n');
}
