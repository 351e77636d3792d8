import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory of PEM files, for settings that name files (DestinationRule origination). */
export interface PemFiles {
  /** Writes `pem` as `name`; returns its path. */
  write(name: string, pem: string): string;
  /** Removes the directory and everything in it. */
  remove(): void;
}

export function pemFiles(): PemFiles {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mtls-'));
  return {
    write(name, pem) {
      const path = join(dir, name);
      writeFileSync(path, pem);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
