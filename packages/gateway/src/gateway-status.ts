import type { ServerRefusal, ServerTransport } from './servers/gateway-server.ts';

export interface ListenerStatus {
  /** The Gateway server port. */
  readonly port: number;
  /** The port bound for it; undefined while it is being bound or could not be. */
  readonly listenPort: number | undefined;
  /** Undefined for a mapped port no server uses now. */
  readonly transport: ServerTransport | undefined;
  /** Labels of the servers served on it. */
  readonly servers: readonly string[];
}

export interface GatewayStatus {
  readonly listeners: readonly ListenerStatus[];
  /** Servers not served, each with the Gateway, server, field, path and reason. */
  readonly refused: readonly ServerRefusal[];
  /**
   * Servers still served with their previous certificate because the files changed to something
   * unusable (a rotation that wrote a bad certificate).
   */
  readonly staleCertificates: readonly ServerRefusal[];
}
