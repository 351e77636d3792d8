import { createSecureContext, type SecureContext } from 'node:tls';
import { type IdentityMaterial, secureContextOptions } from '@weft/core';

const contexts = new WeakMap<IdentityMaterial, SecureContext>();

/**
 * The workload's SVID, key and trust bundle as one node SecureContext, made once per identity
 * material (a renewal or a new bundle is a new material): parsing PEM keys and certificates costs
 * far more than a handshake's lookup of a ready context.
 */
export function meshSecureContext(material: IdentityMaterial): SecureContext {
  let context = contexts.get(material);
  if (context === undefined) {
    context = createSecureContext(secureContextOptions(material));
    contexts.set(material, context);
  }
  return context;
}

const generations = new WeakMap<IdentityMaterial, number>();
let nextGeneration = 1;

/** A number naming one material, for connection pool keys (serial numbers repeat across bundles). */
export function materialGeneration(material: IdentityMaterial): number {
  let generation = generations.get(material);
  if (generation === undefined) {
    generation = nextGeneration++;
    generations.set(material, generation);
  }
  return generation;
}
