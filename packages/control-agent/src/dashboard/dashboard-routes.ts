import { STREAM_TOKEN_HEADER } from '@weft/core';
import { holdsStream } from '../admin/client-routes.ts';
import { badRequest, HttpError, notFound } from '../http/http-error.ts';
import { readJsonBody } from '../http/read-body.ts';
import { sendJson } from '../http/respond.ts';
import type { Route } from '../http/router.ts';
import type { DashboardAccess } from './dashboard-access.ts';
import type { DashboardEvents } from './dashboard-events.ts';
import { type DashboardInputs, type DashboardView, type EdgeScope, edgeViewOf } from './dashboard-inputs.ts';
import { buildDashboardState } from './dashboard-state.ts';
import { parseEdgeReport } from './edge-report-input.ts';
import { dashboardPage } from './page/dashboard-page.ts';
import { serviceDetail } from './service-detail.ts';

export interface DashboardRouteDeps {
  readonly inputs: DashboardInputs;
  readonly access: DashboardAccess;
  readonly events: DashboardEvents;
  readonly maxRequestBytes: number;
}

/**
 * Edge reports in (`POST /v1/clients/{id}/edges`, with the client's stream token), and the
 * dashboard out: the page, its state, its event stream, a service's detail, and the edge view.
 * Everything out is behind DashboardAccess (loopback, or the admin token).
 */
export function dashboardRoutes(deps: DashboardRouteDeps): Route[] {
  const { inputs, access } = deps;
  const page = dashboardPage();
  return [
    {
      method: 'POST',
      path: '/v1/clients/{clientId}/edges',
      isWrite: false,
      // Held to the stream token, which only an authorized watch hands out.
      readers: 'anyone',
      handle: async ({ request, response, params }) => {
        const clientId = params.clientId ?? '';
        const record = inputs.clients.get(clientId);
        if (record === undefined) throw notFound(`client ${clientId} is unknown; open a watch first`);
        // The token is checked before the body is read: a peer without it makes the agent parse nothing.
        if (!holdsStream(record, request.headers[STREAM_TOKEN_HEADER])) {
          throw new HttpError(
            403,
            'not-stream-holder',
            `the edge report does not carry the token of client ${clientId}'s current watch stream (${STREAM_TOKEN_HEADER})`,
          );
        }
        const report = parseEdgeReport(await readJsonBody(request, deps.maxRequestBytes));
        inputs.edges.record(
          clientId,
          {
            namespace: record.namespace,
            workload: record.workload,
            app: report.source.app,
            version: report.source.version,
            ...(report.source.service === undefined ? {} : { service: report.source.service }),
          },
          report,
          inputs.clock.now(),
        );
        sendJson(response, 200, { clientId, recorded: report.edges.length });
      },
    },
    {
      method: 'GET',
      path: '/v1/edges',
      isWrite: false,
      // DashboardAccess decides (its 401 challenges a browser for Basic).
      readers: 'anyone',
      handle: async ({ request, response, url }) => {
        access.check(request);
        sendJson(response, 200, await edgeViewOf(inputs, viewOf(url, inputs)));
      },
    },
    {
      method: 'GET',
      path: '/dashboard',
      isWrite: false,
      // DashboardAccess decides (its 401 challenges a browser for Basic).
      readers: 'anyone',
      handle: ({ request, response }) => {
        access.check(request);
        const body = Buffer.from(page.html, 'utf8');
        response.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': body.length,
          'content-security-policy': page.contentSecurityPolicy,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
        });
        response.end(body);
      },
    },
    {
      method: 'GET',
      path: '/v1/dashboard/state',
      isWrite: false,
      // DashboardAccess decides.
      readers: 'anyone',
      handle: async ({ request, response, url }) => {
        access.check(request);
        sendJson(response, 200, await buildDashboardState(inputs, viewOf(url, inputs)));
      },
    },
    {
      method: 'GET',
      path: '/v1/dashboard/events',
      isWrite: false,
      // DashboardAccess decides.
      readers: 'anyone',
      handle: ({ request, response, url }) => {
        access.check(request);
        deps.events.open(response, viewOf(url, inputs));
      },
    },
    {
      method: 'GET',
      path: '/v1/dashboard/services/{host}',
      isWrite: false,
      // DashboardAccess decides.
      readers: 'anyone',
      handle: ({ request, response, params, url }) => {
        access.check(request);
        const host = (params.host ?? '').toLowerCase();
        const detail = serviceDetail(inputs, host, windowOf(url, inputs));
        if (detail === undefined) throw notFound(`nothing in the mesh mentions ${host}`);
        sendJson(response, 200, detail);
      },
    },
  ];
}

/** `?windowMs=` and `?scope=` (`local`, the default, or `mesh`: every agent's edges, §4.9). */
function viewOf(url: URL, inputs: DashboardInputs): DashboardView {
  return { windowMs: windowOf(url, inputs), scope: scopeOf(url) };
}

function scopeOf(url: URL): EdgeScope {
  const given = url.searchParams.get('scope');
  if (given === null || given === 'local') return 'local';
  if (given === 'mesh') return 'mesh';
  throw badRequest('scope must be "local" (this agent\'s clients) or "mesh" (every agent on the store)');
}

/** `?windowMs=`: whole milliseconds within what the edge windows keep; the longest by default. */
function windowOf(url: URL, inputs: DashboardInputs): number {
  const given = url.searchParams.get('windowMs');
  const maxMs = inputs.edges.maxWindowMs;
  if (given === null) return maxMs;
  const windowMs = /^[0-9]{1,9}$/.test(given) ? Number(given) : Number.NaN;
  if (!(windowMs >= inputs.edges.bucketMs && windowMs <= maxMs))
    throw badRequest(`windowMs must be a number of milliseconds from ${inputs.edges.bucketMs} to ${maxMs}`);
  return windowMs;
}
