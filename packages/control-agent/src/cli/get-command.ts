import type { StoredResource } from '@weft/core';
import { CommandFailedError, ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { record } from './json-fields.ts';
import { resolveKind } from './kind-names.ts';
import { ageSince, parseOutputFormat, renderDocument, renderTable } from './output.ts';
import { extraColumns } from './resource-columns.ts';

const NAME = 'get';

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
} as const;

export const getCommand: Command = {
  name: NAME,
  summary: 'List resources of a kind, or show one',
  help: `Usage: weft get KIND [NAME] [-n NS | -A] [-o table|yaml|json]

KIND is a kind as written in YAML (VirtualService), lower-case, plural or short (vs, dr, se, we,
gw, pa, ra, ap, svc). Without NAME lists the kind's resources in the namespace; with NAME shows
one. -o yaml of a list prints a kind: List that 'weft apply -f' accepts back.

Flags:
  -n, --namespace NS       namespace (default "default")
  -A, --all-namespaces     every namespace (lists only)
  -o, --output FORMAT      table (default), yaml or json

Exit status: 0 found, 1 the named resource does not exist, 3 agent unreachable.`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const [typedKind = '', name] = expectPositionals(NAME, positionals, ['KIND', 'NAME'], 1);
  const kind = resolveKind(typedKind, NAME);
  const format = parseOutputFormat(values.output, NAME);
  const allNamespaces = values['all-namespaces'] === true;
  if (allNamespaces && values.namespace !== undefined)
    throw new UsageError('-n and -A exclude each other', NAME);
  if (allNamespaces && name !== undefined)
    throw new UsageError('-A lists; it cannot be given with NAME', NAME);
  const namespace = values.namespace ?? 'default';
  const agent = agentFor(values, io, NAME);

  if (name !== undefined) {
    const resource = await agent.getResource({ kind, namespace, name });
    if (resource === undefined) throw new CommandFailedError(`${kind} ${namespace}/${name} not found`);
    if (format === 'table') io.stdout.write(table([resource], kind, false, io.now()));
    else io.stdout.write(renderDocument(resource, format));
    return ExitCodes.ok;
  }

  const resources = await agent.listResources({ kind, ...(allNamespaces ? {} : { namespace }) });
  if (format !== 'table') {
    io.stdout.write(renderDocument({ apiVersion: 'v1', kind: 'List', items: resources }, format));
  } else if (resources.length === 0) {
    io.stderr.write(`No ${kind} resources found${allNamespaces ? '' : ` in namespace ${namespace}`}.\n`);
  } else {
    io.stdout.write(table(resources, kind, allNamespaces, io.now()));
  }
  return ExitCodes.ok;
}

function table(
  resources: readonly StoredResource[],
  kind: string,
  withNamespace: boolean,
  nowMs: number,
): string {
  const columns = extraColumns(kind);
  const headers = [
    ...(withNamespace ? ['NAMESPACE'] : []),
    'NAME',
    ...columns.map((column) => column.header),
    'AGE',
  ];
  const rows = resources.map((resource) => [
    ...(withNamespace ? [resource.metadata.namespace] : []),
    resource.metadata.name,
    ...columns.map((column) => column.cell(record(resource.spec))),
    ageSince(resource.metadata.creationTimestamp, nowMs),
  ]);
  return renderTable(headers, rows);
}
