import { readFile } from 'node:fs/promises';
import { PROTOCOL_VERSION } from '@weft/core';
import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, parseCommandLine } from './command.ts';
import { renderDocument } from './output.ts';

const NAME = 'version';

const OPTIONS = {
  remote: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const;

export const versionCommand: Command = {
  name: NAME,
  summary: "Print the CLI's version (and the agent's, with --remote)",
  help: `Usage: weft version [--remote] [-o yaml|json]

Prints the version of weft, the Node.js it runs on and the watch protocol it speaks. Never contacts
the agent unless --remote is given; then it also prints what the agent's /healthz reports.

Flags:
      --remote          also ask the agent (exit 3 when it cannot be reached)
  -o, --output FORMAT   yaml or json instead of text`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine(NAME, args, OPTIONS);
  const format = values.output;
  if (format !== undefined && format !== 'yaml' && format !== 'json') {
    throw new UsageError(`-o must be yaml or json, not "${format}"`, NAME);
  }
  const client = { version: await packageVersion(), node: process.version, protocol: PROTOCOL_VERSION };
  const agent = values.remote === true ? await agentFor(values, io, NAME).health() : undefined;
  if (format !== undefined) {
    io.stdout.write(renderDocument(agent === undefined ? { client } : { client, agent }, format));
    return ExitCodes.ok;
  }
  io.stdout.write(`weft ${client.version} (node ${client.node}, protocol ${client.protocol})\n`);
  if (agent !== undefined) io.stdout.write(`agent: ${JSON.stringify(agent)}\n`);
  return ExitCodes.ok;
}

/** The package's version; package.json is two levels up from both src/cli and dist/cli. */
async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed = JSON.parse(text) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : 'unknown';
}
