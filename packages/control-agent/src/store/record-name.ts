import { ConfigValidationError } from '@weft/core';

/**
 * Names of agent-private records (`ca/authority`, `tokens/revocations`): lower-case words joined
 * by `/`, so that both stores can use them as keys as they are.
 */
const RECORD_NAME = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;

export function checkRecordName(name: unknown): string {
  if (typeof name !== 'string' || name.length > 128 || !RECORD_NAME.test(name)) {
    throw new ConfigValidationError([
      {
        severity: 'error',
        code: 'invalid-record-name',
        resource: String(name),
        path: 'name',
        message: `a record name is lower-case words of a-z, 0-9 and "-" joined by "/", at most 128 characters, got ${JSON.stringify(name)}`,
        location: { file: '<store>' },
      },
    ]);
  }
  return name;
}
