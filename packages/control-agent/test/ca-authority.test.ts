/**
 * The agent's CA without HTTP: agent records in both stores (compare-and-set, persistence), one
 * root for every agent on one store even when they start at once (bad-inputs H4) — on a shared
 * MemoryStore and on a real etcd when one is installed —, the rotation schedule (prepare,
 * activate, retire) on a wall clock the test moves, the operator's plug-in CA, and the warnings
 * that come long before a CA certificate expires (E14).
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCertificate,
  distinguishedName,
  keyIdentifier,
  parseSpiffeId,
  toPem,
  x509Extensions,
} from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serial } from '../../core/test/identity-fixtures.ts';
import { type CaOptions, resolveCaSettings } from '../src/ca/ca-options.ts';
import { CaRefusalError, CertificateAuthority } from '../src/ca/certificate-authority.ts';
import { CaMaterialError } from '../src/ca/signing-authority.ts';
import { EtcdStore } from '../src/store/etcd-store.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import type { RecordStore } from '../src/store/record-store.ts';
import { EtcdServer, etcdSkipReason } from './support/etcd-server.ts';

const DAY_MS = 86_400_000;
const SPIFFE_ID = parseSpiffeId('spiffe://cluster.local/ns/default/sa/reviews');
const silent = { warn: () => {} };

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function memoryStore(dataDir?: string): Promise<MemoryStore> {
  const store = await MemoryStore.open(dataDir === undefined ? {} : { dataDir });
  cleanups.push(() => store.close());
  return store;
}

/** A wall clock the test moves; timers on a fake clock so that nothing runs by itself. */
function wall(startMs = Date.now()) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

async function openCa(
  records: RecordStore,
  options: CaOptions = {},
  wallClock = wall(),
): Promise<CertificateAuthority> {
  const ca = await CertificateAuthority.open({
    records,
    settings: resolveCaSettings(options),
    clock: new FakeClock(),
    wallClock: wallClock.now,
    logger: silent,
  });
  cleanups.push(() => ca.close());
  return ca;
}

function issueOne(ca: CertificateAuthority): X509Certificate {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return ca.issue(SPIFFE_ID, publicKey).certificate;
}

describe('agent records on the embedded store', () => {
  it('creates only if absent, writes only at the expected version, and survives a restart', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'weft-records-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const store = await MemoryStore.open({ dataDir: directory });
    const created = await store.putRecord('ca/authority', { root: 1 }, null);
    expect(created.ok).toBe(true);
    const again = await store.putRecord('ca/authority', { root: 2 }, null);
    expect(again).toEqual({ ok: false, current: created.ok ? created.record : undefined });
    const version = created.ok ? created.record.version : '';
    const updated = await store.putRecord('ca/authority', { root: 3 }, version);
    expect(updated.ok).toBe(true);
    expect((await store.putRecord('ca/authority', { root: 4 }, version)).ok).toBe(false);
    await store.close();
    const reopened = await memoryStore(directory);
    expect((await reopened.getRecord('ca/authority'))?.value).toEqual({ root: 3 });
    expect(await reopened.getRecord('tokens/revocations')).toBeUndefined();
    // Records make no revision: watchers of the mesh see nothing.
    expect((await reopened.mark()).revision).toBe(0);
  });

  it('refuses record names that are not lower-case words joined by "/"', async () => {
    const store = await memoryStore();
    await expect(store.putRecord('../escape', {}, null)).rejects.toThrow(/record name/);
    await expect(store.getRecord('CA')).rejects.toThrow(/record name/);
  });
});

describe('one root for every agent on one store (bad-inputs H4)', () => {
  it('agents that open the CA at the same time on one embedded store all get the same root', async () => {
    const store = await memoryStore();
    const cas = await Promise.all(Array.from({ length: 5 }, () => openCa(store)));
    const versions = new Set(cas.map((ca) => ca.trustBundle()?.version));
    expect(versions.size).toBe(1);
    const [first, second] = cas as [CertificateAuthority, CertificateAuthority];
    // An SVID one agent issues verifies against the root another serves.
    const root = new X509Certificate(second.trustBundle()?.roots[0] ?? '');
    expect(issueOne(first).verify(root.publicKey)).toBe(true);
  });

  it('refuses to start with another trust domain than the stored CA has', async () => {
    const store = await memoryStore();
    await openCa(store);
    await expect(openCa(store, { trustDomain: 'example.org' })).rejects.toThrow(
      /the store's CA is for trust domain cluster.local, but this agent was given example.org/,
    );
  });
});

