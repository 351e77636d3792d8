import type { MeshSnapshot } from '../config/compile/mesh-snapshot.ts';
import type { Resource } from '../config/resource.ts';
import type { ConfigIssue } from '../errors/config-validation-error.ts';

/** What every check reads: the compiled snapshot (resources in order, services, options). */
export interface AnalysisContext {
  readonly snapshot: MeshSnapshot;
  /** Whether workloads were given; checks about what selectors select need them to say anything. */
  readonly hasRegistry: boolean;
}

/** A finding, tied to a resource and a field, with a message that says what to change. */
export interface Finding {
  readonly resource: Resource;
  /** Path inside the resource, e.g. `spec.http[1].route[0].destination.subset`. */
  readonly path: string;
  readonly message: string;
}

/**
 * One analysis, like one of `istioctl analyze`'s analyzers. `code` is stable: users filter and
 * suppress by it. Checks are pure functions of the snapshot.
 */
export interface AnalysisCheck {
  readonly code: string;
  readonly severity: ConfigIssue['severity'];
  /** One line for `weft analyze --list`. */
  readonly summary: string;
  readonly run: (context: AnalysisContext) => Iterable<Finding>;
}
