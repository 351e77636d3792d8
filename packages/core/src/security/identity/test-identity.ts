import type { IdentityMaterial, IdentitySource } from './identity-material.ts';

/**
 * An IdentitySource a test sets by hand: what connectToAgent's certificates are, without an agent.
 * Exported from `@weft/core/testing`.
 */
export class TestIdentity implements IdentitySource {
  #material: IdentityMaterial | undefined;
  readonly #listeners = new Set<(material: IdentityMaterial) => void>();

  constructor(material?: IdentityMaterial) {
    this.#material = material;
  }

  current(): IdentityMaterial | undefined {
    return this.#material;
  }

  onChange(listener: (material: IdentityMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A renewal: new material, listeners told. */
  set(material: IdentityMaterial): void {
    this.#material = material;
    for (const listener of this.#listeners) listener(material);
  }
}
