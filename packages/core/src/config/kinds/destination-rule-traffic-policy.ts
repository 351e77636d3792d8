import { z } from 'zod';
import {
  cappedArray,
  durationMs,
  int32,
  nonNegativeInt32,
  percentValue,
  portNumber,
  positiveDurationMs,
  uint32,
} from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import { connectionPoolSettingsSchema } from './destination-rule-connection-pool.ts';
import { loadBalancerSchema } from './destination-rule-load-balancer.ts';
import { fqdnProblem, isIpAddress } from './network-address.ts';
import { checkOneOf } from './one-of.ts';

/**
 * DestinationRule `trafficPolicy`, at the top, per port and per subset: load balancing, connection
 * pool, outlier detection, upstream (client) TLS, tunnelling, the PROXY protocol and retry budgets.
 */

const portSelector = z.strictObject({ number: portNumber });

const outlierDetection = z
  .strictObject({
    consecutiveErrors: nonNegativeInt32('consecutiveErrors').optional(),
    splitExternalLocalOriginErrors: z.boolean().optional(),
    consecutiveLocalOriginFailures: uint32.optional(),
    consecutiveGatewayErrors: uint32.optional(),
    consecutive5xxErrors: uint32.optional(),
    interval: positiveDurationMs.optional(),
    baseEjectionTime: positiveDurationMs.optional(),
    maxEjectionPercent: int32
      .min(0, 'maxEjectionPercent must be 0–100')
      .max(100, 'maxEjectionPercent must be 0–100')
      .optional(),
    minHealthPercent: int32
      .min(0, 'minHealthPercent must be 0–100')
      .max(100, 'minHealthPercent must be 0–100')
      .optional(),
    outlierDetectionHttpErrorCodes: cappedArray(
      z.number().int().min(100, 'status codes must be 100–599').max(599, 'status codes must be 100–599'),
    ).optional(),
  })
  .superRefine((outlier, context) => {
    if (
      (outlier.consecutiveLocalOriginFailures ?? 0) > 0 &&
      outlier.splitExternalLocalOriginErrors !== true
    ) {
      addProblem(
        context,
        'consecutiveLocalOriginFailures counts only with splitExternalLocalOriginErrors: true; set it',
        ['consecutiveLocalOriginFailures'],
      );
    }
  })
  // The proto documents `consecutiveErrors` as counting 502, 503 and 504 (gateway errors), and Istio
  // used to translate it so, with 5xx ejection switched off: keep both halves of that meaning.
  // (Istio ≥ 1.7 ignores the field with a warning; honouring the documented meaning is safer.)
  .transform(({ consecutiveErrors, ...outlier }) => {
    if (consecutiveErrors === undefined || consecutiveErrors === 0) return outlier;
    return {
      ...outlier,
      consecutiveGatewayErrors: outlier.consecutiveGatewayErrors ?? consecutiveErrors,
      consecutive5xxErrors: outlier.consecutive5xxErrors ?? 0,
    };
  });

const clientTls = z
  .strictObject({
    mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
    clientCertificate: z.string().optional(),
    privateKey: z.string().optional(),
    caCertificates: z.string().optional(),
    credentialName: z.string().optional(),
    subjectAltNames: cappedArray(z.string()).optional(),
    sni: z.string().optional(),
    insecureSkipVerify: z.boolean().optional(),
    caCrl: z.string().optional(),
  })
  .superRefine((tls, context) => {
    const { mode, credentialName, caCertificates, subjectAltNames, clientCertificate, privateKey, caCrl } =
      tls;
    if (tls.insecureSkipVerify === true) {
      const conflicts =
        mode === 'SIMPLE'
          ? { caCertificates, credentialName, subjectAltNames }
          : mode === 'MUTUAL'
            ? { caCertificates, subjectAltNames }
            : {};
      const present = Object.entries(conflicts).filter(([, value]) => value !== undefined && value !== '');
      if (present.length > 0) {
        addProblem(
          context,
          `insecureSkipVerify skips the checks that ${present.map(([key]) => key).join(', ')} configure; remove one side`,
          ['insecureSkipVerify'],
        );
      }
    }
    if ((mode === 'SIMPLE' || mode === 'MUTUAL') && credentialName) {
      if (clientCertificate || caCertificates || privateKey || caCrl) {
        addProblem(
          context,
          'credentialName replaces clientCertificate, privateKey, caCertificates and caCrl; keep one source',
          ['credentialName'],
        );
      }
      return;
    }
    if (mode === 'MUTUAL') {
      if (!clientCertificate)
        addProblem(context, 'MUTUAL TLS needs clientCertificate (or credentialName)', ['clientCertificate']);
      if (!privateKey) addProblem(context, 'MUTUAL TLS needs privateKey (or credentialName)', ['privateKey']);
    }
  })
  .transform((tls) => ({ ...tls, mode: tls.mode ?? 'DISABLE' }));

const tunnelSettings = z.strictObject({
  protocol: z.enum(['CONNECT', 'POST'], 'tunnel protocol must be "CONNECT" or "POST"').optional(),
  targetHost: z
    .string()
    .refine(
      (host) => isIpAddress(host) || fqdnProblem(host) === undefined,
      'targetHost must be a fully-qualified name or IP',
    ),
  targetPort: portNumber,
});

const retryBudget = z.strictObject({
  percent: percentValue.optional(),
  minRetryConcurrency: uint32.optional(),
  // 0 (the default) means "only requests active right now count".
  budgetInterval: durationMs().optional(),
});

const portTrafficPolicy = z
  .strictObject({
    port: portSelector,
    loadBalancer: loadBalancerSchema.optional(),
    connectionPool: connectionPoolSettingsSchema.optional(),
    outlierDetection: outlierDetection.optional(),
    tls: clientTls.optional(),
  })
  .superRefine((policy, context) => {
    const { loadBalancer, connectionPool, outlierDetection, tls } = policy;
    if ([loadBalancer, connectionPool, outlierDetection, tls].every((field) => field === undefined)) {
      addProblem(context, 'a port-level policy needs loadBalancer, connectionPool, outlierDetection or tls');
    }
  });

const TRAFFIC_POLICY_FIELDS = [
  'loadBalancer',
  'connectionPool',
  'outlierDetection',
  'tls',
  'portLevelSettings',
  'tunnel',
  'proxyProtocol',
  'retryBudget',
] as const;

export const trafficPolicySchema = z
  .strictObject({
    loadBalancer: loadBalancerSchema.optional(),
    connectionPool: connectionPoolSettingsSchema.optional(),
    outlierDetection: outlierDetection.optional(),
    tls: clientTls.optional(),
    portLevelSettings: cappedArray(portTrafficPolicy, 4096).optional(),
    tunnel: tunnelSettings.optional(),
    proxyProtocol: z
      .strictObject({ version: z.enum(['V1', 'V2']).optional() })
      .transform((proxyProtocol) => ({ version: proxyProtocol.version ?? 'V1' }))
      .optional(),
    retryBudget: retryBudget.optional(),
  })
  .superRefine((policy, context) => {
    if (TRAFFIC_POLICY_FIELDS.every((field) => policy[field] === undefined)) {
      addProblem(context, `trafficPolicy needs at least one of ${TRAFFIC_POLICY_FIELDS.join(', ')}`);
    }
    checkOneOf(policy, ['tunnel', 'proxyProtocol'], context);
  });
