import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { grpcStatusToHttp, httpStatusToGrpc } from '../src/index.ts';
import { parseTarget, weftTarget } from '../src/target/mesh-target.ts';

describe('targets', () => {
  it.each([
    ['weft:///reviews.default:9080', { scheme: 'weft', hostName: 'reviews.default', port: 9080 }],
    ['weft:reviews:9080', { scheme: 'weft', hostName: 'reviews', port: 9080 }],
    ['reviews:9080', { scheme: undefined, hostName: 'reviews', port: 9080 }],
    [
      'Reviews.Default.svc.cluster.local:9080',
      { scheme: undefined, hostName: 'reviews.default.svc.cluster.local', port: 9080 },
    ],
    ['dns:///reviews:9080', { scheme: 'dns', hostName: 'reviews', port: 9080 }],
    ['reviews', { scheme: undefined, hostName: 'reviews', port: undefined }],
    ['127.0.0.1:50051', { scheme: undefined, hostName: '127.0.0.1', port: 50051 }],
    ['[::1]:50051', { scheme: undefined, hostName: '::1', port: 50051 }],
  ])('reads %s', (target, expected) => {
    expect(parseTarget(target)).toEqual(expected);
  });

  it.each(['unix:///tmp/socket', 'reviews:99999', 'reviews:', ':9080', 'weft:///'])(
    'refuses %s',
    (target) => {
      expect(parseTarget(target)).toBeUndefined();
    },
  );

  it('writes the weft: target of a host and port', () => {
    expect([weftTarget('reviews', 9080), weftTarget('::1', 80), weftTarget('reviews', undefined)]).toEqual([
      'weft:///reviews:9080',
      'weft:///[::1]:80',
      'weft:///reviews',
    ]);
  });
});

describe('status mappings', () => {
  it('maps HTTP statuses to gRPC as gRPC’s HTTP mapping does', () => {
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500, 418].map(httpStatusToGrpc)).toEqual([
      Status.INTERNAL,
      Status.UNAUTHENTICATED,
      Status.PERMISSION_DENIED,
      Status.UNIMPLEMENTED,
      Status.UNAVAILABLE,
      Status.UNAVAILABLE,
      Status.UNAVAILABLE,
      Status.UNAVAILABLE,
      Status.UNKNOWN,
      Status.UNKNOWN,
    ]);
  });

  it('maps gRPC statuses to the HTTP statuses outlier detection and breakers judge', () => {
    expect(
      [Status.OK, Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.INTERNAL, Status.NOT_FOUND, 99].map(
        grpcStatusToHttp,
      ),
    ).toEqual([200, 503, 504, 500, 404, 500]);
  });
});
