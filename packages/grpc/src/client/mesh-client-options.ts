import {
  Channel,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  credentials as grpcCredentials,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { Mesh } from '@weft/core';
import { MESH_CHANNEL_OPTION } from '../channel/mesh-channel-option.ts';
import { registerWeft } from '../channel/registration.ts';
import { resolveTargetService } from '../channel/target-service.ts';
import { createMeshInterceptor, type MeshInterceptorOptions } from '../outbound/mesh-interceptor.ts';
import { type MeshTransportSecurity, meshTransportSecurity } from '../security/transport-security.ts';
import { parseTarget, WEFT_SCHEME, weftTarget } from '../target/mesh-target.ts';
import { countedClientClass } from '../telemetry/counted-client.ts';
import { MessageSizes } from '../telemetry/message-sizes.ts';

export interface MeshClientOptions extends MeshInterceptorOptions {
  /**
   * Further grpc-js client and channel options. Their `interceptors` (or `interceptor_providers`)
   * run before the mesh's, so they see one logical call per call.
   */
  readonly clientOptions?: ClientOptions;
  /**
   * How connections are secured; see MeshTransportSecurity. By default the mesh's: ISTIO_MUTUAL
   * and auto-mTLS with the workload's identity (`mesh.identity`), the given credentials for
   * plaintext endpoints. `PLAINTEXT_TRANSPORT` uses the given credentials everywhere.
   */
  readonly transportSecurity?: MeshTransportSecurity;
}

/**
 * The grpc-js client options that put a client's calls to `target` through the mesh:
 *
 * ```ts
 * const client = new Reviews('weft:///reviews.default:9080', credentials.createInsecure(),
 *   meshClientOptions(mesh, 'weft:///reviews.default:9080', { service: Reviews.service }));
 * ```
 *
 * `target` is `weft:///<host>:<port>`, or a plain `reviews:9080`, which becomes the `weft:`
 * channel of that service. A plain target the mesh does not know when the options are made is
 * left alone under the workload's ALLOW_ANY outbound policy (a plain grpc-js client, DNS and all)
 * and refused per call (UNAVAILABLE, flag NR) under REGISTRY_ONLY.
 *
 * Options are per target: a client created with them for another address throws.
 */
export function meshClientOptions(
  mesh: Mesh,
  target: string,
  options: MeshClientOptions = {},
): ClientOptions {
  return clientOptionsOf(mesh, target, options, undefined);
}

/** meshClientOptions, with the message sizes a counted client class notes (createMeshClient). */
function clientOptionsOf(
  mesh: Mesh,
  target: string,
  options: MeshClientOptions,
  sizes: MessageSizes | undefined,
): ClientOptions {
  registerWeft();
  const given = options.clientOptions ?? {};
  const parsed = parseTarget(target);
  if (parsed === undefined) return { ...given };
  const view = mesh.outbound;
  const isMeshed =
    parsed.scheme === WEFT_SCHEME ||
    view.outboundTrafficPolicy === 'REGISTRY_ONLY' ||
    resolveTargetService(view, parsed.hostName, parsed.port) !== undefined;
  if (!isMeshed) return { ...given };
  const channelTarget = parsed.scheme === WEFT_SCHEME ? target : weftTarget(parsed.hostName, parsed.port);
  const security = options.transportSecurity ?? meshTransportSecurity(mesh);
  const interceptor = createMeshInterceptor(mesh, target, { ...options, transportSecurity: security }, sizes);
  const { interceptors, interceptor_providers: providers, ...rest } = given;
  return {
    ...rest,
    [MESH_CHANNEL_OPTION]: mesh,
    // grpc-js refuses both lists at once: the mesh joins whichever one the application uses.
    ...(providers !== undefined && providers.length > 0
      ? { interceptor_providers: [...providers, () => interceptor] }
      : { interceptors: [...(interceptors ?? []), interceptor] }),
    channelFactoryOverride: (address, credentials, channelOptions) => {
      if (address !== target) {
        throw new TypeError(
          `meshClientOptions(mesh, "${target}") was given to a client of "${address}": make the options per target`,
        );
      }
      const channelCredentials = security.channelCredentials(
        { hostName: parsed.hostName, port: parsed.port },
        credentials,
      );
      return new Channel(channelTarget, channelCredentials, channelOptions);
    },
  };
}

/** A generated client class (`loadPackageDefinition(…).pkg.Service`, `makeGenericClientConstructor`). */
export interface ClientConstructor<T extends Client> {
  new (address: string, credentials: ChannelCredentials, options?: ClientOptions): T;
  readonly service?: ServiceDefinition;
}

export interface CreateMeshClientOptions extends MeshClientOptions {
  /** Channel credentials; insecure unless given (or replaced by `transportSecurity`). */
  readonly credentials?: ChannelCredentials;
}

/**
 * A client of `target` through the mesh, in one call. It also reads the methods' idempotency
 * levels from the constructor's service definition, so IDEMPOTENT methods can be retried, and
 * counts each call's message bytes for telemetry (`istio_request_bytes`, `istio_response_bytes`,
 * the access log's bytes): the client is an instance of a subclass of `Constructor` whose methods
 * note the size of every message they serialize (MessageSizes). A constructor with no service
 * definition (and none in `options.service`) gets neither.
 */
export function createMeshClient<T extends Client>(
  mesh: Mesh,
  Constructor: ClientConstructor<T>,
  target: string,
  options: CreateMeshClientOptions = {},
): T {
  const { credentials, ...rest } = options;
  const service = rest.service ?? Constructor.service;
  const channelCredentials = credentials ?? grpcCredentials.createInsecure();
  if (service === undefined)
    return new Constructor(target, channelCredentials, clientOptionsOf(mesh, target, rest, undefined));
  const sizes = new MessageSizes();
  const clientOptions = clientOptionsOf(mesh, target, { ...rest, service }, sizes);
  // A target left to plain grpc-js (outside the mesh, ALLOW_ANY) has no interceptor to read sizes.
  const Meshed =
    MESH_CHANNEL_OPTION in clientOptions ? countedClientClass(Constructor, service, sizes) : Constructor;
  return new Meshed(target, channelCredentials, clientOptions);
}
