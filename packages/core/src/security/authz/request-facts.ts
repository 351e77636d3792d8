import { parseAuthority, type RequestAuthority } from '../request-path/request-authority.ts';
import type { AuthzRequest } from './authz-request.ts';
import { type IpAddress, parseIpAddress } from './ip-address.ts';

const NOT_COMPUTED = Symbol('not computed');

/**
 * The request plus what rules derive from it (canonical host, parsed addresses), each computed at
 * most once per request and only if some rule asks. One of these is the only allocation the engine
 * makes for a request it decides locally.
 */
export class RequestFacts {
  readonly request: AuthzRequest;
  #authority: RequestAuthority | undefined | typeof NOT_COMPUTED = NOT_COMPUTED;
  #sourceIp: IpAddress | undefined | typeof NOT_COMPUTED = NOT_COMPUTED;
  #remoteIp: IpAddress | undefined | typeof NOT_COMPUTED = NOT_COMPUTED;
  #destinationIp: IpAddress | undefined | typeof NOT_COMPUTED = NOT_COMPUTED;

  constructor(request: AuthzRequest) {
    this.request = request;
  }

  get authority(): RequestAuthority | undefined {
    if (this.#authority === NOT_COMPUTED) {
      const { authority } = this.request;
      this.#authority = authority === undefined ? undefined : parseAuthority(authority);
    }
    return this.#authority;
  }

  get sourceIp(): IpAddress | undefined {
    if (this.#sourceIp === NOT_COMPUTED) this.#sourceIp = parseIpAddress(this.request.sourceIp);
    return this.#sourceIp;
  }

  get remoteIp(): IpAddress | undefined {
    if (this.#remoteIp === NOT_COMPUTED) {
      const { remoteIp } = this.request;
      this.#remoteIp = remoteIp === undefined ? this.sourceIp : parseIpAddress(remoteIp);
    }
    return this.#remoteIp;
  }

  get destinationIp(): IpAddress | undefined {
    if (this.#destinationIp === NOT_COMPUTED) {
      const { destinationIp } = this.request;
      this.#destinationIp = destinationIp === undefined ? undefined : parseIpAddress(destinationIp);
    }
    return this.#destinationIp;
  }

  /**
   * A header's value with surrounding spaces and tabs removed, as HTTP parsers deliver field values
   * (RFC 9110 §5.5; bad-inputs D14), so `admin ` and `admin` are one value for every layer.
   */
  header(name: string): string | undefined {
    const value = this.request.header?.(name);
    return value === undefined ? undefined : trimOptionalWhitespace(value);
  }
}

function trimOptionalWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOptionalWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isOptionalWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOptionalWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
