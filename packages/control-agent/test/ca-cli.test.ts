/**
 * The identity commands of `weft`, run in-process against a real agent on 127.0.0.1: `weft token
 * create|revoke`, `weft ca status|bundle|rotate`, and `weft agent` with an operator-supplied CA
 * (`--ca-cert/--ca-key/--ca-chain/--ca-root`), with their outputs and exit codes.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate, distinguishedName, keyIdentifier, toPem, x509Extensions } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { serial } from '../../core/test/identity-fixtures.ts';
import { BufferedSink, type CliIo } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import {
  ADMIN_TOKEN,
  call,
  cleanups,
  REVIEWS_ID,
  requestWithToken,
  runCleanups,
  startIdentityAgent,
} from './support/identity-harness.ts';

afterEach(runCleanups);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function weft(
  args: readonly string[],
  options: { shutdown?: AbortSignal; stdout?: BufferedSink; cwd?: string } = {},
): Promise<Run> {
  const stdout = options.stdout ?? new BufferedSink();
  const stderr = new BufferedSink();
  const io: CliIo = {
    stdout,
    stderr,
    readStdin: async () => '',
    env: {},
    cwd: options.cwd ?? process.cwd(),
    now: () => Date.now(),
    shutdown: options.shutdown ?? new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('weft token', () => {
  it('create prints only the token on stdout, and the agent accepts it for that identity', async () => {
    const { url } = await startIdentityAgent();
    const created = await weft([
      'token',
      'create',
      '--namespace',
      'default',
      '--service-account',
      'bookinfo-reviews',
      '--ttl',
      '30m',
      '--agent',
      url,
      '--token',
      ADMIN_TOKEN,
    ]);
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(new RegExp(`^token [0-9a-f-]{36} for ${REVIEWS_ID}, valid until `));
    const token = created.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect((await requestWithToken(url, token)).status).toBe(200);
  });

  it('create without the admin token exits 1 and says to check --token', async () => {
    const { url } = await startIdentityAgent();
    const refused = await weft([
      'token',
      'create',
      '-n',
      'default',
      '--service-account',
      'a',
      '--agent',
      url,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/401 \(check --token or WEFT_TOKEN\)/);
    expect(refused.stdout).toBe('');
  });

  it('revoke by id refuses that token from then on; missing flags are usage errors', async () => {
    const { url } = await startIdentityAgent();
    const created = await weft([
      'token',
      'create',
      '-n',
      'default',
      '--service-account',
      'bookinfo-reviews',
      '-o',
      'json',
      '--agent',
      url,
      '--token',
      ADMIN_TOKEN,
    ]);
    const { token, tokenId } = JSON.parse(created.stdout) as { token: string; tokenId: string };
    const revoked = await weft(['token', 'revoke', tokenId, '--agent', url, '--token', ADMIN_TOKEN]);
    expect(revoked).toMatchObject({ code: 0, stdout: `token ${tokenId} revoked\n` });
    expect((await requestWithToken(url, token)).status).toBe(401);
    expect((await weft(['token', 'create', '-n', 'default', '--agent', url])).code).toBe(2);
    expect((await weft(['token', 'mint', '--agent', url])).code).toBe(2);
  });
});

describe('weft ca', () => {
  it('status lists the roots, bundle prints them as PEM, rotate starts a rotation', async () => {
    const { url } = await startIdentityAgent();
    const status = await weft(['ca', 'status', '--agent', url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^Trust domain: cluster\.local {2}\(generated CA\)\nROOT\s+STATE\s+SUBJECT/,
    );
    expect(status.stdout).toMatch(/SIGNING\s+O=cluster\.local, CN=Weft root CA/);
    const bundle = await weft(['ca', 'bundle', '--agent', url]);
    expect(new X509Certificate(bundle.stdout).ca).toBe(true);
    const rotated = await weft([
      'ca',
      'rotate',
      '--activate-after',
      '5m',
      '--agent',
      url,
      '--token',
      ADMIN_TOKEN,
    ]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(
      /^new root [0-9a-f]{16}… signs from .*; root [0-9a-f]{16}… is trusted until /,
    );
    expect((await weft(['ca', 'status', '--agent', url])).stdout).toMatch(/PENDING/);
    expect(
      (await weft(['ca', 'rotate', '--overlap', 'later', '--agent', url, '--token', ADMIN_TOKEN])).code,
    ).toBe(2);
  });
});

describe('weft agent with a plug-in CA', () => {
  it('signs with the operator intermediate given by --ca-cert/--ca-key/--ca-chain/--ca-root', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'weft-plugged-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const now = Date.now();
    const rootKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rootName = distinguishedName([{ type: 'CN', value: 'Operator Root' }]);
    const rootDer = buildCertificate(
      {
        serialNumber: serial(),
        issuer: rootName,
        subject: rootName,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000 * 365),
        publicKey: rootKeys.publicKey,
        extensions: [
          x509Extensions.basicConstraints(true),
          x509Extensions.subjectKeyIdentifier(rootKeys.publicKey),
        ],
      },
      rootKeys.privateKey,
    );
    const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const caDer = buildCertificate(
      {
        serialNumber: serial(),
        issuer: rootName,
        subject: distinguishedName([{ type: 'CN', value: 'Mesh CA' }]),
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000 * 30),
        publicKey: caKeys.publicKey,
        extensions: [
          x509Extensions.basicConstraints(true, 0),
          x509Extensions.keyUsage(['keyCertSign']),
          x509Extensions.subjectKeyIdentifier(caKeys.publicKey),
          x509Extensions.authorityKeyIdentifier(keyIdentifier(rootKeys.publicKey)),
        ],
      },
      rootKeys.privateKey,
    );
    await writeFile(join(directory, 'ca-cert.pem'), toPem(caDer, 'CERTIFICATE'));
    await writeFile(
      join(directory, 'ca-key.pem'),
      caKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    await writeFile(
      join(directory, 'cert-chain.pem'),
      toPem(caDer, 'CERTIFICATE') + toPem(rootDer, 'CERTIFICATE'),
    );
    await writeFile(join(directory, 'root-cert.pem'), toPem(rootDer, 'CERTIFICATE'));

    const shutdown = new AbortController();
    const stdout = new BufferedSink();
    const running = weft(
      [
        'agent',
        '--port',
        '0',
        '--in-memory',
        '--admin-token',
        ADMIN_TOKEN,
        '--ca-cert',
        'ca-cert.pem',
        '--ca-key',
        'ca-key.pem',
        '--ca-chain',
        'cert-chain.pem',
        '--ca-root',
        'root-cert.pem',
      ],
      { shutdown: shutdown.signal, stdout, cwd: directory },
    );
    let url: string | undefined;
    for (let attempt = 0; attempt < 300 && url === undefined; attempt += 1) {
      url = /listening on (\S+)/.exec(stdout.text)?.[1];
      if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    try {
      const token = (
        await call(url ?? '', 'POST', '/v1/tokens', {
          token: ADMIN_TOKEN,
          body: { namespace: 'default', serviceAccount: 'bookinfo-reviews' },
        })
      ).body.token;
      const answer = await requestWithToken(url ?? '', token);
      expect(answer.status).toBe(200);
      const [leaf, intermediate] = answer.body.certificateChain.split(/(?<=-----END CERTIFICATE-----\n)/);
      expect(new X509Certificate(leaf).verify(new X509Certificate(intermediate).publicKey)).toBe(true);
      expect(answer.body.trustBundle.roots).toEqual([new X509Certificate(rootDer).toString()]);
      expect((await weft(['ca', 'status', '--agent', url ?? ''])).stdout).toMatch(/\(plugged CA\)/);
    } finally {
      shutdown.abort();
      expect((await running).code).toBe(0);
    }
  });

  it('refuses incomplete or unusable plug-in CA files, naming the problem', async () => {
    const missing = await weft(['agent', '--in-memory', '--ca-cert', 'ca.pem']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --ca-cert, --ca-key and --ca-root/);
    const unreadable = await weft([
      'agent',
      '--in-memory',
      '--ca-cert',
      'nope.pem',
      '--ca-key',
      'k',
      '--ca-root',
      'r',
    ]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/--ca-cert: cannot read nope\.pem/);
    const badDomain = await weft(['agent', '--port', '0', '--in-memory', '--trust-domain', 'Example.Org']);
    expect(badDomain.code).toBe(1);
    expect(badDomain.stderr).toMatch(
      /cannot start the CA: trust domain "Example.Org": the trust domain must be lower case/,
    );
  });
});
