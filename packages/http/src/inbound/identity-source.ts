import type { Disposer, IdentityMaterial, IdentitySource, Mesh } from '@weft/core';

/**
 * The workload identity an inbound server presents and verifies peers against: the `identity`
 * option when given, else the mesh's slot (`mesh.identity`), followed as the agent client fills,
 * replaces or empties it. One IdentitySource either way, whose `onChange` fires on renewals, on
 * bundle changes and when the slot gets another source.
 */
export class InboundIdentity implements IdentitySource {
  readonly #listeners = new Set<(material: IdentityMaterial) => void>();
  #source: IdentitySource | undefined;
  #stopSource: Disposer | undefined;
  #stopSlot: Disposer | undefined;

  constructor(mesh: Mesh, fixed: IdentitySource | undefined) {
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
