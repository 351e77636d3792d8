/**
 * Starts this process's telemetry (start-telemetry.ts) as a side effect of being imported: an
 * entry point's first import, so the SDK is registered before any other module is evaluated.
 * The handle is exported for the entry point's shutdown (flushing the last spans).
 */
import { type ProcessTelemetry, startTelemetry } from './start-telemetry.ts';

export const processTelemetry: ProcessTelemetry = await startTelemetry();
