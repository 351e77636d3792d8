import { resolve } from 'node:path';
import { parseDurationMs, SpiffeIdError } from '@weft/core';
import type { Agent } from '../agent/create-agent.ts';
import { CaMaterialError } from '../ca/signing-authority.ts';
import type { Store } from '../store/store.ts';
import { CA_FLAGS, CA_FLAGS_HELP, caOptionsFromFlags } from './ca-flags.ts';
import { CommandFailedError, ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { type Command, expectPositionals, parseCommandLine } from './command.ts';

const NAME = 'agent';

export const DEFAULT_AGENT_PORT = 15010;

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'in-memory': { type: 'boolean' },
  store: { type: 'string' },
  'admin-token': { type: 'string' },
  'advertise-url': { type: 'string' },
  'self-check-interval': { type: 'string' },
  ...CA_FLAGS,
} as const;

export const agentCommand: Command = {
  name: NAME,
  summary: 'Run the control agent',
  help: `Usage: weft agent [--port N] [--host ADDR] [--data-dir DIR | --in-memory | --store etcd://HOST:PORT[,...]]
                  [--admin-token TOKEN] [--advertise-url URL] [--self-check-interval DURATION]
                  [--trust-domain TD] [--svid-ttl DURATION]
                  [--ca-cert FILE --ca-key FILE [--ca-chain FILE] --ca-root FILE]

Runs the agent until SIGINT or SIGTERM, then closes every watch and its store and exits 0.
Prints its address on standard output once it listens.

By default the agent keeps the mesh in an embedded store persisted to --data-dir, so a restart
loses nothing. With --store etcd://... it keeps everything in etcd, so that several agents serve
one mesh. Without an admin token, writes are accepted only from loopback.

Flags:
  -p, --port N              TCP port (default ${DEFAULT_AGENT_PORT}; 0 picks a free one)
      --host ADDR           interface to listen on (default 127.0.0.1)
      --data-dir DIR        embedded store's directory (default ./.weft-agent)
      --in-memory           embedded store without a directory: everything is lost on exit
      --store URL           etcd://host:port[,host:port...] (https via etcds://)
      --admin-token TOKEN   required as Bearer token on writes, 16 characters or more
                            (default: $WEFT_ADMIN_TOKEN); join tokens and CA rotation need it
      --advertise-url URL   where the other agents on the same etcd reach this one, for the
                            dashboard's merged view (default: the address it listens on)
      --self-check-interval DURATION
                            how often the agent lists its store and compares it with what its
                            watch delivered, repairing a disagreement (default 60s; 0 turns it off)
${CA_FLAGS_HELP}`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  expectPositionals(NAME, positionals, []);
  const port = parsePort(values.port);
  const host = values.host ?? '127.0.0.1';
  const adminToken = values['admin-token'] ?? nonEmpty(io.env.WEFT_ADMIN_TOKEN);
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new UsageError('the admin token must be 16 characters or more', NAME);
  }
  const advertiseUrl = values['advertise-url'];
  if (advertiseUrl !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(advertiseUrl)) {
    throw new UsageError(`--advertise-url must be http://host:port, not "${advertiseUrl}"`, NAME);
  }
  const selfCheckIntervalMs = parseSelfCheckInterval(values['self-check-interval']);
  const storeChoices = [values.store, values['data-dir'], values['in-memory']].filter((v) => v !== undefined);
  if (storeChoices.length > 1) throw new UsageError('give one of --store, --data-dir and --in-memory', NAME);

  const logger = {
    warn: (message: string, fields?: Readonly<Record<string, unknown>>) => {
      io.stderr.write(
        `weft agent: warning: ${message}${fields === undefined ? '' : ` ${describeFields(fields)}`}\n`,
      );
    },
  };
  const ca = await caOptionsFromFlags(values, io, NAME);
  const { store, description } = await openStore(values, io, logger.warn);
  // Loaded here, not at the top: the agent and etcd's gRPC client would slow every other command.
  const { createAgent } = await import('../agent/create-agent.ts');
  let agent: Agent;
  try {
    agent = await createAgent({
      store,
      host,
      port,
      ...(adminToken === undefined ? {} : { adminToken }),
      ...(advertiseUrl === undefined ? {} : { peers: { advertiseUrl } }),
      ...(selfCheckIntervalMs === undefined ? {} : { selfCheckIntervalMs }),
      logger,
      ca,
    });
  } catch (error) {
    await store.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE')
      throw new CommandFailedError(`${host}:${port} is already in use`, { cause: error });
    if (code === 'EADDRNOTAVAIL') throw new CommandFailedError(`cannot listen on ${host}`, { cause: error });
    // A CA the agent cannot use (operator files, a stored CA of another trust domain, a bad trust
    // domain) is the operator's to fix: say what, without a stack.
    if (error instanceof CaMaterialError || error instanceof SpiffeIdError) {
      throw new CommandFailedError(`cannot start the CA: ${error.message}`, { cause: error });
    }
    throw error;
  }
  io.stdout.write(`weft agent listening on ${agent.url} (store: ${description})\n`);
  if (adminToken === undefined) {
    io.stderr.write(
      'weft agent: no admin token (development mode): writes are accepted from loopback only; reads and the watch are open to anyone who reaches the agent.\n',
    );
  }
  await waitForAbort(io.shutdown);
  io.stderr.write('weft agent: shutting down\n');
  try {
    await agent.close();
  } finally {
    await store.close();
  }
  return ExitCodes.ok;
}

