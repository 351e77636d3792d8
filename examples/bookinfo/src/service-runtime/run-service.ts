/**
 * One Bookinfo service as its own process:
 *   node --conditions=@weft/source run-service.ts <details|ratings|reviews|productpage> [v1|v2|v3] --agent URL
 *     --join-token-file FILE
 * Its identity is the sample's: workload `<service>-<version>`, service account
 * `bookinfo-<service>`, labels `app` and `version`. Its telemetry is the OpenTelemetry SDK's,
 * configured by the OTEL_* environment variables (telemetry/start-telemetry.ts). Prints
 * `{"metrics":…}` and then `{"ready":…,"port":…}` once serving.
 */
import type { RequestListener } from 'node:http';
import { parseArgs } from 'node:util';
import type { Mesh } from '@weft/core';
import { createDetailsHandler } from '../details/details-handler.ts';
import { createProductPageHandler } from '../productpage/productpage-handler.ts';
import { createRatingsHandler } from '../ratings/ratings-handler.ts';
import { createReviewsHandler } from '../reviews/reviews-handler.ts';
import { isReviewsVersion } from '../reviews/reviews-versions.ts';
import { startTelemetry } from '../telemetry/start-telemetry.ts';
import {
  announceReady,
  CREDENTIAL_FLAGS,
  closeOnSignals,
  readCredentialFiles,
  startMeshedProcess,
} from './meshed-process.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    agent: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    ...CREDENTIAL_FLAGS,
  },
});
const [service, version = 'v1'] = positionals;
const agentUrl = values.agent;
if (agentUrl === undefined) throw new Error('--agent URL is required');

function handlerFactory(): (mesh: Mesh) => RequestListener {
  switch (service) {
    case 'details':
      return () => createDetailsHandler();
    case 'ratings':
      return () => createRatingsHandler();
    case 'productpage':
      return (mesh) => createProductPageHandler(mesh);
    case 'reviews':
      if (!isReviewsVersion(version)) throw new Error(`reviews has versions v1, v2 and v3, not ${version}`);
      return (mesh) => createReviewsHandler(mesh, version);
    default:
      throw new Error(`unknown Bookinfo service ${String(service)}`);
  }
}

// The SDK first, so the mesh records into it from its first request.
const telemetry = await startTelemetry();
const name = `${service}-${version}`;
const running = await startMeshedProcess({
  agentUrl,
  name,
  namespace: values.namespace,
  service,
  serviceAccount: `bookinfo-${service}`,
  labels: { app: String(service), version },
  createHandler: handlerFactory(),
  credentials: await readCredentialFiles(values),
});
closeOnSignals(async () => {
  await running.close();
  await telemetry.shutdown();
});
announceReady(name, running.port);
