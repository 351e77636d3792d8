import { type ConfigIssue, formatConfigIssue } from '@weft/core';
import { stringify } from 'yaml';
import { UsageError } from './cli-errors.ts';
import type { TextSink } from './cli-io.ts';

export type OutputFormat = 'table' | 'yaml' | 'json';

const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'yaml', 'json'];

export function parseOutputFormat(value: string | undefined, command: string): OutputFormat {
  if (value === undefined) return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`-o must be one of ${OUTPUT_FORMATS.join(', ')}, not "${value}"`, command);
}

/** A value as YAML or pretty JSON, ending with a newline. */
export function renderDocument(value: unknown, format: 'yaml' | 'json'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}

/** Columns as kubectl prints them: upper-case headers, left-aligned, three spaces apart. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => visibleLength(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - visibleLength(cell)),
      )
      .join('   ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** Length as shown: ANSI color codes take no room. */
function visibleLength(cell: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
  return cell.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** A duration as kubectl's AGE column shows it: `42s`, `7m`, `5h`, `3d`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

/** The time since an RFC 3339 timestamp, or `<unknown>`. */
export function ageSince(timestamp: string | undefined, nowMs: number): string {
  const then = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
  return Number.isNaN(then) ? '<unknown>' : formatAge(nowMs - then);
}

const STYLES = { red: [31, 39], yellow: [33, 39], green: [32, 39], bold: [1, 22], dim: [2, 22] } as const;

export type Style = keyof typeof STYLES;

/** `text` in an ANSI style when the sink is a color terminal; as is otherwise. */
export function paint(sink: TextSink, style: Style, text: string): string {
  if (!sink.hasColors) return text;
  const [open, close] = STYLES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** An issue as one line, `file:line:col: error: Kind/ns/name path: message`, the severity in color on a TTY. */
export function renderIssue(issue: ConfigIssue, sink: TextSink): string {
  const plain = formatConfigIssue(issue);
  const marker = `: ${issue.severity}: `;
  const at = plain.indexOf(marker);
  if (!sink.hasColors || at === -1) return plain;
  const word = paint(sink, issue.severity === 'error' ? 'red' : 'yellow', issue.severity);
  return `${plain.slice(0, at)}: ${word}: ${plain.slice(at + marker.length)}`;
}
