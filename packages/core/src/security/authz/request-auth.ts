/**
 * What request authentication (a verified JWT) tells authorization, Istio's `request.auth.*`
 * attributes. Absent when the request carried no token: `requestPrincipals` then match nothing.
 */
export interface RequestAuth {
  /** `<iss>/<sub>`; absent when the token lacks either claim. */
  readonly principal?: string;
  readonly audiences: readonly string[];
  /** The `azp` claim. */
  readonly presenter?: string;
  /** The verified payload, for `request.auth.claims[...]`. */
  readonly claims: Readonly<Record<string, unknown>>;
  /**
   * Claims whose string value is a space-separated list (`scope` and `permission` always, plus the
   * rule's `spaceDelimitedClaims`), as dotted paths: such a claim also matches each of its words.
   */
  readonly spaceDelimitedClaims: ReadonlySet<string>;
}
