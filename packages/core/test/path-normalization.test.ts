import { describe, expect, it } from 'vitest';
import {
  type NormalizedPath,
  normalizeRequestPath,
  type PathNormalization,
} from '../src/security/request-path/path-normalization.ts';
import { parseAuthority } from '../src/security/request-path/request-authority.ts';

function pathOf(result: NormalizedPath): string {
  if (!result.ok) expect.fail(`expected the path to be accepted, got: ${result.reason}`);
  return result.path;
}

const normalize = (target: string, mode?: PathNormalization) => pathOf(normalizeRequestPath(target, mode));

describe('path normalization: BASE, Istio default', () => {
  it('is the default mode', () => {
    expect(normalize('/a/../b')).toBe('/b');
  });

  it.each([
    ['/a/b/../c', '/a/c'],
    ['/a/./b', '/a/b'],
    ['/..', '/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/..', '/'],
    ['/a/.', '/a/'],
    ['/a/b/..', '/a/'],
    ['/./a', '/a'],
    ['/a//../b', '/a/b'],
    ['/a/...', '/a/...'],
    ['/a/..b/c', '/a/..b/c'],
  ])('removes dot segments per RFC 3986 §5.2.4: %s → %s', (input, expected) => {
    expect(normalize(input, 'BASE')).toBe(expected);
  });

  it.each([
    ['/a/%2e%2e/admin', '/admin'],
    ['/a/%2E%2E/admin', '/admin'],
    ['/a/%2e/admin', '/a/admin'],
    ['/%2e%2e%2fadmin', '/..%2Fadmin'],
    ['/%41dmin', '/Admin'],
    ['/%7euser', '/~user'],
    ['/a%2db_c', '/a-b_c'],
  ])('decodes percent-encoded unreserved characters before removing dots: %s → %s', (input, expected) => {
    expect(normalize(input, 'BASE')).toBe(expected);
  });

  it('converts backslashes to slashes (Istio BASE: \\da → /da)', () => {
    expect(normalize('/\\da', 'BASE')).toBe('//da');
    expect(normalize('/a\\..\\admin', 'BASE')).toBe('/admin');
  });

  it('keeps repeated slashes and encoded slashes, with upper-case hex', () => {
    expect(normalize('//admin', 'BASE')).toBe('//admin');
    expect(normalize('/a%2fb', 'BASE')).toBe('/a%2Fb');
    expect(normalize('/a%5cb', 'BASE')).toBe('/a%5Cb');
  });

  it('never decodes twice: %252F stays an encoded percent sign', () => {
    expect(normalize('/a%252Fb', 'BASE')).toBe('/a%252Fb');
    expect(normalize('/a%252e%252e/b', 'DECODE_AND_MERGE_SLASHES')).toBe('/a%252e%252e/b');
  });

  it('leaves overlong UTF-8 dots encoded, so they are never dot segments', () => {
    expect(normalize('/a/%c0%ae%c0%ae/admin', 'DECODE_AND_MERGE_SLASHES')).toBe('/a/%C0%AE%C0%AE/admin');
  });

  it('keeps ";" path parameters as ordinary characters', () => {
    expect(normalize('/admin;x=1/..;/b', 'MERGE_SLASHES')).toBe('/admin;x=1/..;/b');
  });

  it('returns paths that need nothing as the very same string', () => {
    const path = '/api/v1/items';
    expect(normalize(path)).toBe(path);
  });
});

describe('path normalization: MERGE_SLASHES and DECODE_AND_MERGE_SLASHES', () => {
  it('merges slashes after removing dot segments', () => {
    expect(normalize('//admin', 'MERGE_SLASHES')).toBe('/admin');
    expect(normalize('/a///b//', 'MERGE_SLASHES')).toBe('/a/b/');
    expect(normalize('/a//../b', 'MERGE_SLASHES')).toBe('/a/b');
  });

  it('keeps encoded slashes under MERGE_SLASHES', () => {
    expect(normalize('/a%2F%2Fb', 'MERGE_SLASHES')).toBe('/a%2F%2Fb');
  });

  it.each([
    ['/admin%2Fusers', '/admin/users'],
    ['/admin%2fusers', '/admin/users'],
    ['/admin%5Cusers', '/admin/users'],
    ['/admin%5cusers', '/admin/users'],
    ['/x%2F..%2Fadmin', '/admin'],
    ['/%2F%2Fadmin', '/admin'],
  ])('decodes %%2F and %%5C before merging under DECODE_AND_MERGE_SLASHES: %s → %s', (input, expected) => {
    expect(normalize(input, 'DECODE_AND_MERGE_SLASHES')).toBe(expected);
  });
});

describe('path normalization: NONE', () => {
  it('changes nothing but query and fragment', () => {
    expect(normalizeRequestPath('/a/../b//c%2f?x=1#y', 'NONE')).toEqual({
      ok: true,
      path: '/a/../b//c%2f',
      query: '?x=1',
    });
  });
});

describe('path normalization: query and fragment', () => {
  it('returns the query apart and drops the fragment', () => {
    expect(normalizeRequestPath('/admin?x=1#frag')).toEqual({ ok: true, path: '/admin', query: '?x=1' });
    expect(normalizeRequestPath('/user/profile#x')).toEqual({ ok: true, path: '/user/profile', query: '' });
    expect(normalizeRequestPath('/admin#?x=1')).toEqual({ ok: true, path: '/admin', query: '' });
    expect(normalizeRequestPath('/admin?')).toEqual({ ok: true, path: '/admin', query: '?' });
  });

  it('does not let dot segments in the query touch the path', () => {
    expect(normalizeRequestPath('/a?b=/../../c')).toEqual({ ok: true, path: '/a', query: '?b=/../../c' });
  });
});

describe('path normalization: refused', () => {
  it.each([
    ['admin', 'must start with "/"'],
    ['*', 'must start with "/"'],
    ['http://example.com/admin', 'must start with "/"'],
    ['', 'must start with "/"'],
    ['/a\u0000b', 'U+0000'],
    ['/a\rb', 'U+000D'],
    ['/a b', 'U+0020'],
    ['/caf\u00e9', 'U+00E9'],
    ['/a\u007fb', 'U+007F'],
    ['/a%zz', 'without two hex digits'],
    ['/a%2', 'without two hex digits'],
    ['/a%', 'without two hex digits'],
    ['/a%00b', '%00'],
  ])('refuses %j (%s)', (input, reason) => {
    const result = normalizeRequestPath(input, 'DECODE_AND_MERGE_SLASHES');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

describe('request authority', () => {
  it.each([
    ['Secret.COM', 'secret.com', undefined],
    ['secret.com:8080', 'secret.com', 8080],
    ['secret.com.', 'secret.com', undefined],
    ['Secret.com.:443', 'secret.com', 443],
    ['[::1]:8080', '[::1]', 8080],
    ['[::1]', '[::1]', undefined],
    ['10.0.0.1:80', '10.0.0.1', 80],
    ['host:', 'host', undefined],
  ])('%s is host %s, port %s', (authority, host, port) => {
    expect(parseAuthority(authority)).toEqual({ host, port });
  });

  it.each(['', 'user@host', 'host/path', 'host:99999', 'host:8x', '[::1', 'a b', 'host?x'])(
    'refuses %j',
    (authority) => {
      expect(parseAuthority(authority)).toBeUndefined();
    },
  );
});
