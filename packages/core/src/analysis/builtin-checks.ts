import { registerAnalysisCheck } from './check-registry.ts';
import { authorizationNegativeMatch } from './checks/authorization-negative-match.ts';
import { conflictingDestinationRules } from './checks/conflicting-destination-rules.ts';
import { conflictingVirtualServices } from './checks/conflicting-virtual-services.ts';
import { crossNamespaceHostClaim } from './checks/cross-namespace-host-claim.ts';
import { destinationHostNotFound } from './checks/destination-host-not-found.ts';
import { destinationPortNotFound } from './checks/destination-port-not-found.ts';
import { duplicateServiceEntryHost } from './checks/duplicate-service-entry-host.ts';
import { gatewayNotFound } from './checks/gateway-not-found.ts';
import { mtlsConflict } from './checks/mtls-conflict.ts';
import { routeShadowed } from './checks/route-shadowed.ts';
import { selectorMatchesNothing } from './checks/selector-matches-nothing.ts';
import { subsetNotDefined } from './checks/subset-not-defined.ts';
import { subsetSelectsNothing } from './checks/subset-selects-nothing.ts';
import { telemetryTagExpression } from './checks/telemetry-tag-expression.ts';
import { unsupportedField } from './checks/unsupported-field.ts';
import { virtualServiceHostNotFound } from './checks/virtual-service-host-not-found.ts';
import { weightsNot100 } from './checks/weights-not-100.ts';

for (const check of [
  subsetNotDefined,
  subsetSelectsNothing,
  destinationHostNotFound,
  destinationPortNotFound,
  virtualServiceHostNotFound,
  routeShadowed,
  weightsNot100,
  conflictingVirtualServices,
  conflictingDestinationRules,
  duplicateServiceEntryHost,
  gatewayNotFound,
  mtlsConflict,
  crossNamespaceHostClaim,
  selectorMatchesNothing,
  authorizationNegativeMatch,
  unsupportedField,
  telemetryTagExpression,
]) {
  registerAnalysisCheck(check);
}
