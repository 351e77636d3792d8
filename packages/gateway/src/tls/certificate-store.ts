/**
 * The certificates of terminating servers, read from their files, checked, and kept: each load
 * re-reads the files (they are small) and builds a new secure context only when their content
 * changed. A file that cannot be read or does not hold a usable certificate never replaces a
 * good one: the server keeps serving the last good certificate and the problem is reported; a
 * server that never had one is not served.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { FileField, GatewayServer, TlsTermination } from '../servers/gateway-server.ts';

export interface LoadedCertificate {
  /** The node:tls options the context was made of (a TLS server's default context needs them too). */
  readonly options: SecureContextOptions;
  readonly context: SecureContext;
  /** SHA-256 fingerprint of the leaf, for status and logs. */
  readonly fingerprint: string;
  /** Bumped on every accepted change, so listeners know to swap. */
  readonly version: number;
}

export interface CertificateProblem {
  readonly field: string;
  readonly path: string | undefined;
  readonly reason: string;
}

export type CertificateLoad =
  | { readonly certificate: LoadedCertificate; readonly problem: undefined }
  /** The files changed to something unusable: the previous certificate keeps serving. */
  | { readonly certificate: LoadedCertificate; readonly problem: CertificateProblem }
  | { readonly certificate: undefined; readonly problem: CertificateProblem };

interface Entry {
  readonly contents: string;
  readonly certificate: LoadedCertificate;
}

interface ReadFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
}

export class CertificateStore {
  /** The last good certificate per set of files and TLS options. */
  readonly #entries = new Map<string, Entry>();
  readonly #nowMs: () => number;
  #versions = 0;

  constructor(nowMs: () => number = Date.now) {
    this.#nowMs = nowMs;
  }

  load(server: GatewayServer): CertificateLoad {
    const tls = server.tls as TlsTermination;
    const key = storeKey(tls);
    const previous = this.#entries.get(key);
    const fail = (problem: CertificateProblem): CertificateLoad =>
      previous === undefined
        ? { certificate: undefined, problem }
        : { certificate: previous.certificate, problem };
    const read = readAll(tls);
    if ('reason' in read) return fail(read);
    const contents = `${read.cert}\0${read.key}\0${read.ca ?? ''}`;
    if (previous !== undefined && previous.contents === contents)
      return { certificate: previous.certificate, problem: undefined };
    const built = this.#build(tls, read);
    if ('reason' in built) return fail(built);
    this.#entries.set(key, { contents, certificate: built });
    return { certificate: built, problem: undefined };
  }

  /** Forgets certificates no served server uses any more. */
  retain(servers: readonly GatewayServer[]): void {
    const live = new Set(
      servers.flatMap((server) => (server.tls === undefined ? [] : [storeKey(server.tls)])),
    );
    for (const key of this.#entries.keys()) if (!live.has(key)) this.#entries.delete(key);
  }

  #build(tls: TlsTermination, read: ReadFiles): LoadedCertificate | CertificateProblem {
    const { files } = tls;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(read.cert);
    } catch (error) {
      return problemAt(files.certificate, `not a PEM certificate (${messageOf(error)})`);
    }
    const nowMs = this.#nowMs();
    if (Date.parse(leaf.validTo) <= nowMs)
      return problemAt(files.certificate, `the certificate expired on ${leaf.validTo}`);
    try {
      if (!leaf.checkPrivateKey(createPrivateKey(read.key)))
        return problemAt(
          files.privateKey,
          `the private key does not match the certificate in ${files.certificate.path}`,
        );
    } catch (error) {
      return problemAt(files.privateKey, `not a PEM private key (${messageOf(error)})`);
    }
    if (files.caCertificates !== undefined && read.ca !== undefined) {
      try {
        new X509Certificate(read.ca);
      } catch (error) {
        return problemAt(files.caCertificates, `not a PEM CA certificate (${messageOf(error)})`);
      }
    }
    const options: SecureContextOptions = {
      cert: read.cert,
      key: read.key,
      ...(read.ca === undefined ? {} : { ca: read.ca }),
      ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion }),
      ...(tls.maxVersion === undefined ? {} : { maxVersion: tls.maxVersion }),
      ...(tls.cipherSuites.length === 0 ? {} : { ciphers: tls.cipherSuites.join(':') }),
    };
    let context: SecureContext;
    try {
      context = createSecureContext(options);
    } catch (error) {
      const field =
        tls.cipherSuites.length > 0 && /cipher/i.test(messageOf(error))
          ? 'tls.cipherSuites'
          : files.certificate.field;
      return {
        field,
        path: field === 'tls.cipherSuites' ? undefined : files.certificate.path,
        reason: messageOf(error),
      };
    }
    this.#versions += 1;
    return { options, context, fingerprint: leaf.fingerprint256, version: this.#versions };
  }
}

function readAll(tls: TlsTermination): ReadFiles | CertificateProblem {
  const { files } = tls;
  const cert = readText(files.certificate);
  if (typeof cert !== 'string') return cert;
  const key = readText(files.privateKey);
  if (typeof key !== 'string') return key;
  if (files.caCertificates === undefined) return { cert, key, ca: undefined };
  const ca = readText(files.caCertificates);
  if (typeof ca !== 'string') return ca;
  return { cert, key, ca };
}

function readText(file: FileField): string | CertificateProblem {
  try {
    return readFileSync(file.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return problemAt(file, code === 'ENOENT' ? 'no such file' : `cannot be read (${messageOf(error)})`);
  }
}

function storeKey(tls: TlsTermination): string {
  return JSON.stringify([tls.files, tls.minVersion, tls.maxVersion, tls.cipherSuites]);
}

function problemAt(file: FileField, reason: string): CertificateProblem {
  return { field: file.field, path: file.path, reason };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
