import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDurationMs } from '@weft/core';
import type { CaOptions } from '../ca/ca-options.ts';
import { UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';

/** `weft agent` flags for its CA (docs/ca.md). */
export const CA_FLAGS = {
  'trust-domain': { type: 'string' },
  'svid-ttl': { type: 'string' },
  'ca-cert': { type: 'string' },
  'ca-key': { type: 'string' },
  'ca-chain': { type: 'string' },
  'ca-root': { type: 'string' },
} as const;

export const CA_FLAGS_HELP = `      --trust-domain TD     SVIDs are spiffe://TD/ns/NS/sa/SA (default cluster.local); every agent on
                            one store must be given the same
      --svid-ttl DURATION   lifetime of workload certificates (default 24h)
      --ca-cert FILE        sign with this CA certificate (root or intermediate) instead of a
      --ca-key FILE           generated root; with its key, the intermediates up to the root
      --ca-chain FILE         (optional), and every root workloads trust (several during a
      --ca-root FILE          rotation). As Istio's plug-in CA: cert, key, chain and root files.`;

type CaFlagValues = { readonly [K in keyof typeof CA_FLAGS]?: string | undefined };

/** The CA options the flags give; reads the plug-in CA files (relative to the working directory). */
export async function caOptionsFromFlags(
  values: CaFlagValues,
  io: CliIo,
  command: string,
): Promise<CaOptions> {
  const options: { -readonly [K in keyof CaOptions]: CaOptions[K] } = {};
  if (values['trust-domain'] !== undefined) options.trustDomain = values['trust-domain'];
  if (values['svid-ttl'] !== undefined) {
    const parsed = parseDurationMs(values['svid-ttl']);
    if (!parsed.ok) throw new UsageError(`--svid-ttl: ${parsed.reason}`, command);
    options.svidTtlMs = parsed.ms;
  }
  const files = {
    cert: values['ca-cert'],
    key: values['ca-key'],
    chain: values['ca-chain'],
    root: values['ca-root'],
  };
  if (Object.values(files).some((file) => file !== undefined)) {
    if (files.cert === undefined || files.key === undefined || files.root === undefined) {
      throw new UsageError(
        'a plug-in CA needs --ca-cert, --ca-key and --ca-root (and --ca-chain for an intermediate)',
        command,
      );
    }
    const read = async (flag: string, file: string): Promise<string> => {
      try {
        return await readFile(resolve(io.cwd, file), 'utf8');
      } catch (error) {
        throw new UsageError(`--${flag}: cannot read ${file}: ${(error as Error).message}`, command, {
          cause: error,
        });
      }
    };
    options.plugged = {
      certificate: await read('ca-cert', files.cert),
      key: await read('ca-key', files.key),
      roots: await read('ca-root', files.root),
      ...(files.chain === undefined ? {} : { chain: await read('ca-chain', files.chain) }),
    };
  }
  return options;
}
