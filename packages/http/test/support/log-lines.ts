/** An access-log stream that keeps every line, for asserting what was logged. */
export interface LogLines {
  readonly lines: string[];
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  records(): Record<string, unknown>[];
}

export function logLines(): LogLines {
  const lines: string[] = [];
  return {
    lines,
    write(chunk) {
      lines.push(chunk);
      return true;
    },
    once() {
      return undefined;
    },
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
