import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  destinationRule,
  joinDocuments,
  virtualServiceRoutes as virtualService,
} from '../../core/test/support/istio-yaml.ts';
import { callList, callUnary } from './support/calls.ts';
import { createScenario, SERVICE } from './support/mesh-scenario.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

describe('call events (the telemetry seam)', () => {
  it('reports each call with its protocol, method, route, subset, endpoint, status and retries', async () => {
    const byVersion = await scenario.startVersions(['v1', 'v2']);
    const { client, events } = scenario.open(
      joinDocuments(
        destinationRule(SERVICE, '', ['v1', 'v2']),
        virtualService(
          SERVICE,
          `- name: lists-to-v2
  match: [{ uri: { exact: /weft.test.Echo/List } }]
  route: [{ destination: { host: ${SERVICE}, subset: v2 } }]
- name: aborted
  match: [{ uri: { exact: /weft.test.Echo/Post } }]
  route: [{ destination: { host: ${SERVICE}, subset: v1 } }]
  fault: { abort: { grpcStatus: ABORTED, percentage: { value: 100 } } }`,
        ),
      ),
    );

    await callList(client, { text: 'l', count: 1 });
    await callUnary(client, 'Post');
    await callUnary(client, 'Get');

    const v2 = byVersion.get('v2');
    expect(events.calls).toEqual([
      expect.objectContaining({
        type: 'grpc-client-call',
        requestProtocol: 'grpc',
        method: '/weft.test.Echo/List',
        callType: 'server-streaming',
        destinationHost: 'reviews.default.svc.cluster.local',
        destinationPort: 9080,
        route: 'lists-to-v2',
        cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local',
        subset: 'v2',
        endpoint: `127.0.0.1:${v2?.port}`,
        grpcStatus: Status.OK,
        grpcStatusName: 'OK',
        attempts: 1,
        retries: 0,
        responseFlags: [],
      }),
      expect.objectContaining({
        method: '/weft.test.Echo/Post',
        callType: 'unary',
        route: 'aborted',
        grpcStatus: Status.ABORTED,
        grpcStatusName: 'ABORTED',
        attempts: 0,
        responseFlags: ['FI'],
        errorCode: 'WEFT_ERR_FAULT_INJECTED',
      }),
      // Get matches no route: NR, and no attempt.
      expect.objectContaining({
        method: '/weft.test.Echo/Get',
        grpcStatusName: 'UNIMPLEMENTED',
        responseFlags: ['NR'],
        attempts: 0,
      }),
    ]);
    expect(events.calls[2]?.route).toBeUndefined();
    expect(events.attempts.map((event) => [event.route, event.subset, event.attempt, event.outcome])).toEqual(
      [['lists-to-v2', 'v2', 1, 'response']],
    );
  });
});
