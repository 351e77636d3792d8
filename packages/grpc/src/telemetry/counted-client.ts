import { type Client, makeClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import type { MessageSizes } from './message-sizes.ts';

/** Names grpc-js never makes methods of (makeClientConstructor skips them). */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/** A client class, as createMeshClient takes it. */
type ClientClass<T extends Client> = new (...args: ConstructorParameters<typeof Client>) => T;

/**
 * A subclass of `Constructor` whose methods of `service` serialize requests and deserialize
 * responses through `sizes` (MessageSizes), so the mesh's interceptor can tell each call's
 * telemetry its message sizes. grpc-js binds a generated client's methods to the serializers of
 * its service definition when the class is made, so counting means a class of its own: grpc-js
 * makes one from the wrapped definition (makeClientConstructor), and its methods replace the
 * originals on a subclass, so the client is still an instance of `Constructor` and keeps any
 * method the application added.
 */
export function countedClientClass<T extends Client>(
  Constructor: ClientClass<T>,
  service: ServiceDefinition,
  sizes: MessageSizes,
): ClientClass<T> {
  const counted: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(service)) {
    if (RESERVED_NAMES.has(name)) continue;
    counted[name] = {
      ...method,
      requestSerialize: sizes.serializer(method.requestSerialize),
      responseDeserialize: sizes.deserializer(method.responseDeserialize),
    };
  }
  const serviceName = (Constructor as { serviceName?: unknown }).serviceName;
  const Generated = makeClientConstructor(
    counted,
    typeof serviceName === 'string' ? serviceName : 'MeshClient',
  );
  class CountedClient extends (Constructor as ClientClass<Client>) {}
  for (const [name, method] of Object.entries(counted)) {
    const requester = Object.getOwnPropertyDescriptor(Generated.prototype, name);
    if (requester === undefined) continue;
    Object.defineProperty(CountedClient.prototype, name, requester);
    const alias = method.originalName;
    if (alias !== undefined && alias !== name && !RESERVED_NAMES.has(alias))
      Object.defineProperty(CountedClient.prototype, alias, requester);
  }
  return CountedClient as ClientClass<T>;
}
