import { ErrorCodes, WeftError } from '@weft/core';

/** The exit codes of `weft`, the same for every command. */
export const ExitCodes = {
  ok: 0,
  /** The agent refused the request, or the check found errors. */
  failed: 1,
  /** Bad flags or arguments; nothing was done. */
  usage: 2,
  /** The agent could not be reached (or did not answer in time). */
  unreachable: 3,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/**
 * Wrong use of the command line: an unknown flag, a missing argument. Not a WeftError: it never
 * leaves the CLI, and its only consumer is the user reading the message.
 */
export class UsageError extends Error {
  readonly command: string | undefined;

  constructor(message: string, command?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** The command ran and the answer is "no": the message is printed, the exit code is 1. */
export class CommandFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandFailedError';
  }
}

/** No answer from the agent at `url`: refused connection, unknown host, or a timeout. */
export class AgentUnreachableError extends WeftError {
  readonly url: string;

  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCodes.controlPlaneUnavailable, `cannot reach the Weft agent at ${url}: ${reason}`, options);
    this.name = 'AgentUnreachableError';
    this.url = url;
  }
}

/** The agent answered with an HTTP error; `body` is its parsed JSON answer when it sent one. */
export class AgentRequestError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, message: string, body: unknown) {
    super(message);
    this.name = 'AgentRequestError';
    this.status = status;
    this.body = body;
  }
}
