import { readFileSync } from 'node:fs';
import { type ParseConfigOptions, parseConfig, parseConfigObjects } from '../config/parse-config.ts';
import type { Resource } from '../config/resource.ts';
import type { ConfigIssue } from '../errors/config-validation-error.ts';

/**
 * Where a mesh in static mode reads its configuration: YAML/JSON files, YAML text, resource
 * objects (already parsed `Resource`s are taken as they are). The control agent is the other
 * source; it plugs into the same mesh through `mesh.applyResources`.
 */
export interface StaticConfig {
  readonly files?: readonly string[];
  readonly yaml?: string;
  readonly objects?: readonly unknown[];
  readonly resources?: readonly Resource[];
}

export interface LoadedConfig {
  readonly resources: readonly Resource[];
  readonly issues: readonly ConfigIssue[];
}

export function loadStaticConfig(config: StaticConfig, options: ParseConfigOptions): LoadedConfig {
  const resources: Resource[] = [...(config.resources ?? [])];
  const issues: ConfigIssue[] = [];
  const collect = (parsed: LoadedConfig) => {
    resources.push(...parsed.resources);
    issues.push(...parsed.issues);
  };
  for (const file of config.files ?? [])
    collect(parseConfig(readFileSync(file, 'utf8'), { ...options, file }));
  if (config.yaml !== undefined)
    collect(parseConfig(config.yaml, { ...options, file: options.file ?? '<yaml>' }));
  if (config.objects !== undefined)
    collect(parseConfigObjects(config.objects, { ...options, file: '<objects>' }));
  return { resources, issues };
}
