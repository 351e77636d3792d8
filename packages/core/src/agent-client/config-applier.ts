import { ConfigValidationError } from '../errors/config-validation-error.ts';
import type { Mesh } from '../mesh/create-mesh.ts';
import type { AgentClientEvents, ConfigSource, ResyncReason } from './agent-client-events.ts';
import { ConfigValidator } from './config-validator.ts';
import type { LastGoodWriter } from './last-good-file.ts';
import type { RevisionMark } from './protocol.ts';
import { type ConfigRecord, markLabel } from './received-config.ts';

/** NACK events remembered, so that a revision refused again after a reconnect is not re-announced. */
const NACK_EVENT_MEMORY = 32;

/**
 * Puts whole configs into the mesh: validates each (every resource and workload), swaps
 * resources and registry in at once, and keeps what is applied — or says why not, leaving the
 * mesh serving what it served. Announces both (`applied`, `emptied`, `nack`, and the mesh's own
 * `rejected`), and hands every applied config to the last-good file.
 */
export class ConfigApplier {
  readonly #mesh: Mesh;
  readonly #events: AgentClientEvents;
  readonly #writer: LastGoodWriter | undefined;
  readonly #validator: ConfigValidator;
  readonly #announcedNacks: string[] = [];
  #applied: ConfigRecord | undefined;

  readonly #emptyConfigPolicy: 'apply' | 'keep-last-good';

  constructor(
    mesh: Mesh,
    events: AgentClientEvents,
    writer: LastGoodWriter | undefined,
    emptyConfigPolicy: 'apply' | 'keep-last-good' = 'apply',
  ) {
    this.#mesh = mesh;
    this.#emptyConfigPolicy = emptyConfigPolicy;
    this.#events = events;
    this.#writer = writer;
    this.#validator = new ConfigValidator(mesh.snapshot.options.domainSuffix);
  }

  /** What the mesh serves from the control plane; undefined until something was applied. */
  get applied(): ConfigRecord | undefined {
    return this.#applied;
  }

  /** Returns undefined when `record` was applied, or why it was refused. */
  apply(
    record: ConfigRecord,
    source: ConfigSource,
    resync?: ResyncReason,
  ): ConfigValidationError | undefined {
    const validated = this.#validator.validate(record);
    if (validated.hasErrors) return new ConfigValidationError(validated.issues);
    const served = this.#applied?.resources.length ?? 0;
    if (record.resources.length === 0 && served > 0 && this.#emptyConfigPolicy === 'keep-last-good') {
      return new ConfigValidationError([
        {
          severity: 'error',
          code: 'empties-config',
          resource: `revision ${markLabel(record.mark)}`,
          path: 'resources',
          message: `removes every resource (${served} served); refused by emptyConfigPolicy 'keep-last-good', the last good config keeps serving`,
          location: { file: 'agent' },
        },
      ]);
    }
    try {
      this.#mesh.applyResourcesAndWorkloads(validated.resources, validated.workloads, {
        revision: markLabel(record.mark),
        warnings: validated.issues,
      });
    } catch (error) {
      // compile() refused it (the mesh has already emitted `rejected`); anything else is a bug.
      if (error instanceof ConfigValidationError) return error;
      throw error;
    }
    const previous = this.#applied;
    this.#applied = record;
    if (source !== 'last-good-file') this.#writer?.save(record);
    this.#events.applied.emit({
      mark: record.mark,
      source,
      resources: record.resources.length,
      workloads: record.workloads.length,
      ...(resync === undefined ? {} : { resync }),
      warnings: validated.issues,
    });
    if (record.resources.length === 0 && previous !== undefined && previous.resources.length > 0) {
      this.#events.emptied.emit({ mark: record.mark, source, previousResources: previous.resources.length });
    }
    return undefined;
  }

  /** The applied config is current to a later mark (nothing it holds changed). */
  advanceTo(mark: RevisionMark): void {
    if (this.#applied !== undefined) this.#applied = { ...this.#applied, mark };
  }

  /** The `nack` event and the mesh's `rejected` event, once per revision. */
  announceRefusal(mark: RevisionMark, error: ConfigValidationError): void {
    const label = markLabel(mark);
    if (this.#announcedNacks.includes(label)) return;
    this.#announcedNacks.push(label);
    if (this.#announcedNacks.length > NACK_EVENT_MEMORY) this.#announcedNacks.shift();
    // compile() refusals were already announced by the mesh itself.
    if (error.issues.every((issue) => issue.code !== 'compile-failed')) {
      this.#mesh.events.rejected.emit({ revision: label, error });
    }
    this.#events.nack.emit({ mark, error });
  }
}