describe('one root for every agent on one etcd (bad-inputs H4)', () => {
  if (etcdSkipReason !== undefined) {
    it.skip(etcdSkipReason, () => {});
    return;
  }
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
  }, 20_000);
  afterAll(async () => {
    await etcd.close();
  });

  async function etcdStore(prefix: string): Promise<EtcdStore> {
    const store = await EtcdStore.open({ endpoints: etcd.endpoint, prefix, requestTimeoutMs: 2_000 });
    cleanups.push(() => store.close());
    return store;
  }

  it('writes records with revision-guarded transactions', async () => {
    const store = await etcdStore('/weft-records');
    const created = await store.putRecord('tokens/signing-key', { key: 'a' }, null);
    expect(created.ok).toBe(true);
    expect((await store.putRecord('tokens/signing-key', { key: 'b' }, null)).ok).toBe(false);
    const version = created.ok ? created.record.version : '';
    expect((await store.putRecord('tokens/signing-key', { key: 'c' }, version)).ok).toBe(true);
    expect((await store.putRecord('tokens/signing-key', { key: 'd' }, version)).ok).toBe(false);
    expect((await store.getRecord('tokens/signing-key'))?.value).toEqual({ key: 'c' });
  });

  it('agents on separate connections to one etcd, starting at once, agree on one root', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => etcdStore('/weft-shared-ca')));
    const cas = await Promise.all(stores.map((store) => openCa(store)));
    expect(new Set(cas.map((ca) => ca.trustBundle()?.version)).size).toBe(1);
    const root = new X509Certificate(cas[3]?.trustBundle()?.roots[0] ?? '');
    expect(issueOne(cas[0] as CertificateAuthority).verify(root.publicKey)).toBe(true);
  });

  it('a rotation made through one agent is followed by the others on their next refresh', async () => {
    const clock = wall();
    const [a, b] = await Promise.all([etcdStore('/weft-rotating'), etcdStore('/weft-rotating')]);
    const first = await openCa(a as EtcdStore, {}, clock);
    const second = await openCa(b as EtcdStore, {}, clock);
    const changes: string[] = [];
    second.onBundleChange((bundle) => changes.push(bundle.version));
    await first.rotate({ activateAfterMs: 0, overlapMs: DAY_MS });
    await second.refresh();
    expect(changes).toEqual([first.trustBundle()?.version]);
    expect(second.trustBundle()?.roots).toHaveLength(2);
  });
});

describe('root rotation (bad-inputs E13)', () => {
  it('trusts the new root at once, signs with it after activation, and drops the old one after the overlap', async () => {
    const clock = wall();
    const ca = await openCa(await memoryStore(), {}, clock);
    const announced: number[] = [];
    ca.onBundleChange((bundle) => announced.push(bundle.roots.length));
    const oldRoot = new X509Certificate(ca.trustBundle()?.roots[0] ?? '');
    const result = await ca.rotate({ activateAfterMs: 60_000, overlapMs: DAY_MS });
    // Prepare: both roots trusted, the old one still signs.
    expect(ca.trustBundle()?.roots).toHaveLength(2);
    expect(ca.trustBundle()?.signingRootSha256).toBe(result.previousRootSha256);
    expect(issueOne(ca).checkIssued(oldRoot)).toBe(true);
    expect(ca.status().authorities.map((entry) => entry.state)).toEqual(['signing', 'pending']);
    await expect(ca.rotate({ activateAfterMs: 0, overlapMs: 0 })).rejects.toThrow(
      /a rotation is in progress/,
    );
    // Activate.
    clock.advance(60_000);
    await ca.refresh();
    expect(ca.trustBundle()?.signingRootSha256).toBe(result.newRootSha256);
    const newRoot = new X509Certificate(ca.trustBundle()?.roots[1] ?? '');
    expect(issueOne(ca).checkIssued(newRoot)).toBe(true);
    expect(ca.status().authorities.map((entry) => entry.state)).toEqual(['retiring', 'signing']);
    // Retire.
    clock.advance(DAY_MS);
    await ca.refresh();
    expect(ca.trustBundle()?.roots).toHaveLength(1);
    expect(ca.status().authorities.map((entry) => entry.state)).toEqual(['retired', 'signing']);
    expect(announced).toEqual([2, 2, 1]);
  });

  it('is refused for an operator-supplied CA', async () => {
    const ca = await openCa(await memoryStore(), { plugged: pluggedIntermediate() });
    await expect(ca.rotate({ activateAfterMs: 0, overlapMs: 0 })).rejects.toThrow(CaRefusalError);
  });
});

