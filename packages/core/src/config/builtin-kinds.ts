import { registerKind } from './kind-registry.ts';
import { authorizationPolicyKind } from './kinds/authorization-policy.ts';
import { destinationRuleKind } from './kinds/destination-rule.ts';
import { gatewayKind } from './kinds/gateway.ts';
import { kubernetesServiceKind } from './kinds/kubernetes-service.ts';
import { peerAuthenticationKind } from './kinds/peer-authentication.ts';
import { requestAuthenticationKind } from './kinds/request-authentication.ts';
import { serviceEntryKind } from './kinds/service-entry.ts';
import { sidecarKind } from './kinds/sidecar.ts';
import { telemetryKind } from './kinds/telemetry.ts';
import { virtualServiceKind } from './kinds/virtual-service.ts';
import { workloadEntryKind } from './kinds/workload-entry.ts';

/** Istio's kinds and Kubernetes' Service, registered through the same call an extension kind would use. */
export function registerBuiltinKinds(): void {
  registerKind(virtualServiceKind);
  registerKind(destinationRuleKind);
  registerKind(serviceEntryKind);
  registerKind(workloadEntryKind);
  registerKind(sidecarKind);
  registerKind(gatewayKind);
  registerKind(peerAuthenticationKind);
  registerKind(requestAuthenticationKind);
  registerKind(authorizationPolicyKind);
  registerKind(telemetryKind);
  registerKind(kubernetesServiceKind);
}

registerBuiltinKinds();
