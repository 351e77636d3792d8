import { findKind, type ResourceRef } from '@weft/core';
import { parseAllDocuments } from 'yaml';
import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { type ConfigSource, readConfigSources } from './config-sources.ts';
import { record } from './json-fields.ts';
import { resolveKind } from './kind-names.ts';
import { paint } from './output.ts';

const NAME = 'delete';

const OPTIONS = {
  filename: { type: 'string', short: 'f', multiple: true },
  namespace: { type: 'string', short: 'n' },
  'resource-version': { type: 'string' },
  'ignore-not-found': { type: 'boolean' },
} as const;

export const deleteCommand: Command = {
  name: NAME,
  summary: 'Delete resources by name, or those named in files',
  help: `Usage: weft delete KIND NAME [-n NS] [--resource-version RV]
       weft delete -f FILE|DIR|- [-f ...]

Deletes one resource, or every resource the files name (by kind, namespace and name; their specs
are not read, so a file that no longer validates can still be deleted). Kinds Weft does not keep
(Deployment, ServiceAccount, ...) are skipped.

Flags:
  -f, --filename PATH          a file, a directory or - (repeatable)
  -n, --namespace NS           namespace (default "default"; in files, of resources naming none)
      --resource-version RV    delete only if the resource is still at this version
      --ignore-not-found       a resource that does not exist is not an error

Exit status: 0 deleted, 1 not found or refused (e.g. a newer resourceVersion), 3 agent unreachable.`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const namespace = values.namespace ?? 'default';
  const files = values.filename ?? [];
  let refs: ResourceRef[];
  if (files.length > 0) {
    if (positionals.length > 0) throw new UsageError('give either KIND NAME or -f, not both', NAME);
    if (values['resource-version'] !== undefined) {
      throw new UsageError('--resource-version names one resource; it cannot be used with -f', NAME);
    }
    refs = refsIn(await readConfigSources(files, io, NAME), namespace);
  } else {
    const [typedKind = '', name = ''] = expectPositionals(NAME, positionals, ['KIND', 'NAME']);
    refs = [{ kind: resolveKind(typedKind, NAME), namespace, name }];
  }
  const agent = agentFor(values, io, NAME);
  let missing = 0;
  for (const ref of refs) {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
    const existed = await agent.deleteResource(ref, values['resource-version']);
    if (existed) {
      io.stdout.write(`${key} deleted\n`);
    } else if (values['ignore-not-found'] !== true) {
      missing += 1;
      io.stderr.write(`${paint(io.stderr, 'red', 'error')}: ${key} not found\n`);
    }
  }
  return missing > 0 ? ExitCodes.failed : ExitCodes.ok;
}

/** Kind, namespace and name of every document Weft keeps, lists expanded, in order. */
function refsIn(sources: readonly ConfigSource[], namespace: string): ResourceRef[] {
  const refs: ResourceRef[] = [];
  for (const source of sources) {
    for (const document of parseAllDocuments(source.text)) {
      if (document.errors.length > 0) {
        const first = document.errors[0];
        throw new UsageError(`${source.name}: not valid YAML: ${first?.message ?? ''}`, NAME);
      }
      const value = record(document.toJS());
      const items = value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
      for (const item of items) {
        const ref = refOf(record(item), namespace);
        if (ref !== undefined) refs.push(ref);
      }
    }
  }
  return refs;
}

function refOf(object: Readonly<Record<string, unknown>>, namespace: string): ResourceRef | undefined {
  const { apiVersion, kind } = object;
  const metadata = record(object.metadata);
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof metadata.name !== 'string') {
    return undefined;
  }
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  if (findKind(group, kind) === undefined) return undefined;
  const ownNamespace = typeof metadata.namespace === 'string' ? metadata.namespace : namespace;
  return { kind, namespace: ownNamespace, name: metadata.name };
}
