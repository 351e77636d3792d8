import { ConfigValidationError } from '@weft/core';
import { agentCommand } from './agent-command.ts';
import { analyzeCommand } from './analyze-command.ts';
import { applyCommand } from './apply-command.ts';
import { caCommand } from './ca-command.ts';
import {
  AgentRequestError,
  AgentUnreachableError,
  CommandFailedError,
  ExitCodes,
  UsageError,
} from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { type Command, GLOBAL_HELP } from './command.ts';
import { dashboardCommand } from './dashboard-command.ts';
import { deleteCommand } from './delete-command.ts';
import { describeCommand } from './describe-command.ts';
import { getCommand } from './get-command.ts';
import { paint, renderIssue } from './output.ts';
import { proxyConfigCommand } from './proxy-config-command.ts';
import { proxyStatusCommand } from './proxy-status-command.ts';
import { tokenCommand } from './token-command.ts';
import { versionCommand } from './version-command.ts';

const COMMANDS: readonly Command[] = [
  agentCommand,
  applyCommand,
  getCommand,
  deleteCommand,
  analyzeCommand,
  describeCommand,
  proxyStatusCommand,
  proxyConfigCommand,
  dashboardCommand,
  tokenCommand,
  caCommand,
  versionCommand,
];

/** Global flags that take a value, so that `weft --agent URL get vs` finds the command. */
const GLOBAL_VALUE_FLAGS = new Set(['--agent', '--token']);

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}   ${command.summary}`);
  return `weft: the command line of the Weft control agent.

Usage: weft COMMAND [flags]

Commands:
${lines.join('\n')}

${GLOBAL_HELP}

Run 'weft COMMAND --help' for a command's flags.
Exit status: 0 ok, 1 refused or errors found, 2 usage error, 3 agent unreachable.
`;
}

/**
 * Runs `weft` with `argv` (without node and the script) and returns the exit code. Never throws
 * and never exits the process: the bin does that, so tests run this in-process.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const at = commandIndex(argv);
  const name = at === -1 ? undefined : argv[at];
  const rest = at === -1 ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 1)];
  if (name === undefined || name === 'help') {
    const topic = name === 'help' ? rest.find((arg) => !arg.startsWith('-')) : undefined;
    const command = COMMANDS.find((candidate) => candidate.name === topic);
    if (command !== undefined) return printHelp(command, io);
    const asked = name === 'help' || rest.includes('--help') || rest.includes('-h');
    (asked ? io.stdout : io.stderr).write(topLevelHelp());
    return asked ? ExitCodes.ok : ExitCodes.usage;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`weft: unknown command "${name}". Run 'weft --help' for the list.\n`);
    return ExitCodes.usage;
  }
  if (wantsHelp(rest)) return printHelp(command, io);
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(error, command, io);
  }
}

function printHelp(command: Command, io: CliIo): number {
  io.stdout.write(`${command.help}\n\n${GLOBAL_HELP}\n`);
  return ExitCodes.ok;
}

/** Where the command name is: the first argument that is neither a flag nor a global flag's value. */
function commandIndex(argv: readonly string[]): number {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '--') return index + 1 < argv.length ? index + 1 : -1;
    if (GLOBAL_VALUE_FLAGS.has(arg)) {
      index += 1;
      continue;
    }
    if (!arg.startsWith('-')) return index;
  }
  return -1;
}

function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/** Every failure as one message on stderr and its exit code; never a stack trace for a known one. */
function report(error: unknown, command: Command, io: CliIo): number {
  const prefix = `weft ${command.name}: `;
  if (error instanceof UsageError) {
    io.stderr.write(`${prefix}${error.message}\nRun 'weft ${command.name} --help' for usage.\n`);
    return ExitCodes.usage;
  }
  if (error instanceof AgentUnreachableError) {
    io.stderr.write(`${prefix}${paint(io.stderr, 'red', 'error')}: ${error.message}\n`);
    return ExitCodes.unreachable;
  }
  if (error instanceof ConfigValidationError) {
    for (const issue of error.issues) io.stderr.write(`${renderIssue(issue, io.stderr)}\n`);
    return ExitCodes.failed;
  }
  if (error instanceof AgentRequestError || error instanceof CommandFailedError) {
    io.stderr.write(`${prefix}${paint(io.stderr, 'red', 'error')}: ${error.message}\n`);
    return ExitCodes.failed;
  }
  // A bug, not a user error: say so, with the stack, so it can be reported.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`${prefix}internal error: ${detail}\n`);
  return ExitCodes.failed;
}
