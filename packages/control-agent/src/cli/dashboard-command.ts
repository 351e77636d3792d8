import { isIP } from 'node:net';
import { isLoopback } from '../http/admin-auth.ts';
import { ExitCodes } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { arrayOf, record } from './json-fields.ts';

const NAME = 'dashboard';

const OPTIONS = {
  check: { type: 'boolean' },
  mesh: { type: 'boolean' },
} as const;

export const dashboardCommand: Command = {
  name: NAME,
  summary: "Print the URL of the agent's web dashboard (service graph, sync status, analysis)",
  help: `Usage: weft dashboard [--check] [--mesh]

Prints the URL of the dashboard the agent serves (GET /dashboard): the service graph with live
request rate, error rate and latency per edge, each service's routes and policies, each
workload's sync status and certificate, and analyze's findings. Opens nothing: paste the URL
into a browser. The page needs no internet access.

From the agent's own machine (127.0.0.1, localhost) it asks for no login. From anywhere else
the agent asks for its admin token: a browser prompts for it (any user name, the token as the
password), and it is refused outright when the agent has no admin token.

Flags:
      --check   also fetch the dashboard's state once and print a one-line summary
                (exit 3 when the agent cannot be reached, 1 when it refuses)
      --mesh    the graph of every agent on the same etcd, merged (the page's ?scope=mesh):
                each agent otherwise shows what its own clients report`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  expectPositionals(NAME, positionals, []);
  const api = agentFor(values, io, NAME);
  const query = values.mesh === true ? '?scope=mesh' : '';
  const url = `${api.url}/dashboard${query}`;
  io.stdout.write(`${url}\n`);
  if (!isLocal(new URL(api.url).hostname)) {
    io.stderr.write(
      'note: from this address the dashboard asks for the admin token (any user name, the token as the password)\n',
    );
  }
  if (values.check !== true) return ExitCodes.ok;
  const { body } = await api.request('GET', `/v1/dashboard/state${query}`);
  const state = record(body);
  const graph = record(state.graph);
  const reporting = record(state.edgeReporting);
  const workloads = arrayOf(state.workloads).map(record);
  const nacked = workloads.filter((workload) => workload.status === 'NACKED').length;
  const findings = arrayOf(record(state.analysis).findings).length;
  io.stdout.write(
    `served: ${arrayOf(graph.nodes).length} nodes, ${arrayOf(graph.edges).length} edges with traffic, ` +
      `${workloads.length} clients (${String(reporting.reportingClients ?? 0)} reporting edges, ${nacked} NACKed), ` +
      `${findings} analysis findings\n`,
  );
  if (state.peers !== null && state.peers !== undefined) {
    const peers = record(state.peers);
    const missing = arrayOf(peers.missing).map(record);
    io.stdout.write(
      `agents: ${arrayOf(peers.agents).length} merged` +
        (missing.length === 0
          ? '\n'
          : `, ${missing.length} missing (${missing.map((agent) => `${String(agent.url)}: ${String(agent.reason)}`).join('; ')})\n`),
    );
  }
  return ExitCodes.ok;
}

/** Whether a URL's host name is this machine's loopback (where the dashboard needs no login). */
function isLocal(hostname: string): boolean {
  const name = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isIP(name) !== 0 && isLoopback(name);
}
