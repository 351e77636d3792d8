import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { AgentApi } from './agent-api.ts';
import { UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';

/** Flags every command accepts. */
export const GLOBAL_OPTIONS = {
  agent: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const DEFAULT_AGENT_URL = 'http://127.0.0.1:15010';

export const GLOBAL_HELP = `Global flags:
  --agent URL    the agent's admin API (default: $WEFT_AGENT, else ${DEFAULT_AGENT_URL})
  --token TOKEN  admin token for writes (default: $WEFT_TOKEN, else $WEFT_ADMIN_TOKEN)
  -h, --help     show this help`;

/** One subcommand of `weft`. `run` returns the exit code; thrown errors map to codes in main.ts. */
export interface Command {
  readonly name: string;
  /** One line, for `weft --help`. */
  readonly summary: string;
  /** The whole `weft NAME --help` text, without the global flags. */
  readonly help: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/**
 * parseArgs with the global flags added, positionals allowed, and its errors turned into usage
 * errors that name the command.
 */
export function parseCommandLine<const Options extends ParseArgsOptionsConfig>(
  command: string,
  args: readonly string[],
  options: Options,
) {
  try {
    return parseArgs({
      args,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command, { cause: error });
  }
}

/** The agent client for the global flags: `--agent`, `--token`, and the environment. */
export function agentFor(
  values: { readonly agent?: string | undefined; readonly token?: string | undefined },
  io: CliIo,
  command: string,
): AgentApi {
  const given = values.agent ?? nonEmpty(io.env.WEFT_AGENT) ?? DEFAULT_AGENT_URL;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (error) {
    throw new UsageError(`--agent: "${given}" is not a URL`, command, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--agent: "${given}" must be an http:// or https:// URL`, command);
  }
  const token = values.token ?? nonEmpty(io.env.WEFT_TOKEN) ?? nonEmpty(io.env.WEFT_ADMIN_TOKEN);
  return new AgentApi({ baseUrl: url, token, signal: io.shutdown });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The positionals named by `names` (the last `optional` of them may be missing), or a usage error. */
export function expectPositionals(
  command: string,
  positionals: readonly string[],
  names: readonly string[],
  optional = 0,
): string[] {
  const required = names.length - optional;
  if (positionals.length < required) {
    throw new UsageError(`missing ${names.slice(positionals.length, required).join(' ')}`, command);
  }
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument "${positionals[names.length]}"`, command);
  }
  return [...positionals];
}
