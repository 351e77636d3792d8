import type { Disposer } from '../events/event-channel.ts';
import type { IdentityMaterial, IdentitySource } from '../security/identity/identity-material.ts';
import type { Mesh } from './create-mesh.ts';

/**
 * The workload identity an inbound server (HTTP or gRPC) presents and verifies peers against: a
 * fixed source when given, else the mesh's slot (`mesh.identity`), followed as the agent client
 * fills, replaces or empties it. One IdentitySource that stays put either way: its `onChange` fires
 * on renewals and trust-bundle changes of the source it follows, and when the slot gets another
 * source with material — what a server's TLS follows (`followIdentity`), so a renewal swaps the
 * certificate new connections see without restarting anything.
 */
export class FollowedIdentity implements IdentitySource {
  readonly #listeners = new Set<(material: IdentityMaterial) => void>();
  #source: IdentitySource | undefined;
  #stopSource: Disposer | undefined;
  #stopSlot: Disposer | undefined;

  constructor(mesh: Mesh, fixed?: IdentitySource) {
    if (fixed !== undefined) {
      this.#follow(fixed);
      return;
    }
    this.#follow(mesh.identity);
    this.#stopSlot = mesh.events.identity.on((source) => {
      this.#follow(source);
      const material = source?.current();
      if (material !== undefined) this.#emit(material);
    });
  }

  current(): IdentityMaterial | undefined {
    return this.#source?.current();
  }

  onChange(listener: (material: IdentityMaterial) => void): Disposer {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    this.#stopSlot?.();
    this.#stopSource?.();
    this.#listeners.clear();
  }

  #follow(source: IdentitySource | undefined): void {
    this.#stopSource?.();
    this.#source = source;
    this.#stopSource = source?.onChange((material) => this.#emit(material));
  }

  #emit(material: IdentityMaterial): void {
    for (const listener of this.#listeners) listener(material);
  }
}
