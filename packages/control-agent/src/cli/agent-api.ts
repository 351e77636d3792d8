import type { ConfigIssue, RegisteredWorkload, ResourceRef, RevisionMark, StoredResource } from '@weft/core';
import { AgentRequestError, AgentUnreachableError, CommandFailedError } from './cli-errors.ts';
import { arrayOf, record } from './json-fields.ts';

export interface AgentApiOptions {
  readonly baseUrl: URL;
  /** Sent as `Authorization: Bearer …` on every request (the agent requires it on writes). */
  readonly token?: string | undefined;
  /** Aborts requests in flight (the CLI's shutdown signal). */
  readonly signal?: AbortSignal;
  /** How long one request may take before the agent counts as unreachable. */
  readonly timeoutMs?: number;
}

interface RequestOptions {
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly contentType?: string;
  /** Statuses that are answers, not failures (e.g. 422 for a refused apply); their body is returned. */
  readonly acceptStatuses?: readonly number[];
}

export interface AgentAnswer {
  readonly status: number;
  readonly body: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The agent's admin API over global fetch: one method per route, JSON in and out. Network
 * failures become AgentUnreachableError (exit 3), HTTP errors AgentRequestError (exit 1) with
 * the agent's own message.
 */
export class AgentApi {
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutMs: number;

