import { connect as tlsConnect } from 'node:tls';
import { status as Status } from '@grpc/grpc-js';
import { secureContextOptions, type UpstreamTlsEvent } from '@weft/core';
import { createTestCa, TestIdentity } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRule } from '../../core/test/support/istio-yaml.ts';
import { PLAINTEXT_TRANSPORT } from '../src/index.ts';
import { callUnary } from './support/calls.ts';
import {
  createSecurePair,
  PRODUCTPAGE_ID,
  peerAuthentication,
  REVIEWS_ID,
  TRUST_DOMAIN,
} from './support/secure-pair.ts';

const pair = createSecurePair();
afterEach(() => pair.close());

function tlsEventsOf(mesh: {
  events: { tls: { on(listener: (event: UpstreamTlsEvent) => void): unknown } };
}) {
  const events: UpstreamTlsEvent[] = [];
  mesh.events.tls.on((event) => events.push(event));
  return events;
}

describe('mTLS from the mesh identity', () => {
  it('makes an mTLS call with the workload’s SVID, each side verifying the other’s SPIFFE ID', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('STRICT') });
    const productpage = pair.caller(reviews);
    const handshakes = tlsEventsOf(productpage.mesh);

    const result = await callUnary(productpage.client, 'Get', { text: 'secure' });

    expect([result.code, result.reply?.text]).toEqual([Status.OK, 'secure']);
    // The server verified the client's SVID and its policies see it as the caller.
    expect(reviews.seen.map((call) => [call.spiffeId, call.peerIdentity?.principal])).toEqual([
      [PRODUCTPAGE_ID, 'cluster.local/ns/default/sa/productpage'],
    ]);
    expect(reviews.seen[0]?.sni).toBe('outbound_.9080_._.reviews.default.svc.cluster.local');
    // The client accepted the server as one of the identities `reviews` runs as (auto-mTLS).
    expect(handshakes).toMatchObject([
      {
        type: 'handshake',
        mode: 'ISTIO_MUTUAL',
        isAuto: true,
        peer: REVIEWS_ID,
        endpoint: `127.0.0.1:${reviews.echo.port}`,
      },
    ]);
  });

  it('refuses a server whose SVID is not an identity the destination runs as, without retrying', async () => {
    const impostor = await pair.server({ serviceAccount: 'ratings', yaml: peerAuthentication('STRICT') });
    const productpage = pair.caller(impostor);
    const handshakes = tlsEventsOf(productpage.mesh);

    const result = await callUnary(productpage.client, 'Get');

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.UNAVAILABLE,
      ['UF'],
      'WEFT_ERR_UNAUTHENTICATED',
    ]);
    expect(result.error?.details).toContain('spiffe://cluster.local/ns/default/sa/ratings');
    expect(handshakes.map((event) => event.type === 'handshake-failed' && event.reason)).toEqual([
      'identity-not-allowed',
    ]);
    expect(impostor.echo.seen).toEqual([]);
  });

  it('refuses plaintext under STRICT, and a client certificate of another CA', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('STRICT') });
    const plaintext = pair.caller(reviews, { name: 'legacy', identity: null });
    // Its SVID is signed by another CA; it trusts the mesh's root, so only the server can refuse.
    const foreign = createTestCa(TRUST_DOMAIN).workload('default', 'stranger');
    const stranger = pair.caller(reviews, {
      name: 'stranger',
      identity: new TestIdentity({ ...foreign, trustBundlePem: [pair.ca.rootPem] }),
    });

    const refusedPlaintext = await callUnary(plaintext.client, 'Get');
    const refusedStranger = await callUnary(stranger.client, 'Get');

    // A refused connection is a connect failure (retried, then UF,URX), never a call to the handler.
    expect([refusedPlaintext.code, refusedPlaintext.flags[0]]).toEqual([Status.UNAVAILABLE, 'UF']);
    expect(refusedStranger.code).toBe(Status.UNAVAILABLE);
    expect(reviews.echo.seen).toEqual([]);
    // Both were refused at the connection, each counted as PeerAuthentication's denial. (A Node
    // server closes the refused TLS connection without an alert, so the stranger sees a failed
    // connect, as it would an unreachable server.)
    expect(reviews.mesh.telemetry.stats.get('weft.denials.peer-authentication')).toBeGreaterThanOrEqual(2);
  });

  it('serves a plaintext and an mTLS caller on one port under PERMISSIVE', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('PERMISSIVE') });
    const secure = pair.caller(reviews);
    const legacy = pair.caller(reviews, { name: 'legacy', identity: null });

    const overMtls = await callUnary(secure.client, 'Get', { text: 'mtls' });
    const overPlaintext = await callUnary(legacy.client, 'Get', { text: 'plain' });

    expect([overMtls.reply?.text, overPlaintext.reply?.text]).toEqual(['mtls', 'plain']);
    expect(reviews.seen.map((call) => [call.localPort, call.spiffeId])).toEqual([
      [reviews.echo.port, PRODUCTPAGE_ID],
      [reviews.echo.port, undefined],
    ]);
  });

  it('moves new calls to mTLS once the workload gets its identity, and to plaintext under tls DISABLE', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('PERMISSIVE') });
    const productpage = pair.caller(reviews, { identity: null });

    await callUnary(productpage.client, 'Get', { text: 'before' });
    productpage.mesh.setIdentity(new TestIdentity(pair.ca.workload('default', 'productpage')));
    await callUnary(productpage.client, 'Get', { text: 'after' });
    productpage.mesh.applyConfig({ yaml: destinationRule('reviews', 'tls: { mode: DISABLE }') });
    await callUnary(productpage.client, 'Get', { text: 'disabled' });

    expect(reviews.echo.seen.map((call) => call.requests[0]?.text)).toEqual(['before', 'after', 'disabled']);
    expect(reviews.seen.map((call) => call.spiffeId)).toEqual([undefined, PRODUCTPAGE_ID, undefined]);
  });

  it('refuses calls on a plaintext connection opened before the policy became STRICT', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('PERMISSIVE') });
    const legacy = pair.caller(reviews, { name: 'legacy', identity: null });

    const before = await callUnary(legacy.client, 'Get', { text: 'before' });
    reviews.mesh.applyConfig({ yaml: peerAuthentication('STRICT') });
    const after = await callUnary(legacy.client, 'Get', { text: 'after' });

    expect(before.code).toBe(Status.OK);
    expect([after.code, after.errorCode]).toEqual([Status.UNAUTHENTICATED, 'WEFT_ERR_UNAUTHENTICATED']);
    expect(after.error?.details).toContain('PeerAuthentication STRICT');
    expect(reviews.echo.seen.map((call) => call.requests[0]?.text)).toEqual(['before']);
  });

  it('never falls back to plaintext when a DestinationRule asks ISTIO_MUTUAL and there is no certificate', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('PERMISSIVE') });
    const productpage = pair.caller(reviews, {
      identity: null,
      yaml: destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }'),
    });

    const result = await callUnary(productpage.client, 'Get');

    expect([result.code, result.flags[0]]).toEqual([Status.UNAVAILABLE, 'UF']);
    expect(result.error?.details).toContain('no certificate');
    expect(reviews.echo.seen).toEqual([]);
  });

  it('keeps the application’s credentials with PLAINTEXT_TRANSPORT (so STRICT refuses it)', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('STRICT') });
    const productpage = pair.caller(reviews, { client: { transportSecurity: PLAINTEXT_TRANSPORT } });

    const result = await callUnary(productpage.client, 'Get');

    expect(result.code).toBe(Status.UNAVAILABLE);
    expect(reviews.echo.seen).toEqual([]);
  });

  it('presents a renewed certificate on new connections, on both sides', async () => {
    const reviews = await pair.server({ yaml: peerAuthentication('STRICT') });
    // A channel pool of its own per client: the second client makes a new connection.
    const ownPool = { clientOptions: { 'grpc.use_local_subchannel_pool': 1 } };
    const first = pair.caller(reviews, { client: ownPool });
    const identity = first.identity as TestIdentity;
    const before = identity.current()?.serialNumber;

    await callUnary(first.client, 'Get');
    identity.set(pair.ca.workload('default', 'productpage'));
    const second = pair.caller(reviews, { identity, client: ownPool });
    await callUnary(second.client, 'Get');

    const serials = reviews.seen.map((call) =>
      call.authContext.sslPeerCertificate?.serialNumber.toLowerCase(),
    );
    expect(serials).toEqual([before, identity.current()?.serialNumber]);
    expect(serials[0]).not.toBe(serials[1]);

    // The server's renewal: the next handshake presents its new SVID.
    const serverIdentity = reviews.identity as TestIdentity;
    serverIdentity.set(pair.ca.workload('default', 'reviews'));
    const presented = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        {
          host: '127.0.0.1',
          port: reviews.echo.port,
          ...secureContextOptions(identity.current() ?? pair.ca.workload('default', 'productpage')),
          ALPNProtocols: ['h2'],
          checkServerIdentity: () => undefined,
        },
        () => {
          resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
          socket.destroy();
        },
      );
      socket.once('error', reject);
    });
    expect(presented).toBe(serverIdentity.current()?.serialNumber);
  });
});
