import { analysisChecks, analyze, type ConfigIssue, parseConfig, type Resource } from '@weft/core';
import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, parseCommandLine } from './command.ts';
import { readConfigSources } from './config-sources.ts';
import { paint, renderDocument, renderIssue, renderTable } from './output.ts';

const NAME = 'analyze';

const OPTIONS = {
  filename: { type: 'string', short: 'f', multiple: true },
  namespace: { type: 'string', short: 'n' },
  suppress: { type: 'string', short: 'S', multiple: true },
  output: { type: 'string', short: 'o' },
  list: { type: 'boolean' },
} as const;

export const analyzeCommand: Command = {
  name: NAME,
  summary: 'Check configuration for mistakes: local files, or what the agent holds',
  help: `Usage: weft analyze [-f FILE|DIR|- ...] [-n NS] [--suppress CODE ...] [-o text|yaml|json]
       weft analyze --list

Validates every resource and runs the cross-resource checks (istioctl analyze's): subsets that no
DestinationRule defines, hosts that resolve to nothing, shadowed routes, conflicting rules, ...

With -f, analyzes local files without contacting the agent (a directory means every .yaml, .yml
and .json file in it; - means standard input); resources that name no namespace are in -n NS
(default "default"). Without -f, asks the agent to analyze what it holds, with its registry.

Flags:
  -f, --filename PATH   a file, a directory or - (repeatable)
  -n, --namespace NS    namespace of resources that name none (with -f)
  -S, --suppress CODE   leave out findings with this code (repeatable)
  -o, --output FORMAT   text (default), yaml or json
      --list            list the checks and their codes

Exit status: 0 when no errors were found (warnings allowed), 1 when any error was found.`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine(NAME, args, OPTIONS);
  const format = values.output ?? 'text';
  if (format !== 'text' && format !== 'yaml' && format !== 'json') {
    throw new UsageError(`-o must be text, yaml or json, not "${format}"`, NAME);
  }
  if (values.list === true) {
    const rows = analysisChecks().map((check) => [check.code, check.severity, check.summary]);
    io.stdout.write(renderTable(['CODE', 'SEVERITY', 'SUMMARY'], rows));
    return ExitCodes.ok;
  }
  const suppressed = new Set(values.suppress ?? []);
  const files = values.filename ?? [];
  const issues =
    files.length > 0
      ? await analyzeFiles(files, values.namespace, [...suppressed], io)
      : (await agentFor(values, io, NAME).analyze()).map(heldByAgent);
  const shown = issues.filter((issue) => !suppressed.has(issue.code));
  const errors = shown.filter((issue) => issue.severity === 'error').length;
  if (format === 'text') {
    for (const issue of shown) io.stdout.write(`${renderIssue(issue, io.stdout)}\n`);
    const scope = files.length > 0 ? `${files.join(', ')}` : 'the agent';
    const summary =
      shown.length === 0
        ? paint(io.stderr, 'green', `No issues found in ${scope}.`)
        : `${errors} error(s), ${shown.length - errors} warning(s) in ${scope}.`;
    io.stderr.write(`${summary}\n`);
  } else {
    io.stdout.write(renderDocument({ issues: shown }, format));
  }
  return errors > 0 ? ExitCodes.failed : ExitCodes.ok;
}

/** Parse errors and analysis findings of local files, all of them, as the agent would find them. */
async function analyzeFiles(
  paths: readonly string[],
  namespace: string | undefined,
  suppress: readonly string[],
  io: CliIo,
): Promise<ConfigIssue[]> {
  const sources = await readConfigSources(paths, io, NAME);
  const resources: Resource[] = [];
  const issues: ConfigIssue[] = [];
  for (const source of sources) {
    const parsed = parseConfig(source.text, {
      file: source.name,
      ...(namespace === undefined ? {} : { defaultNamespace: namespace }),
    });
    resources.push(...parsed.resources);
    issues.push(...parsed.issues);
  }
  return [...issues, ...analyze(resources, { suppress })];
}

/** Stored resources have no file or line: the agent is where they are. */
function heldByAgent(issue: ConfigIssue): ConfigIssue {
  return { ...issue, location: { file: 'agent' } };
}
