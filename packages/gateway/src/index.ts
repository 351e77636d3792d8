// The public API of @weft/gateway. Everything not exported here is internal and may change.

export { type GatewayLogEntry, type IngressGatewayOptions, parseListenPorts } from './gateway-options.ts';
export type { GatewayStatus, ListenerStatus } from './gateway-status.ts';
export { createIngressGateway, IngressGateway } from './ingress-gateway.ts';
export { describeRefusal, type ServerRefusal, type ServerTransport } from './servers/gateway-server.ts';
