/**
 * A control agent in a child process, for chaos tests that kill it (SIGKILL) or stop it and must
 * choose its timing (`weft agent` keeps the 5 s heartbeat, so a stall takes 15 s to see). Run as
 * `node --conditions=@weft/source agent-child.ts '<json AgentChildOptions>'`; prints
 * `listening on <url>` once it serves, and closes its agent and store on SIGTERM.
 */
import { createAgent, EtcdStore, MemoryStore, type Store } from '@weft/control-agent';

export interface AgentChildOptions {
  readonly port?: number;
  /** The embedded store, persisted here (absent: in memory only). */
  readonly dataDir?: string;
  /** etcd instead of the embedded store. */
  readonly etcd?: { readonly endpoint: string; readonly prefix: string };
  readonly heartbeatMs?: number;
  readonly coalesceWindowMs?: number;
  readonly adminToken?: string;
  readonly svidTtlMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as AgentChildOptions;
const store: Store =
  options.etcd === undefined
    ? await MemoryStore.open(options.dataDir === undefined ? {} : { dataDir: options.dataDir })
    : await EtcdStore.open({
        endpoints: options.etcd.endpoint,
        prefix: options.etcd.prefix,
        requestTimeoutMs: 500,
        reconnectDelayMs: { initial: 50, max: 200 },
        progressIntervalMs: 200,
        onBackgroundError: () => {},
      });
const agent = await createAgent({
  store,
  port: options.port ?? 0,
  heartbeatMs: options.heartbeatMs ?? 200,
  coalesceWindowMs: options.coalesceWindowMs ?? 5,
  ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
  ...(options.svidTtlMs === undefined ? {} : { ca: { svidTtlMs: options.svidTtlMs } }),
});
process.stdout.write(`listening on ${agent.url}\n`);
process.once('SIGTERM', () => {
  void agent
    .close()
    .then(() => store.close())
    .finally(() => process.exit(0));
});
