import { parseDurationMs } from '@weft/core';
import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { arrayOf, record, text } from './json-fields.ts';
import { paint, parseOutputFormat, renderDocument, renderTable } from './output.ts';

const NAME = 'ca';

const OPTIONS = {
  'activate-after': { type: 'string' },
  overlap: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

export const caCommand: Command = {
  name: NAME,
  summary: "The agent's certificate authority: its roots, the trust bundle, root rotation",
  help: `Usage: weft ca status [-o table|yaml|json]
       weft ca bundle
       weft ca rotate [--activate-after 60s] [--overlap DURATION]

status   every root: SIGNING (issues certificates now), PENDING (trusted, signs later), RETIRING
         (trusted until its SVIDs have expired), with expiry dates; and warnings, e.g. a CA
         certificate close to expiry. Exit 1 when there is a warning.
bundle   the trust bundle as PEM (what workloads trust), e.g. for openssl verify -CAfile.
rotate   starts a root rotation: a new root is trusted at once, signs new certificates after
         --activate-after (time for the bundle to reach every workload, default 60s), and the
         current root stays trusted for --overlap after that (default: the SVID lifetime + 1h,
         so that every certificate it signed expires first). Workloads renew early once the new
         root signs. Needs the admin token. Not for an operator-supplied CA: give it new files.`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const [action] = expectPositionals(NAME, positionals, ['status|bundle|rotate']);
  const agent = agentFor(values, io, NAME);
  if (action === 'bundle') {
    const { body } = await agent.request('GET', '/v1/ca/bundle');
    for (const root of arrayOf(record(body).roots)) io.stdout.write(text(root));
    return ExitCodes.ok;
  }
  if (action === 'rotate') {
    const request: Record<string, string> = {};
    for (const [flag, field] of [
      ['activate-after', 'activateAfter'],
      ['overlap', 'overlap'],
    ] as const) {
      const value = values[flag];
      if (value === undefined) continue;
      const parsed = parseDurationMs(value);
      if (!parsed.ok) throw new UsageError(`--${flag}: ${parsed.reason}`, NAME);
      request[field] = value;
    }
    const { body } = await agent.request('POST', '/v1/ca/rotate', {
      body: JSON.stringify(request),
      contentType: 'application/json',
    });
    const answer = record(body);
    io.stdout.write(
      `new root ${text(answer.newRootSha256).slice(0, 16)}… signs from ${text(answer.activatesAt)}; ` +
        `root ${text(answer.previousRootSha256).slice(0, 16)}… is trusted until ${text(answer.previousRetiresAt)}\n`,
    );
    return ExitCodes.ok;
  }
  if (action !== 'status') throw new UsageError(`unknown action "${action}" (status, bundle, rotate)`, NAME);
  const format = parseOutputFormat(values.output, NAME);
  const { body } = await agent.request('GET', '/v1/ca');
  const status = record(body);
  const warnings = arrayOf(status.warnings).map(text);
  if (format !== 'table') {
    io.stdout.write(renderDocument(status, format));
  } else {
    io.stdout.write(`Trust domain: ${text(status.trustDomain)}  (${text(status.mode)} CA)\n`);
    const rows = arrayOf(status.authorities).map((entry) => {
      const authority = record(entry);
      return [
        `${text(authority.rootSha256).slice(0, 16)}…`,
        text(authority.state).toUpperCase(),
        text(authority.subject),
        text(authority.notAfter),
        text(authority.activatesAt) || '-',
        text(authority.retiresAt) || '-',
      ];
    });
    io.stdout.write(
      renderTable(['ROOT', 'STATE', 'SUBJECT', 'NOT AFTER', 'SIGNS FROM', 'TRUSTED UNTIL'], rows),
    );
  }
  for (const warning of warnings) io.stderr.write(`${paint(io.stderr, 'yellow', 'warning')}: ${warning}\n`);
  return warnings.length === 0 ? ExitCodes.ok : ExitCodes.failed;
}
