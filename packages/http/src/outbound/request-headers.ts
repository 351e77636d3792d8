import type { Dispatcher } from 'undici';

/** Request headers as one lower-cased record; what every policy reads and edits. */
export type HeaderRecord = Record<string, string | string[]>;

/**
 * undici accepts headers as a record, a flat [name, value, …] array or an iterable of pairs.
 * They are read once into a lower-cased record, which routing, header operations and the
 * outgoing request all use, so one spelling of every header reaches every layer.
 */
export function readRequestHeaders(headers: Dispatcher.DispatchOptions['headers']): HeaderRecord {
  const record: HeaderRecord = {};
  if (headers === null || headers === undefined) return record;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2)
      append(record, String(headers[i]), headers[i + 1] as string);
    return record;
  }
  if (Symbol.iterator in headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<[string, string | string[] | undefined]>) {
      if (value !== undefined) append(record, name, value);
    }
    return record;
  }
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (value !== undefined) append(record, name, value);
  }
  return record;
}

function append(record: HeaderRecord, name: string, value: string | string[]): void {
  const key = name.toLowerCase();
  const existing = record[key];
  if (existing === undefined) record[key] = value;
  else
    record[key] = [
      ...(Array.isArray(existing) ? existing : [existing]),
      ...(Array.isArray(value) ? value : [value]),
    ];
}

/** One header's value; several values are joined with ", " (one canonical form; bad-inputs D20). */
export function headerValue(record: HeaderRecord, name: string): string | undefined {
  const value = record[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** One cookie's value from a Cookie header (`a=1; b=2`), or undefined. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(/;\s*|,\s*/)) {
    const equals = part.indexOf('=');
    if (equals !== -1 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}
