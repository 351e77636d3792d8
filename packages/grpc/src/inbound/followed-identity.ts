import type { Disposer, IdentityMaterial, IdentitySource, Mesh } from '@weft/core';

/**
 * The mesh's identity slot (`mesh.identity`) as one IdentitySource that stays put: it follows the
 * source the agent client (or the application) puts in the slot, and its `onChange` fires on
 * renewals and trust-bundle changes of that source and when the slot gets another source with
 * material. What a server's TLS follows (`followIdentity`), so a renewal swaps the certificate
 * new connections see, without restarting anything.
 */
export class FollowedIdentity implements IdentitySource {
  readonly #listeners = new Set<(material: IdentityMaterial) => void>();
  readonly #stopSlot: Disposer;
  #source: IdentitySource | undefined;
  #stopSource: Disposer | undefined;

  constructor(mesh: Mesh) {
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
    this.#stopSlot();
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
