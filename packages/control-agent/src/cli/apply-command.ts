import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, parseCommandLine } from './command.ts';
import { bundleSources, readConfigSources } from './config-sources.ts';
import { paint, renderIssue } from './output.ts';

const NAME = 'apply';

const OPTIONS = {
  filename: { type: 'string', short: 'f', multiple: true },
  namespace: { type: 'string', short: 'n' },
  'dry-run': { type: 'boolean' },
} as const;

export const applyCommand: Command = {
  name: NAME,
  summary: 'Create or update resources from YAML or JSON files',
  help: `Usage: weft apply -f FILE|DIR|- [-f ...] [-n NS] [--dry-run]

Sends every resource of the inputs to the agent in one request: all of them are stored, or, when
any is invalid, none is and every problem is printed as
  file:line:col: error: Kind/namespace/name field.path: message

A file may hold several documents (---) and kind: List; a directory means every .yaml, .yml and
.json file directly in it, by name; - means standard input. Resources that name no namespace go
in -n NS ("default" when not given).

Prints one line per resource (Kind/namespace/name created, configured or unchanged), then on
standard error the parser's warnings and what 'weft analyze' finds about the applied resources;
findings do not refuse an apply (a VirtualService may come before the DestinationRule it needs).

Flags:
  -f, --filename PATH   a file, a directory or - (repeatable)
  -n, --namespace NS    namespace of resources that name none (default "default")
      --dry-run         validate and report what would change; store nothing

Exit status: 0 applied (or would be), 1 refused, 2 usage error, 3 agent unreachable.`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" (files are given with -f)`, NAME);
  }
  const sources = await readConfigSources(values.filename ?? [], io, NAME);
  const bundle = bundleSources(sources);
  const isDryRun = values['dry-run'] === true;
  const answer = await agentFor(values, io, NAME).apply(bundle.text, {
    isDryRun,
    namespace: values.namespace,
  });
  if (!answer.ok) {
    const issues = answer.issues.map((issue) => bundle.locate(issue));
    for (const issue of issues) io.stderr.write(`${renderIssue(issue, io.stderr)}\n`);
    const errors = issues.filter((issue) => issue.severity === 'error').length;
    const what = errors > 0 ? `${errors} error(s)` : answer.message;
    io.stderr.write(`${paint(io.stderr, 'red', 'refused')}: ${what}; nothing was applied.\n`);
    return ExitCodes.failed;
  }
  for (const warning of answer.warnings)
    io.stderr.write(`${renderIssue(bundle.locate(warning), io.stderr)}\n`);
  const suffix = isDryRun ? ' (dry run)' : '';
  for (const result of answer.results) {
    io.stdout.write(`${result.kind}/${result.namespace}/${result.name} ${result.action}${suffix}\n`);
  }
  if (answer.results.length === 0) io.stderr.write('no resources in the input; nothing to apply.\n');
  const applied = new Set(
    answer.results.map((result) => `${result.kind}/${result.namespace}/${result.name}`),
  );
  const findings = answer.findings.filter((finding) => applied.has(finding.resource));
  for (const finding of findings) io.stderr.write(`${renderIssue(bundle.locate(finding), io.stderr)}\n`);
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  if (errors > 0) {
    const done = isDryRun ? 'would be applied' : 'applied';
    io.stderr.write(
      `${done}, but analysis finds ${errors} error(s) in the config as it ${isDryRun ? 'would be' : 'is'} now (see above).\n`,
    );
  }
  return ExitCodes.ok;
}
