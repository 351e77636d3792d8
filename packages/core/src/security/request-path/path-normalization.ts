/**
 * Request paths, normalized the way Istio's sidecar normalizes them before authorization and
 * routing, so that the policy engine, the router and the application all see one spelling of the
 * path (bad-inputs D1–D6; CVE-2021-31920). The modes are Istio's MeshConfig `pathNormalization`:
 *
 * - `NONE`: the path as sent, without query and fragment. Open to every normalization bypass.
 * - `BASE` (Istio's default): RFC 3986 normalization as Envoy's `normalize_path` does it —
 *   percent-encoded unreserved characters are decoded (`%41` → `A`, `%2E` → `.`), other escapes
 *   get upper-case hex (`%2f` → `%2F`), `\` becomes `/`, and dot segments are removed (RFC 3986
 *   §5.2.4). Repeated slashes and encoded slashes are kept.
 * - `MERGE_SLASHES`: BASE, then runs of `/` become one.
 * - `DECODE_AND_MERGE_SLASHES`: `%2F`, `%2f`, `%5C`, `%5c` are first decoded to `/`, then
 *   MERGE_SLASHES. The safest choice when an application decodes escaped slashes itself.
 *
 * Choices where Istio/Envoy leave room, all fail-closed (the inbound server answers 400):
 * - a path that does not start with `/` (absolute-form, `*`) is refused;
 * - control characters, space, DEL and any non-ASCII character are refused: clients percent-encode
 *   them, and Node hands raw bytes over as Latin-1, so no re-encoding could be faithful;
 * - a `%` not followed by two hex digits, and `%00`, are refused (Envoy refuses `%00` as well);
 * - escapes are never decoded twice, and only one byte at a time: `%252F` stays `%252F`, an
 *   overlong UTF-8 dot (`%C0%AE`) stays encoded and so is never a dot segment;
 * - `;` is an ordinary character (Envoy does not strip path parameters): `/admin;x` is not
 *   `/admin`;
 * - the fragment is dropped and the query is returned apart, unchanged: matching is on the path.
 */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export const PATH_NORMALIZATIONS: readonly PathNormalization[] = Object.freeze([
  'NONE',
  'BASE',
  'MERGE_SLASHES',
  'DECODE_AND_MERGE_SLASHES',
]);

/** Istio's default (MeshConfig `pathNormalization` unset means BASE). */
export const DEFAULT_PATH_NORMALIZATION: PathNormalization = 'BASE';

export type NormalizedPath =
  | {
      readonly ok: true;
      /** The normalized path: what authorization matches and what the application must be given. */
      readonly path: string;
      /** `''`, or the query string with its leading `?`, as sent. */
      readonly query: string;
    }
  | { readonly ok: false; readonly reason: string };

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const DOT = 0x2e;

/**
 * Normalizes a request target (`/a/../b?x=1`) per `mode`. Pure and allocation-free for paths that
 * need no change, which is nearly all of them.
 */
export function normalizeRequestPath(
  target: string,
  mode: PathNormalization = DEFAULT_PATH_NORMALIZATION,
): NormalizedPath {
  const end = pathEnd(target);
  const query = queryOf(target, end);
  if (target.charCodeAt(0) !== SLASH) {
    return refuse(`the path must start with "/" (got ${JSON.stringify(target.slice(0, 32))})`);
  }
  const merge = mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES';
  let needsWork = false;
  for (let i = 0; i < end; i++) {
    const code = target.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) {
      return refuse(
        `the path has the character U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${i}: ` +
          'control characters, spaces and non-ASCII characters must be percent-encoded',
      );
    }
    if (code === PERCENT || code === BACKSLASH) needsWork = true;
    else if (code === SLASH && i + 1 < end) {
      const next = target.charCodeAt(i + 1);
      if (next === DOT || (merge && next === SLASH)) needsWork = true;
    }
  }
  const raw = end === target.length ? target : target.slice(0, end);
  if (mode === 'NONE' || !needsWork) return { ok: true, path: raw, query };
  const decoded = decodeEscapes(raw, mode === 'DECODE_AND_MERGE_SLASHES');
  if (!decoded.ok) return decoded;
  const withoutDots = removeDotSegments(decoded.text);
  return { ok: true, path: merge ? mergeSlashes(withoutDots) : withoutDots, query };
}

/** Where the path ends: at the first `?` or `#`. */
function pathEnd(target: string): number {
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code === 0x3f || code === 0x23) return i;
  }
  return target.length;
}

/** The query with its `?`, without the fragment; `''` when the path ends at a `#` or at the end. */
function queryOf(target: string, end: number): string {
  if (end === target.length || target.charCodeAt(end) !== 0x3f) return '';
  const fragment = target.indexOf('#', end);
  return fragment === -1 ? target.slice(end) : target.slice(end, fragment);
}

function refuse(reason: string): NormalizedPath {
  return { ok: false, reason };
}

type Decoded = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/**
 * One pass over the escapes: unreserved bytes decoded, `\` to `/`, encoded slashes decoded when
 * asked, every other escape kept with upper-case hex (RFC 3986 §6.2.2.1).
 */
function decodeEscapes(path: string, decodeSlashes: boolean): Decoded {
  let out = '';
  let copiedUpTo = 0;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === BACKSLASH) {
      out += `${path.slice(copiedUpTo, i)}/`;
      copiedUpTo = i + 1;
      continue;
    }
    if (code !== PERCENT) continue;
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0) {
      return {
        ok: false,
        reason: `the path has "%" at ${i} without two hex digits after it: write "%25" for a literal "%"`,
      };
    }
    const byte = high * 16 + low;
    if (byte === 0) return { ok: false, reason: `the path has an encoded NUL ("%00") at ${i}` };
    out += path.slice(copiedUpTo, i);
    if (isUnreserved(byte)) out += String.fromCharCode(byte);
    else if (decodeSlashes && (byte === SLASH || byte === BACKSLASH)) out += '/';
    else out += `%${HEX[high]}${HEX[low]}`;
    copiedUpTo = i + 3;
    i += 2;
  }
  return { ok: true, text: out + path.slice(copiedUpTo) };
}

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === DOT ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

/**
 * RFC 3986 §5.2.4 on an absolute path: `.` segments vanish, `..` removes the segment before it
 * (never climbing above the root), and a path ending in a dot segment keeps its trailing `/`.
 * Empty segments (`//`) are segments like any other, as the RFC says.
 */
export function removeDotSegments(path: string): string {
  const input = path.split('/');
  const output: string[] = [];
  for (let i = 1; i < input.length; i++) {
    const segment = input[i] as string;
    const isLast = i === input.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') output.pop();
      if (isLast) output.push('');
      continue;
    }
    output.push(segment);
  }
  return `/${output.join('/')}`;
}

function mergeSlashes(path: string): string {
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}
