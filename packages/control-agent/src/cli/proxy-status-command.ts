import type { RevisionMark } from '@weft/core';
import type { ClientRecord } from './agent-api.ts';
import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { ageSince, paint, renderDocument, renderTable } from './output.ts';

const NAME = 'proxy-status';

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
} as const;

const MAX_ERROR_CHARS = 60;

export const proxyStatusCommand: Command = {
  name: NAME,
  summary: "Each client's sync state: revision sent, acked, NACKed and why, last seen",
  help: `Usage: weft proxy-status [WORKLOAD_OR_CLIENT_ID] [-n NS] [-o table|yaml|json]

Lists the clients (the workloads' agent clients) the agent knows, connected or not:
  STATUS     SYNCED (acked what was sent), STALE (sent, not acked yet), NACKED (refused it and
             keeps serving its last good config), NOT SENT
  IN SYNC AT when SYNCED, the revision it is in sync at: the one it acked, or a later one that
             changed nothing it is sent (a change that concerns only other clients sends it none)
  SENT       revision of the last snapshot or delta sent
  ACKED      revision the client last applied
  NACK       revision it last refused, and the first line of why (-o yaml shows it whole)
  LAST SEEN  time since the agent last heard from it

Flags:
  -n, --namespace NS    only clients in this namespace
  -o, --output FORMAT   table (default), yaml or json`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const [only] = expectPositionals(NAME, positionals, ['WORKLOAD_OR_CLIENT_ID'], 1);
  const format = values.output ?? 'table';
  if (format !== 'table' && format !== 'yaml' && format !== 'json') {
    throw new UsageError(`-o must be table, yaml or json, not "${format}"`, NAME);
  }
  const clients = (await agentFor(values, io, NAME).clients()).filter(
    (client) =>
      (values.namespace === undefined || client.namespace === values.namespace) &&
      (only === undefined || client.clientId === only || client.workload === only),
  );
  if (format !== 'table') {
    io.stdout.write(renderDocument({ clients }, format));
    return ExitCodes.ok;
  }
  if (clients.length === 0) {
    io.stderr.write('No clients found.\n');
    return ExitCodes.ok;
  }
  const rows = clients.map((client) => [
    client.clientId,
    client.namespace,
    client.workload,
    statusCell(client, io),
    revision(client.inSyncAt),
    revision(client.sent),
    revision(client.acked),
    nackCell(client),
    client.lastSeen === undefined ? '<never>' : `${ageSince(client.lastSeen, io.now())} ago`,
  ]);
  io.stdout.write(
    renderTable(
      ['CLIENT', 'NAMESPACE', 'WORKLOAD', 'STATUS', 'IN SYNC AT', 'SENT', 'ACKED', 'NACK', 'LAST SEEN'],
      rows,
    ),
  );
  return ExitCodes.ok;
}

function statusCell(client: ClientRecord, io: CliIo): string {
  const status = client.status === '' ? '<unknown>' : client.status;
  const shown = client.connected ? status : `${status} (disconnected)`;
  if (status === 'NACKED') return paint(io.stdout, 'red', shown);
  if (status === 'STALE' || !client.connected) return paint(io.stdout, 'yellow', shown);
  return shown;
}

function revision(mark: RevisionMark | undefined): string {
  return mark === undefined ? '-' : String(mark.revision);
}

function nackCell(client: ClientRecord): string {
  if (client.nacked === undefined) return '-';
  const firstLine = (client.error ?? '').split('\n')[0] ?? '';
  const reason =
    firstLine.length > MAX_ERROR_CHARS ? `${firstLine.slice(0, MAX_ERROR_CHARS - 1)}…` : firstLine;
  return `${client.nacked.revision}: ${reason}`;
}
