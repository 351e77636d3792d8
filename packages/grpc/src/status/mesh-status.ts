import { Metadata, type status as Status, type StatusObject } from '@grpc/grpc-js';
import type { ErrorCode } from '@weft/core';
import { ERROR_CODE_METADATA, RESPONSE_FLAGS_METADATA } from './response-flags.ts';

/** A status the mesh produced itself (no upstream said it): a fault, a limit, a timeout. */
export interface MeshStatus {
  readonly code: Status;
  readonly details: string;
  /** Envoy-style flags for the flags metadata; none for a configured answer. */
  readonly flags: readonly string[];
  /** The WeftError code, in the error-code metadata. */
  readonly errorCode?: ErrorCode;
}

/** The StatusObject a caller receives for a mesh-made status, flags in its trailing metadata. */
export function toStatusObject(status: MeshStatus): StatusObject {
  const metadata = new Metadata();
  if (status.flags.length > 0) metadata.set(RESPONSE_FLAGS_METADATA, status.flags.join(','));
  if (status.errorCode !== undefined) metadata.set(ERROR_CODE_METADATA, status.errorCode);
  return { code: status.code, details: status.details, metadata };
}
