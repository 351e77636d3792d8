/**
 * Where jwtRules look for tokens (`fromHeaders`, `fromParams`, `fromCookies`; by default the
 * `Authorization: Bearer` header and the `access_token` query parameter, as Istio), and how a
 * request's token is found in them. Places are merged across rules: a place several rules read is
 * read once, and the token found there is a candidate for each of them.
 */
export interface TokenPlace {
  /** `header:<name>`, `param:<name>` or `cookie:<name>`: one place, however many rules read it. */
  readonly key: string;
  readonly kind: 'header' | 'param' | 'cookie';
  readonly name: string;
  /** Header places: prefixes rules expect before the token, longest first, with their rules. */
  readonly prefixes: readonly { readonly prefix: string; readonly ruleIndexes: readonly number[] }[];
}

export interface TokenLocationSpec {
  readonly fromHeaders?: readonly { readonly name: string; readonly prefix?: string }[];
  readonly fromParams?: readonly string[];
  readonly fromCookies?: readonly string[];
}

const DEFAULT_HEADER = { name: 'authorization', prefix: 'Bearer ' };
const DEFAULT_PARAM = 'access_token';

export function compileTokenPlaces(rules: readonly TokenLocationSpec[]): readonly TokenPlace[] {
  const places = new Map<
    string,
    { kind: TokenPlace['kind']; name: string; prefixes: Map<string, number[]> }
  >();
  const add = (kind: TokenPlace['kind'], rawName: string, prefix: string, ruleIndex: number) => {
    // Header names are case-insensitive; parameter and cookie names are not.
    const name = kind === 'header' ? rawName.toLowerCase() : rawName;
    const key = `${kind}:${name}`;
    let place = places.get(key);
    if (place === undefined) {
      place = { kind, name, prefixes: new Map() };
      places.set(key, place);
    }
    place.prefixes.set(prefix, [...(place.prefixes.get(prefix) ?? []), ruleIndex]);
  };
  rules.forEach((rule, index) => {
    const headers = rule.fromHeaders ?? [];
    const params = rule.fromParams ?? [];
    const cookies = rule.fromCookies ?? [];
    if (headers.length + params.length + cookies.length === 0) {
      add('header', DEFAULT_HEADER.name, DEFAULT_HEADER.prefix, index);
      add('param', DEFAULT_PARAM, '', index);
    }
    for (const header of headers) add('header', header.name, header.prefix ?? '', index);
    for (const param of params) add('param', param, '', index);
    for (const cookie of cookies) add('cookie', cookie, '', index);
  });
  return [...places].map(([key, place]) => ({
    key,
    kind: place.kind,
    name: place.name,
    prefixes: [...place.prefixes]
      .map(([prefix, ruleIndexes]) => ({ prefix, ruleIndexes }))
      .sort((a, b) => b.prefix.length - a.prefix.length),
  }));
}

/** What authentication reads of a request: headers (lower-case names) and the query string. */
export interface TokenSource {
  readonly header?: (name: string) => string | undefined;
  /** `''` or the query with its `?`. */
  readonly query?: string;
}

/** The token(s) found in one place, with the rules that read it there. */
export interface FoundToken {
  readonly place: TokenPlace;
  readonly tokens: readonly string[];
  readonly ruleIndexes: readonly number[];
}

/**
 * The tokens in `place`. A header is one token after the longest prefix it carries (compared
 * without ASCII case, as `Bearer` is a case-insensitive scheme); a header without any expected
 * prefix holds no token for these rules. Parameters and cookies may repeat, and each occurrence
 * is a token: repetition is refused later, never resolved by picking one.
 */
export function tokensIn(place: TokenPlace, request: TokenSource): FoundToken | undefined {
  switch (place.kind) {
    case 'header': {
      const value = request.header?.(place.name);
      if (value === undefined) return undefined;
      for (const { prefix, ruleIndexes } of place.prefixes) {
        if (!startsWithIgnoringCase(value, prefix)) continue;
        const token = value.slice(prefix.length).trim();
        return token === '' ? undefined : { place, tokens: [token], ruleIndexes };
      }
      return undefined;
    }
    case 'param': {
      const tokens = queryValues(request.query ?? '', place.name);
      return tokens.length === 0
        ? undefined
        : { place, tokens, ruleIndexes: place.prefixes[0]?.ruleIndexes ?? [] };
    }
    case 'cookie': {
      const tokens = cookieValues(request.header?.('cookie'), place.name);
      return tokens.length === 0
        ? undefined
        : { place, tokens, ruleIndexes: place.prefixes[0]?.ruleIndexes ?? [] };
    }
  }
}

function startsWithIgnoringCase(value: string, prefix: string): boolean {
  return (
    value.length >= prefix.length && value.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()
  );
}

/** Every value of `name` in the query, percent-decoded (an undecodable value is kept as sent). */
function queryValues(query: string, name: string): string[] {
  if (query.length <= 1) return [];
  const values: string[] = [];
  for (const pair of query.slice(1).split('&')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || decode(pair.slice(0, equals)) !== name) continue;
    const value = decode(pair.slice(equals + 1));
    if (value !== '') values.push(value);
  }
  return values;
}

/** Every value of cookie `name` (RFC 6265 `name=value; name2=value2`). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const part of header.split(/[;,]/)) {
    const equals = part.indexOf('=');
    if (equals === -1 || part.slice(0, equals).trim() !== name) continue;
    const value = part
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (value !== '') values.push(value);
  }
  return values;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
