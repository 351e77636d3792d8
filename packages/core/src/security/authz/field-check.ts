import type { Predicate } from './predicate.ts';
import type { RequestFacts } from './request-facts.ts';

/** One compiled field of a rule (`principals`, `notPaths`, one `when` condition, …). */
export interface FieldCheck {
  readonly predicate: Predicate;
  /** Needs an HTTP request (methods, paths, hosts, request principals, headers, JWT claims). */
  readonly isHttpOnly: boolean;
}

/** What every field compiler needs to know about the policy the field belongs to. */
export interface FieldContext {
  /** The policy's namespace (`serviceAccounts: [sa]` means `<namespace>/sa`). */
  readonly namespace: string;
  /**
   * What a negative form (`notPrincipals`, `notValues`) gives when the attribute is absent (no mTLS
   * identity, no JWT, no such header). Istio's answer is "matches"; Weft keeps it for DENY, AUDIT
   * and CUSTOM (so a DENY with `notValues` is never silently skipped, bad-inputs D23) but makes it
   * "does not match" for ALLOW, so an absent attribute can never be what lets a request in (E5).
   */
  readonly absentMatches: boolean;
}

/** The checks and the reasons a field could not be compiled (the rule then fails closed). */
export interface FieldChecks {
  readonly checks: FieldCheck[];
  readonly problems: string[];
}

export function emptyFieldChecks(): FieldChecks {
  return { checks: [], problems: [] };
}

/**
 * The positive and negative checks of one attribute: the positive form needs the attribute present
 * and matching; the negative form needs it present and not matching, or absent per `absentMatches`.
 */
export function attributeChecks<T>(
  into: FieldChecks,
  read: (facts: RequestFacts) => T | undefined,
  positive: ((value: T) => boolean) | undefined,
  negative: ((value: T) => boolean) | undefined,
  options: { readonly absentMatches: boolean; readonly isHttpOnly: boolean },
): void {
  const { absentMatches, isHttpOnly } = options;
  if (positive !== undefined) {
    into.checks.push({
      isHttpOnly,
      predicate: (facts) => {
        const value = read(facts);
        return value !== undefined && positive(value);
      },
    });
  }
  if (negative !== undefined) {
    into.checks.push({
      isHttpOnly,
      predicate: (facts) => {
        const value = read(facts);
        return value === undefined ? absentMatches : !negative(value);
      },
    });
  }
}

/** A rule list field, checked for shape: undefined when absent or empty, a problem when malformed. */
export function stringList(
  into: FieldChecks,
  owner: string,
  field: string,
  value: unknown,
): readonly string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    into.problems.push(`${owner}.${field} is not a list of strings`);
    return undefined;
  }
  return value.length === 0 ? undefined : value.map(String);
}

/** Any of `values` (a list attribute such as audiences) matches. */
export function someMatch(test: (value: string) => boolean): (values: readonly string[]) => boolean {
  return (values) => {
    for (const value of values) if (test(value)) return true;
    return false;
  };
}
