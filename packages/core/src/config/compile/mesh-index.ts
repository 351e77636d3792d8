import type { ResourcesByKind } from '../resources.ts';
import type { MeshOptions } from './mesh-options.ts';
import type { MeshService } from './mesh-service.ts';

/** What every view of one snapshot shares: the resources in order, the services, the options. */
export interface MeshIndex {
  readonly resources: ResourcesByKind;
  readonly services: ReadonlyMap<string, MeshService>;
  readonly options: MeshOptions;
}