/** An operator's PKI: a root, and an intermediate the agent signs with. */
function pluggedIntermediate(options: { intermediateNotAfter?: Date } = {}) {
  const now = Date.now();
  const rootKeys = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const rootName = distinguishedName([
    { type: 'O', value: 'Example Corp' },
    { type: 'CN', value: 'Example Root' },
  ]);
  const rootDer = buildCertificate(
    {
      serialNumber: serial(),
      issuer: rootName,
      subject: rootName,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 3650 * DAY_MS),
      publicKey: rootKeys.publicKey,
      extensions: [
        x509Extensions.basicConstraints(true),
        x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
        x509Extensions.subjectKeyIdentifier(rootKeys.publicKey),
      ],
    },
    rootKeys.privateKey,
  );
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: 'Example Corp' },
    { type: 'CN', value: 'Mesh Intermediate' },
  ]);
  const intermediateDer = buildCertificate(
    {
      serialNumber: serial(),
      issuer: rootName,
      subject: name,
      notBefore: new Date(now - DAY_MS),
      notAfter: options.intermediateNotAfter ?? new Date(now + 365 * DAY_MS),
      publicKey: keys.publicKey,
      extensions: [
        x509Extensions.basicConstraints(true, 0),
        x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
        x509Extensions.subjectKeyIdentifier(keys.publicKey),
        x509Extensions.authorityKeyIdentifier(keyIdentifier(rootKeys.publicKey)),
      ],
    },
    rootKeys.privateKey,
  );
  return {
    certificate: toPem(intermediateDer, 'CERTIFICATE'),
    key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    chain: toPem(intermediateDer, 'CERTIFICATE'),
    roots: toPem(rootDer, 'CERTIFICATE'),
  };
}

describe('plug-in CA (operator-supplied)', () => {
  it('signs with the intermediate; the SVID chain verifies up to the operator root', async () => {
    const files = pluggedIntermediate();
    const store = await memoryStore();
    const ca = await openCa(store, { plugged: files });
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = ca.issue(SPIFFE_ID, publicKey);
    const [leafPem, intermediatePem] = issued.chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const intermediate = new X509Certificate(intermediatePem ?? '');
    const root = new X509Certificate(files.roots);
    expect(issued.certificate.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(new X509Certificate(leafPem ?? '').serialNumber).toBe(issued.certificate.serialNumber);
    expect(ca.trustBundle()?.roots).toEqual([root.toString()]);
    expect(ca.mode).toBe('plugged');
    // Nothing about a plug-in CA is written to the store.
    expect(await store.getRecord('ca/authority')).toBeUndefined();
  });

  it('refuses files that do not fit together, naming what is wrong', async () => {
    const files = pluggedIntermediate();
    const other = pluggedIntermediate();
    const store = await memoryStore();
    await expect(openCa(store, { plugged: { ...files, key: other.key } })).rejects.toThrow(
      /key does not belong to its certificate/,
    );
    await expect(openCa(store, { plugged: { ...files, roots: other.roots } })).rejects.toThrow(
      /does not chain to any of the roots/,
    );
    await expect(openCa(store, { plugged: { ...files, roots: files.certificate } })).rejects.toThrow(
      CaMaterialError,
    );
    await expect(openCa(store, { plugged: { ...files, certificate: 'not a certificate' } })).rejects.toThrow(
      /not one PEM certificate/,
    );
  });
});

describe('a CA certificate close to expiry, or expired (bad-inputs E14)', () => {
  it('warns 60 days ahead, cuts SVIDs short to its expiry, and refuses to sign once it has expired', async () => {
    const clock = wall();
    const files = pluggedIntermediate({ intermediateNotAfter: new Date(clock.now() + 10 * DAY_MS) });
    const ca = await openCa(await memoryStore(), { plugged: files }, clock);
    expect(ca.status().warnings.join()).toMatch(/expires at .* \(in 9 days\): rotate the CA/);
    clock.advance(10 * DAY_MS - 3_600_000);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const shortened = ca.issue(SPIFFE_ID, publicKey);
    expect(shortened.notAfter.getTime()).toBeLessThanOrEqual(
      new X509Certificate(files.certificate).validToDate.getTime(),
    );
    clock.advance(2 * 3_600_000);
    expect(() => ca.issue(SPIFFE_ID, publicKey)).toThrow(/the CA cannot sign: the CA certificate expired/);
    expect(ca.status().warnings.join()).toMatch(/expired at .*: no SVID can be issued/);
  });
});
