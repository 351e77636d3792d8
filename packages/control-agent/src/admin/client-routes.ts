import { timingSafeEqual } from 'node:crypto';
import { STREAM_TOKEN_HEADER } from '@weft/core';
import { type ClientRecord, inSyncAt, sameMark, syncStatusOf } from '../clients/client-registry.ts';
import { parsePostedConfigDump, parseStatusReport } from '../clients/status-report.ts';
import { HttpError, notFound } from '../http/http-error.ts';
import { readJsonBody } from '../http/read-body.ts';
import { sendJson } from '../http/respond.ts';
import type { Route } from '../http/router.ts';
import type { Store } from '../store/store.ts';
import type { AdminDeps } from './admin-deps.ts';

/** The watch itself, the clients' ACK/NACK reports, and what the agent knows of each client. */
export function clientRoutes(deps: AdminDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/watch',
      isWrite: false,
      // A credential even from loopback: the stream carries every policy and endpoint in view.
      readers: 'admin-or-workload',
      handle: ({ request, response, url, caller }) =>
        deps.hub.open(request, response, url.searchParams, caller),
    },
    {
      method: 'POST',
      path: '/v1/status',
      isWrite: false,
      // Held to the stream token, which only an authorized watch hands out.
      readers: 'anyone',
      handle: async ({ request, response }) => {
        const report = parseStatusReport(await readJsonBody(request, deps.maxRequestBytes));
        const record = deps.clients.get(report.clientId);
        if (record === undefined) throw notFound(`client ${report.clientId} is unknown; open a watch first`);
        if (!holdsStream(record, request.headers[STREAM_TOKEN_HEADER])) {
          throw new HttpError(
            403,
            'not-stream-holder',
            `the report does not carry the token of client ${report.clientId}'s current watch stream (${STREAM_TOKEN_HEADER})`,
          );
        }
        const sent = record.lastSent;
        if (sent === undefined || sent.epoch !== report.mark.epoch || report.mark.revision > sent.revision) {
          throw new HttpError(
            409,
            'not-sent',
            `revision ${report.mark.epoch}/${report.mark.revision} was never sent to client ${report.clientId}`,
            { details: { lastSent: sent ?? null } },
          );
        }
        if (report.status === 'ack') deps.clients.recordAck(record, report.mark);
        else deps.clients.recordNack(record, report.mark, report.error ?? '(no reason given)');
        if (report.configDump !== undefined) {
          record.configDump = report.configDump;
          record.configDumpMark = report.mark;
        }
        sendJson(response, 200, { clientId: record.clientId, recorded: report.status, mark: report.mark });
      },
    },
    {
      method: 'GET',
      path: '/v1/clients',
      isWrite: false,
      handle: ({ response }) => {
        sendJson(response, 200, {
          mark: deps.cache.mark,
          totals: { ...deps.clients.totals, connected: deps.hub.size },
          clients: deps.clients.list().map((record) => clientView(record)),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/clients/{clientId}/config',
      isWrite: false,
      handle: async ({ response, params }) => {
        const clientId = params.clientId ?? '';
        const record = deps.clients.get(clientId);
        if (record === undefined) throw notFound(`client ${clientId} is unknown`);
        // Clients send their views only when asked: ask, and wait a little for the answer.
        if (!hasCurrentDump(record) && deps.hub.requestConfigDump(clientId)) {
          await deps.configDumps.wait(clientId, CONFIG_DUMP_WAIT_MS);
        }
        if (record.configDump === undefined) {
          if (!record.isConnected)
            throw notFound(`client ${clientId} is not connected and never sent its config`);
          throw new HttpError(
            504,
            'client-did-not-answer',
            `client ${clientId} did not send its config within ${CONFIG_DUMP_WAIT_MS} ms`,
          );
        }
        sendJson(response, 200, {
          clientId,
          acked: record.lastAcked ?? null,
          dumpMark: record.configDumpMark ?? null,
          isCurrent: hasCurrentDump(record),
          configDump: record.configDump,
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/clients/{clientId}/config',
      isWrite: false,
      // Held to the stream token, which only an authorized watch hands out.
      readers: 'anyone',
      handle: async ({ request, response, params }) => {
        const clientId = params.clientId ?? '';
        const posted = parsePostedConfigDump(await readJsonBody(request, deps.maxRequestBytes));
        const record = deps.clients.get(clientId);
        if (record === undefined) throw notFound(`client ${clientId} is unknown; open a watch first`);
        if (!holdsStream(record, request.headers[STREAM_TOKEN_HEADER])) {
          throw new HttpError(
            403,
            'not-stream-holder',
            `the config dump does not carry the token of client ${clientId}'s current watch stream (${STREAM_TOKEN_HEADER})`,
          );
        }
        record.configDump = posted.configDump;
        record.configDumpMark = posted.mark;
        deps.configDumps.delivered(clientId);
        sendJson(response, 200, { clientId, mark: posted.mark });
      },
    },
    {
      method: 'GET',
      path: '/healthz',
      isWrite: false,
      readers: 'anyone',
      handle: async ({ response }) => {
        // Following the store's watch is not enough: etcd's client retries a broken watch inside
        // its own loop, so the store itself is asked, within a short deadline.
        const isHealthy = deps.cache.isFollowing && (await answersWithin(deps.store, HEALTH_PROBE_MS));
        sendJson(response, isHealthy ? 200 : 503, {
          status: isHealthy ? 'ok' : 'store-unreachable',
          mark: deps.cache.mark,
          watchClients: deps.hub.size,
          selfCheck: deps.cache.selfCheck,
        });
      },
    },
  ];
}

function clientView(record: ClientRecord): Record<string, unknown> {
  const nacked = record.lastNacked;
  return {
    clientId: record.clientId,
    namespace: record.namespace,
    workload: record.workload,
    protocolVersion: record.protocolVersion,
    credential: record.watcher.credential,
    identity: 'spiffeId' in record.watcher ? record.watcher.spiffeId : null,
    connected: record.isConnected,
    status: syncStatusOf(record),
    inSyncAt: inSyncAt(record) ?? null,
    sent: record.lastSent ?? null,
    acked: record.lastAcked ?? null,
    nacked: nacked?.mark ?? null,
    error: nacked?.error ?? null,
    nackedAt: nacked === undefined ? null : new Date(nacked.atMs).toISOString(),
    acks: record.ackCount,
    nacks: record.nackCount,
    snapshotsSent: record.snapshotCount,
    deltasSent: record.deltaCount,
    backpressured: record.isBackpressured,
    hasConfigDump: record.configDump !== undefined,
    lastSeen: new Date(record.lastSeenMs).toISOString(),
  };
}

/** How long `GET /v1/clients/{id}/config` waits for a client to send the view it was asked for. */
const CONFIG_DUMP_WAIT_MS = 3_000;

/**
 * Whether the client's stored view is of the revision it last acknowledged, or of a later one it
 * is in sync at (a client adopts the mark of a heartbeat when nothing it is sent changed).
 */
function hasCurrentDump(record: ClientRecord): boolean {
  const dumped = record.configDumpMark;
  const acked = record.lastAcked;
  if (dumped === undefined || acked === undefined) return false;
  if (sameMark(dumped, acked)) return true;
  const synced = inSyncAt(record);
  return (
    synced !== undefined &&
    dumped.epoch === synced.epoch &&
    dumped.revision >= acked.revision &&
    dumped.revision <= synced.revision
  );
}

/** Whether `token` is the client's current stream token, compared in constant time. */
export function holdsStream(record: ClientRecord, token: string | string[] | undefined): boolean {
  if (typeof token !== 'string') return false;
  const expected = Buffer.from(record.streamToken);
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** How long /healthz waits for the store to answer before it calls it unreachable. */
const HEALTH_PROBE_MS = 1000;

async function answersWithin(store: Store, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      store.mark().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
