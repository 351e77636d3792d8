import { parseDurationMs } from '@weft/core';
import { ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { record, text } from './json-fields.ts';
import { renderDocument } from './output.ts';

const NAME = 'token';

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'service-account': { type: 'string' },
  ttl: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

export const tokenCommand: Command = {
  name: NAME,
  summary: 'Create or revoke join tokens: how a workload first proves its identity to the CA',
  help: `Usage: weft token create --namespace NS --service-account SA [--ttl 1h] [-o text|yaml|json]
       weft token revoke TOKEN_ID
       weft token revoke --namespace NS --service-account SA

create   issues a join token for spiffe://<trust domain>/ns/NS/sa/SA. A workload gives it to
         connectToAgent({ identity: { joinToken } }) to get its first certificate; renewals use
         the certificate itself. The token is printed alone on standard output (its id and expiry
         on standard error), so that it can be captured: TOKEN=$(weft token create ...).
revoke   with TOKEN_ID (printed by create): that token is refused from now on. With a namespace
         and service account: every token issued for the identity until now is refused, and so is
         renewing any certificate issued for it until now (workloads must join again).

Both need the agent's admin token (--token or $WEFT_TOKEN), whatever address they come from.

Flags:
  -n, --namespace NS          the workload's namespace
      --service-account SA    the workload's service account
      --ttl DURATION          how long the token is valid (default 1h; at most the agent's limit, 720h)
  -o, --output FORMAT         text (default: the token), yaml or json (token, id, identity, expiry)`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const action = positionals[0];
  if (action === 'create') return create(values, positionals, io);
  if (action === 'revoke') return revoke(values, positionals, io);
  throw new UsageError(
    action === undefined ? 'missing create or revoke' : `unknown action "${action}" (create, revoke)`,
    NAME,
  );
}

type Values = ReturnType<typeof parseCommandLine<typeof OPTIONS>>['values'];

async function create(values: Values, positionals: readonly string[], io: CliIo): Promise<number> {
  expectPositionals(NAME, positionals, ['create']);
  const { namespace, serviceAccount } = identityFlags(values, true);
  const ttl = values.ttl ?? '1h';
  const parsed = parseDurationMs(ttl);
  if (!parsed.ok) throw new UsageError(`--ttl: ${parsed.reason}`, NAME);
  const format = values.output ?? 'text';
  if (format !== 'text' && format !== 'yaml' && format !== 'json') {
    throw new UsageError(`-o must be text, yaml or json, not "${format}"`, NAME);
  }
  const agent = agentFor(values, io, NAME);
  const { body } = await agent.request('POST', '/v1/tokens', {
    body: JSON.stringify({ namespace, serviceAccount, ttl }),
    contentType: 'application/json',
  });
  const answer = record(body);
  if (format === 'text') {
    io.stdout.write(`${text(answer.token)}\n`);
    io.stderr.write(
      `token ${text(answer.tokenId)} for ${text(answer.spiffeId)}, valid until ${text(answer.expiresAt)}\n`,
    );
  } else {
    io.stdout.write(renderDocument(answer, format));
  }
  return ExitCodes.ok;
}

async function revoke(values: Values, positionals: readonly string[], io: CliIo): Promise<number> {
  const [, tokenId] = expectPositionals(NAME, positionals, ['revoke', 'TOKEN_ID'], 1);
  const flags = identityFlags(values, tokenId === undefined);
  if (tokenId !== undefined && (flags.namespace !== undefined || flags.serviceAccount !== undefined)) {
    throw new UsageError('give a TOKEN_ID, or --namespace and --service-account, not both', NAME);
  }
  const agent = agentFor(values, io, NAME);
  const request =
    tokenId !== undefined
      ? { tokenId }
      : { namespace: flags.namespace, serviceAccount: flags.serviceAccount };
  const { body } = await agent.request('POST', '/v1/tokens/revocations', {
    body: JSON.stringify(request),
    contentType: 'application/json',
  });
  const revoked = record(record(body).revoked);
  io.stdout.write(
    tokenId !== undefined
      ? `token ${tokenId} revoked\n`
      : `every token and certificate issued for ${text(revoked.spiffeId)} before ${text(revoked.before)} revoked\n`,
  );
  return ExitCodes.ok;
}

function identityFlags(
  values: Values,
  isRequired: boolean,
): { namespace: string | undefined; serviceAccount: string | undefined } {
  const namespace = values.namespace;
  const serviceAccount = values['service-account'];
  if (isRequired && (namespace === undefined || serviceAccount === undefined)) {
    throw new UsageError('--namespace and --service-account are required', NAME);
  }
  return { namespace, serviceAccount };
}
