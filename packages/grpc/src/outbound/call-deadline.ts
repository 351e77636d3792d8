import type { Deadline } from '@grpc/grpc-js';
import { currentRequestContext, remainingMs } from '@weft/core';
import type { IncomingCall } from '../inbound/incoming-call.ts';

/** Which limit a call's deadline comes from: it decides the flag of the DEADLINE_EXCEEDED it ends in. */
export type DeadlineSource = 'route' | 'caller' | 'incoming';

/** A call's deadline on the mesh clock. */
export interface CallDeadline {
  readonly atMs: number;
  readonly source: DeadlineSource;
}

/**
 * The shortest of the route timeout, the caller's own `deadline` and the deadline of the inbound
 * call this one is made for (see incoming-call.ts), on the mesh clock (the one every timer of the
 * call runs on, so tests can fake it). Wall-clock values are epoch milliseconds, converted with
 * one reading of `wallClock`, taken only when a wall-clock deadline is there. Undefined when none
 * applies. A route timeout wins a tie: its flag (UT) says the most.
 */
export function callDeadline(
  nowMs: number,
  wallClock: () => number,
  routeTimeoutMs: number | undefined,
  callerDeadline: Deadline | undefined,
  incomingDeadlineMs: number | undefined,
): CallDeadline | undefined {
  let deadline: CallDeadline | undefined =
    routeTimeoutMs === undefined ? undefined : { atMs: nowMs + routeTimeoutMs, source: 'route' };
  const caller = wallDeadlineMs(callerDeadline);
  const hasCaller = caller !== undefined && Number.isFinite(caller);
  const hasIncoming = incomingDeadlineMs !== undefined && Number.isFinite(incomingDeadlineMs);
  if (!hasCaller && !hasIncoming) return deadline;
  const offsetMs = nowMs - wallClock();
  if (hasCaller && (deadline === undefined || caller + offsetMs < deadline.atMs)) {
    deadline = { atMs: caller + offsetMs, source: 'caller' };
  }
  if (hasIncoming && (deadline === undefined || incomingDeadlineMs + offsetMs < deadline.atMs)) {
    deadline = { atMs: incomingDeadlineMs + offsetMs, source: 'incoming' };
  }
  return deadline;
}

/**
 * The deadline (epoch milliseconds) a call inherits from the inbound request it is made for: the
 * gRPC inbound call's (`incoming`), else that of core's current RequestContext — an HTTP
 * request's, set by @weft/http's inbound server — moved from the mesh clock to the wall clock
 * with one reading of `wallClock`. Undefined outside any inbound request, or when it has none.
 */
export function inheritedDeadlineMs(
  incoming: IncomingCall | undefined,
  wallClock: () => number,
): number | undefined {
  if (incoming !== undefined) return incoming.deadlineMs;
  const context = currentRequestContext();
  const leftMs = context === undefined ? undefined : remainingMs(context);
  return leftMs === undefined ? undefined : wallClock() + leftMs;
}

/** A grpc-js Deadline as epoch milliseconds (Infinity for none). */
export function wallDeadlineMs(deadline: Deadline | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * The wall-clock deadline grpc-js gives an attempt (and sends upstream as `grpc-timeout`): the
 * call's, or the per-try timeout when that is sooner; Infinity when neither applies.
 */
export function attemptWallDeadline(
  deadline: CallDeadline | undefined,
  perTryMs: number | undefined,
  nowMs: number,
  wallNowMs: number,
): number {
  let remainingMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline.atMs - nowMs;
  if (perTryMs !== undefined) remainingMs = Math.min(remainingMs, perTryMs);
  return remainingMs === Number.POSITIVE_INFINITY ? remainingMs : wallNowMs + remainingMs;
}

/**
 * How close to a mesh timer a grpc-js deadline may fire and still be taken for it: grpc-js
 * enforces the same deadline on the wall clock, and the two differ by scheduling noise only.
 */
const DEADLINE_TOLERANCE_MS = 5;

/** Whether a mesh-clock instant has come (or is within the tolerance of coming). */
export function isDue(atMs: number | undefined, nowMs: number): boolean {
  return atMs !== undefined && nowMs + DEADLINE_TOLERANCE_MS >= atMs;
}