  constructor(options: AgentApiOptions) {
    this.#base = options.baseUrl;
    this.#token = options.token;
    this.#signal = options.signal;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The agent's address as the user gave it, for messages. */
  get url(): string {
    return this.#base.href.replace(/\/$/, '');
  }

  // The routes (PROTOCOL.md §4). Answers are read defensively: an agent of another version may
  // add fields or leave some out.

  /** `POST /v1/apply`: a refusal with issues (400 unparsable, 413, 422 invalid) is an answer, not a failure. */
  async apply(
    text: string,
    options: { readonly isDryRun: boolean; readonly namespace?: string | undefined },
  ): Promise<ApplyAnswer> {
    const { status, body } = await this.request('POST', '/v1/apply', {
      query: { dryRun: String(options.isDryRun), namespace: options.namespace },
      body: text,
      contentType: 'application/yaml',
      acceptStatuses: [400, 413, 422],
    });
    const answer = record(body);
    if (status !== 200) {
      const error = record(answer.error);
      const issues = issuesIn(error.issues);
      if (issues.length === 0 && status !== 422) {
        throw new AgentRequestError(
          status,
          `the agent refused the apply: ${String(error.message ?? status)}`,
          body,
        );
      }
      return { ok: false, message: String(error.message ?? `refused (${status})`), issues };
    }
    return {
      ok: true,
      results: arrayOf(answer.results).map((entry) => {
        const result = record(entry);
        return {
          kind: String(result.kind),
          namespace: String(result.namespace),
          name: String(result.name),
          action: String(result.action),
        };
      }),
      warnings: issuesIn(answer.warnings),
      findings: issuesIn(answer.findings),
    };
  }

  async listResources(filter: {
    readonly kind?: string;
    readonly namespace?: string;
  }): Promise<StoredResource[]> {
    const { body } = await this.request('GET', '/v1/resources', { query: filter });
    return arrayOf(record(body).items) as StoredResource[];
  }

  /** One resource, or undefined when the agent has none by that name. */
  async getResource(ref: ResourceRef): Promise<StoredResource | undefined> {
    const { status, body } = await this.request('GET', resourcePath(ref), { acceptStatuses: [404] });
    return status === 404 ? undefined : (body as StoredResource);
  }

  /** Deletes; false when there was nothing to delete. A resourceVersion mismatch is a 409 failure. */
  async deleteResource(ref: ResourceRef, resourceVersion?: string): Promise<boolean> {
    const { status } = await this.request('DELETE', resourcePath(ref), {
      query: { resourceVersion },
      acceptStatuses: [404],
    });
    return status !== 404;
  }

  async workloads(): Promise<RegisteredWorkload[]> {
    const { body } = await this.request('GET', '/v1/workloads');
    return arrayOf(record(body).items) as RegisteredWorkload[];
  }

  async clients(): Promise<ClientRecord[]> {
    const { body } = await this.request('GET', '/v1/clients');
    return arrayOf(record(body).clients).map((entry) => {
      const client = record(entry);
      return {
        clientId: String(client.clientId),
        namespace: String(client.namespace ?? ''),
        workload: String(client.workload ?? ''),
        connected: client.connected === true,
        status: typeof client.status === 'string' ? client.status : '',
        inSyncAt: markOf(client.inSyncAt),
        sent: markOf(client.sent),
        acked: markOf(client.acked),
        nacked: markOf(client.nacked),
        error: typeof client.error === 'string' ? client.error : undefined,
        lastSeen: typeof client.lastSeen === 'string' ? client.lastSeen : undefined,
      };
    });
  }

  /** What the client last reported of its compiled view, or undefined when it has reported none. */
  async clientConfig(
    clientId: string,
  ): Promise<{ readonly acked?: RevisionMark; readonly configDump: unknown } | undefined> {
    const path = `/v1/clients/${encodeURIComponent(clientId)}/config`;
    const { status, body } = await this.request('GET', path, { acceptStatuses: [404] });
    if (status === 404) return undefined;
    const answer = record(body);
    return { acked: markOf(answer.acked), configDump: answer.configDump };
  }

  async analyze(): Promise<ConfigIssue[]> {
    const { body } = await this.request('GET', '/v1/analyze');
    return issuesIn(record(body).findings);
  }

  async health(): Promise<unknown> {
    const { body } = await this.request('GET', '/healthz', { acceptStatuses: [503] });
    return body;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<AgentAnswer> {
    const url = new URL(
      path.replace(/^\//, ''),
      this.#base.href.endsWith('/') ? this.#base : `${this.#base.href}/`,
    );
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = this.#signal === undefined ? timeout : AbortSignal.any([this.#signal, timeout]);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method, headers, body: options.body, signal });
      text = await response.text();
    } catch (error) {
      if (this.#signal?.aborted === true) throw new CommandFailedError('interrupted', { cause: error });
      if (timeout.aborted) {
        throw new AgentUnreachableError(this.url, `no answer within ${this.#timeoutMs / 1000} s`, {
          cause: error,
        });
      }
      throw new AgentUnreachableError(this.url, networkReason(error), { cause: error });
    }
    const body = parseBody(text, response.headers.get('content-type'));
    if (response.ok || options.acceptStatuses?.includes(response.status) === true) {
      return { status: response.status, body };
    }
    throw new AgentRequestError(response.status, errorMessage(response.status, body, method, url), body);
  }
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (contentType?.includes('json') === true || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not JSON after all: the text itself is the most useful thing to show.
      return text;
    }
  }
  return text;
}

/** The agent's own words for a failure, whatever shape its error body has. */
function errorMessage(status: number, body: unknown, method: string, url: URL): string {
  const detail = messageOf(body);
  const prefix = status === 401 || status === 403 ? `${status} (check --token or WEFT_TOKEN)` : `${status}`;
  return `the agent refused ${method} ${url.pathname}: ${prefix}${detail === undefined ? '' : `: ${detail}`}`;
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() === '' ? undefined : body.trim();
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message;
  if (typeof record.error === 'string') return record.error;
  if (record.error !== null && typeof record.error === 'object') return messageOf(record.error);
  return undefined;
}

/** `connection refused`, `host not found`, … from fetch's TypeError and its cause chain. */
function networkReason(error: unknown): string {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return 'connection refused (is `weft agent` running?)';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
    if (code === 'ECONNRESET') return 'connection reset';
    if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timed out';
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
    if (current.cause === undefined) return current.message;
  }
  return String(error);
}

/** What one applied resource became: `created`, `configured` or `unchanged`. */
export interface ApplyResult {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly action: string;
}

export type ApplyAnswer =
  | {
      readonly ok: true;
      readonly results: readonly ApplyResult[];
      /** The parser's warnings (ignored fields, skipped kinds); locations are in the request body. */
      readonly warnings: readonly ConfigIssue[];
      /** `analyze` of the whole config after the apply. */
      readonly findings: readonly ConfigIssue[];
    }
  | { readonly ok: false; readonly message: string; readonly issues: readonly ConfigIssue[] };

/** One client as `GET /v1/clients` reports it. */
export interface ClientRecord {
  readonly clientId: string;
  readonly namespace: string;
  readonly workload: string;
  readonly connected: boolean;
  /** SYNCED, NACKED, STALE or NOT SENT, as the agent judges it. */
  readonly status: string;
  /** When SYNCED: the revision it acked, or a later one that changed nothing it is sent. */
  readonly inSyncAt: RevisionMark | undefined;
  readonly sent: RevisionMark | undefined;
  readonly acked: RevisionMark | undefined;
  readonly nacked: RevisionMark | undefined;
  readonly error: string | undefined;
  /** RFC 3339. */
  readonly lastSeen: string | undefined;
}

function resourcePath(ref: ResourceRef): string {
  return `/v1/resources/${[ref.kind, ref.namespace, ref.name].map(encodeURIComponent).join('/')}`;
}

function markOf(value: unknown): RevisionMark | undefined {
  const mark = record(value);
  return typeof mark.epoch === 'string' && typeof mark.revision === 'number'
    ? { epoch: mark.epoch, revision: mark.revision }
    : undefined;
}

function issuesIn(value: unknown): ConfigIssue[] {
  return arrayOf(value).map((entry) => {
    const issue = record(entry);
    const location = record(issue.location);
    return {
      severity: issue.severity === 'warning' ? 'warning' : 'error',
      code: String(issue.code ?? ''),
      resource: String(issue.resource ?? ''),
      path: String(issue.path ?? ''),
      message: String(issue.message ?? ''),
      location: {
        file: String(location.file ?? '<input>'),
        ...(typeof location.line === 'number' ? { line: location.line } : {}),
        ...(typeof location.column === 'number' ? { column: location.column } : {}),
      },
    };
  });
}