async function openStore(
  values: { readonly store?: string; readonly 'data-dir'?: string; readonly 'in-memory'?: boolean },
  io: CliIo,
  warn: (message: string, fields?: Readonly<Record<string, unknown>>) => void,
): Promise<{ readonly store: Store; readonly description: string }> {
  const onBackgroundError = (error: unknown): void => warn('store background task failed', { error });
  const { MemoryStore } = await import('../store/memory-store.ts');
  if (values.store !== undefined) {
    const endpoints = etcdEndpoints(values.store);
    const { EtcdStore } = await import('../store/etcd-store.ts');
    try {
      return { store: await EtcdStore.open({ endpoints }), description: `etcd ${endpoints.join(',')}` };
    } catch (error) {
      throw new CommandFailedError(`cannot use etcd at ${endpoints.join(',')}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }
  if (values['in-memory'] === true) {
    return { store: await MemoryStore.open({ onBackgroundError }), description: 'in memory, not persisted' };
  }
  const dataDir = resolve(io.cwd, values['data-dir'] ?? '.weft-agent');
  try {
    return {
      store: await MemoryStore.open({ dataDir, onBackgroundError }),
      description: `embedded, ${dataDir}`,
    };
  } catch (error) {
    throw new CommandFailedError(`cannot open the data directory ${dataDir}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** `etcd://a:2379,b:2379` → `http://a:2379`, `http://b:2379`; `etcds://` for TLS. */
export function etcdEndpoints(url: string): string[] {
  const match = /^(etcds?):\/\/(.+)$/.exec(url);
  if (match === null)
    throw new UsageError(`--store must be etcd://host:port[,host:port...], not "${url}"`, NAME);
  const scheme = match[1] === 'etcds' ? 'https' : 'http';
  const hosts = (match[2] ?? '').replace(/\/$/, '').split(',');
  for (const host of hosts) {
    if (!/^[^\s/:,]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(host)) {
      throw new UsageError(`--store: "${host}" is not host:port`, NAME);
    }
  }
  return hosts.map((host) => `${scheme}://${host}`);
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_AGENT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new UsageError(`--port must be 0-65535, not "${text}"`, NAME);
  return port;
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeFields(fields: Readonly<Record<string, unknown>>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${value instanceof Error ? value.message : JSON.stringify(value)}`)
    .join(' ');
}

function parseSelfCheckInterval(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === '0') return 0;
  const parsed = parseDurationMs(value);
  if (!parsed.ok) throw new UsageError(`--self-check-interval: ${parsed.reason}`, NAME);
  return parsed.ms;
}
